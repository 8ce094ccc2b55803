/* The VPC API calls (/apis/podvm.io/v1/vpcs) and the persisted
 * definitions (STATE_DIR/vpcs/NAME.json, the object without status,
 * written atomically: temp file, fsync, rename, fsync of the dir).
 *
 *   {"apiVersion":"podvm.io/v1","kind":"VPC",
 *    "metadata":{"name":"blue","creationTimestamp":"..."},
 *    "spec":{"cidr":"10.0.0.0/24","dns":["10.0.0.1"]},
 *    "status":{"gateway":"10.0.0.1","podCount":2,"source":"api"}} */
#include "daemon/vpcsvc_priv.h"
#include "util/json.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/log.h"
#include "util/util.h"

#define VPCSVC_DEF_MAX (64 * 1024)

/* ---- definitions on disk ---------------------------------------------------------- */

int vpcsvc_def_write(struct vpcsvc *vs, const struct vpcsvc_vpc *v,
		     struct pv_err *err)
{
	struct json_object *o = vpcsvc_json(v, false);
	char path[VPCSVC_PATH_MAX + 32], tmp[VPCSVC_PATH_MAX + 40];
	const char *text;
	int fd = -1, dfd = -1, ret;

	if (!o)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = util_mkdir_p(vs->defs_dir, 0700, err);
	if (ret < 0)
		goto out;
	if (util_fmt(path, sizeof(path), "%s/%s.json", vs->defs_dir, v->info.name) < 0 ||
	    util_fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
		ret = pv_err_set(err, ENAMETOOLONG, "path too long");
		goto out;
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "create %s", tmp);
		goto out;
	}
	if (!text || util_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		ret = pv_err_sys(err, text ? errno : ENOMEM, "write %s", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		ret = pv_err_sys(err, errno, "rename %s", tmp);
		goto out;
	}
	/* the rename itself must survive a crash */
	dfd = open(vs->defs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		ret = pv_err_sys(err, errno, "fsync %s", vs->defs_dir);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (ret < 0 && fd >= 0)
		unlink(tmp);
	json_object_put(o);
	return ret;
}

int vpcsvc_def_remove(struct vpcsvc *vs, const char *name, struct pv_err *err)
{
	char path[VPCSVC_PATH_MAX + 32];
	int dfd;

	if (util_fmt(path, sizeof(path), "%s/%s.json", vs->defs_dir, name) < 0)
		return pv_err_set(err, ENAMETOOLONG, "path too long");
	if (unlink(path) < 0 && errno != ENOENT)
		return pv_err_sys(err, errno, "remove %s", path);
	dfd = open(vs->defs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* One definition file into the registry. */
static int vpcsvc_def_load(struct vpcsvc *vs, const char *path, const char *name,
			   struct pv_err *err)
{
	struct podsvc_status *st = calloc(1, sizeof(*st));
	struct vpcsvc_vpc *v = calloc(1, sizeof(*v)), *have;
	struct json_object *o = NULL;
	char *text = NULL;
	int ret;

	if (!st || !v) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = util_read_file(path, VPCSVC_DEF_MAX, &text, NULL, err);
	if (ret < 0)
		goto out;
	o = json_tokener_parse(text);
	if (vpcsvc_decode(o, &v->info, &v->created_ms, st) < 0 ||
	    strcmp(v->info.name, name) != 0) {
		/* a corrupt definition is never guessed at */
		ret = pv_err_set(err, EBADMSG, "%s: not the definition of VPC %s%s%s",
				 path, name, st->message[0] ? ": " : "", st->message);
		goto out;
	}
	have = vpcsvc_find_locked(vs, name);
	if (have) {
		if (have->created_ms && v->created_ms)
			have->created_ms = v->created_ms;
		log_info("VPC defined by --vpc and by the API: the flag wins",
			 LOG_STR("vpc", name), LOG_END);
		goto out;
	}
	vpcsvc_insert_locked(vs, v);
	v = NULL;
out:
	json_object_put(o);
	free(text);
	free(v);
	free(st);
	return ret;
}

int vpcsvc_defs_load(struct vpcsvc *vs, struct pv_err *err)
{
	DIR *d = opendir(vs->defs_dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : pv_err_sys(err, errno, "open %s", vs->defs_dir);
	while (ret == 0 && (de = readdir(d))) {
		char name[NETNS_VPC_NAME_MAX + 1], path[VPCSVC_PATH_MAX + 300];
		const char *dot = strchr(de->d_name, '.');
		size_t n = dot ? (size_t)(dot - de->d_name) : 0;

		if (!dot || n == 0 || n > NETNS_VPC_NAME_MAX)
			continue;
		memcpy(name, de->d_name, n);
		name[n] = '\0';
		if (netns_valid_vpc_name(name, NULL) < 0)
			continue;
		if (!strcmp(dot, ".json.tmp")) {
			unlinkat(dirfd(d), de->d_name, 0);   /* a crash mid-write */
			continue;
		}
		if (strcmp(dot, ".json") ||
		    util_fmt(path, sizeof(path), "%s/%s", vs->defs_dir, de->d_name) < 0)
			continue;
		ret = vpcsvc_def_load(vs, path, name, err);
	}
	closedir(d);
	return ret;
}

/* ---- API calls ---------------------------------------------------------------------- */

int vpcsvc_create(struct vpcsvc *vs, const char *body, size_t len, char **out,
		  struct podsvc_status *st)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	struct vpcsvc_vpc *v = calloc(1, sizeof(*v));
	struct pv_err err = { 0 };
	bool locked = false, def = false;
	int ret = -1;

	*out = NULL;
	if (!tok || !v || len > INT32_MAX) {
		vpcsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		goto out;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		vpcsvc_st_set(st, 400, "BadRequest", NULL, "invalid JSON: want one VPC object");
		goto out;
	}
	if (vpcsvc_decode(o, &v->info, NULL, st) < 0)
		goto out;
	v->created_ms = util_wall_ms();
	pthread_mutex_lock(&vs->lock);
	locked = true;
	if (vpcsvc_find_locked(vs, v->info.name)) {
		vpcsvc_st_set(st, 409, "AlreadyExists", v->info.name,
			      "vpcs \"%s\" already exists", v->info.name);
		goto out;
	}
	if (vpcsvc_ctx_ensure_locked(vs, &err) < 0 || vpcsvc_def_write(vs, v, &err) < 0) {
		vpcsvc_st_set(st, 500, "InternalError", v->info.name, "%s", err.msg);
		goto out;
	}
	def = true;
	if (netns_vpc_create(vs->ctx, &v->info, &err) < 0) {
		vpcsvc_st_set(st, 500, "InternalError", v->info.name, "%s", err.msg);
		goto out;
	}
	*out = vpcsvc_text(vpcsvc_json(v, true), st);
	vpcsvc_insert_locked(vs, v);
	log_info("VPC created", LOG_STR("vpc", v->info.name), LOG_END);
	v = NULL;
	def = false;
	ret = *out ? 0 : -1;
out:
	if (def)   /* undo: the VPC was not made */
		vpcsvc_def_remove(vs, v->info.name, NULL);
	if (locked)
		pthread_mutex_unlock(&vs->lock);
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	free(v);
	return ret;
}

/* A name from the URL: anything but a valid VPC name cannot exist. */
static struct vpcsvc_vpc *vpc_lookup_locked(struct vpcsvc *vs, const char *name,
					    struct podsvc_status *st)
{
	struct vpcsvc_vpc *v = netns_valid_vpc_name(name, NULL) == 0
		? vpcsvc_find_locked(vs, name) : NULL;

	if (!v)
		vpcsvc_st_set(st, 404, "NotFound", netns_valid_vpc_name(name, NULL) == 0
			      ? name : NULL, "vpcs \"%.64s\" not found", name);
	return v;
}

int vpcsvc_get(struct vpcsvc *vs, const char *name, char **out,
	       struct podsvc_status *st)
{
	struct vpcsvc_vpc *v;

	*out = NULL;
	pthread_mutex_lock(&vs->lock);
	v = vpc_lookup_locked(vs, name, st);
	if (v)
		*out = vpcsvc_text(vpcsvc_json(v, true), st);
	pthread_mutex_unlock(&vs->lock);
	return *out ? 0 : -1;
}

int vpcsvc_list(struct vpcsvc *vs, char **out, struct podsvc_status *st)
{
	struct json_object *o = json_object_new_object(), *items = NULL;
	bool ok;

	*out = NULL;
	ok = o && util_json_add(o, "apiVersion", json_object_new_string(VPCSVC_API_VERSION)) &&
	     util_json_add(o, "kind", json_object_new_string("VPCList")) &&
	     util_json_add(o, "metadata", json_object_new_object()) &&
	     util_json_add(o, "items", items = json_object_new_array());
	pthread_mutex_lock(&vs->lock);
	for (struct vpcsvc_vpc *v = vs->vpcs; ok && v; v = v->next) {
		struct json_object *j = vpcsvc_json(v, true);

		ok = j && json_object_array_add(items, j) == 0;
		if (!ok)
			json_object_put(j);
	}
	pthread_mutex_unlock(&vs->lock);
	if (!ok) {
		json_object_put(o);
		vpcsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		return -1;
	}
	*out = vpcsvc_text(o, st);
	return *out ? 0 : -1;
}

int vpcsvc_delete(struct vpcsvc *vs, const char *name, char **out,
		  struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	struct vpcsvc_vpc *v;
	int ret = -1;

	*out = NULL;
	pthread_mutex_lock(&vs->lock);
	v = vpc_lookup_locked(vs, name, st);
	if (!v)
		goto out;
	if (v->configured) {
		vpcsvc_st_set(st, 409, "Conflict", name, "vpcs \"%s\" is configured "
			      "by podvmd --vpc: remove the flag and restart podvmd "
			      "to delete it", name);
		goto out;
	}
	if (v->refs) {
		vpcsvc_st_set(st, 409, "Conflict", name, "vpcs \"%s\" has %zu pod(s): "
			      "delete them first", name, v->refs);
		goto out;
	}
	ret = netns_vpc_destroy(vs->ctx, name, 0, &err);
	if (ret < 0) {
		vpcsvc_st_set(st, ret == -EBUSY ? 409 : 500,
			      ret == -EBUSY ? "Conflict" : "InternalError", name,
			      "%s", err.msg);
		ret = -1;
		goto out;
	}
	if (vpcsvc_def_remove(vs, name, &err) < 0)
		log_warn("VPC deleted, its definition file not", LOG_STR("vpc", name),
			 LOG_STR("error", err.msg), LOG_END);
	*out = vpcsvc_text(vpcsvc_json(v, true), st);
	vpcsvc_remove_locked(vs, v);
	free(v);
	log_info("VPC deleted", LOG_STR("vpc", name), LOG_END);
	ret = *out ? 0 : -1;
out:
	pthread_mutex_unlock(&vs->lock);
	return ret;
}

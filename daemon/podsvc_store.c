/* Durable state of the pod service (layout in daemon/podsvc.h).
 *
 * Every file is replaced atomically (".NAME.tmp", write, fsync, rename,
 * fsync the directory), so a crash leaves the old or the new version and
 * at worst a temp file, which loading removes.
 *
 * A change is committed by writing its event file first and the pod record
 * second (podsvc_watch.c). A crash between the two leaves an event newer
 * than its record; loading replays such events onto the records, so the
 * records and the event log always agree and nothing a watcher could have
 * seen is lost. */
#include "daemon/podsvc_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/log.h"

int podsvc_store_write(int dfd, const char *name, const char *data,
		       size_t len, struct pv_err *err)
{
	char tmp[300];
	int fd = -1, ret;

	if (util_fmt(tmp, sizeof(tmp), ".%s.tmp", name) < 0)
		return pv_err_set(err, ENAMETOOLONG, "%s: name too long", name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd < 0)
		return pv_err_sys(err, errno, "create %s", tmp);
	ret = util_write_all(fd, data, len);
	if (ret < 0) {
		ret = pv_err_sys(err, -ret, "write %s", tmp);
		goto out;
	}
	if (fsync(fd) < 0) {
		ret = pv_err_sys(err, errno, "fsync %s", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = pv_err_sys(err, errno, "close %s", tmp);
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) < 0) {
		ret = pv_err_sys(err, errno, "rename %s", name);
		goto out;
	}
	/* the rename itself must survive a crash */
	if (fsync(dfd) < 0)
		ret = pv_err_sys(err, errno, "fsync directory of %s", name);
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlinkat(dfd, tmp, 0);
	return ret;
}

static int store_opendir(struct podsvc *s, const char *sub, int *fd,
			 struct pv_err *err)
{
	char path[PODSVC_PATH_MAX];
	int ret;

	if (util_fmt(path, sizeof(path), "%s%s%s", s->dir, *sub ? "/" : "",
		     sub) < 0)
		return pv_err_set(err, ENAMETOOLONG, "state dir path too long");
	ret = util_mkdir_p(path, 0700, err);
	if (ret < 0)
		return ret;
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return pv_err_sys(err, errno, "open %s", path);
	return 0;
}

int podsvc_store_open_dirs(struct podsvc *s, struct pv_err *err)
{
	int ret, logs = -1;

	ret = store_opendir(s, "", &s->dfd, err);
	if (ret == 0)
		ret = store_opendir(s, "pods", &s->pods_dfd, err);
	if (ret == 0)
		ret = store_opendir(s, "events", &s->events_dfd, err);
	if (ret == 0)
		ret = store_opendir(s, "logs", &logs, err);
	if (logs >= 0)
		close(logs);
	return ret;
}

static bool store_is_tmp(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 4 && !strcmp(name + n - 4, ".tmp");
}

/* A file we cannot use is kept for a human as NAME.corrupt. */
static void store_set_aside(int dfd, const char *dir, const char *name,
			    const char *why)
{
	char aside[300];

	log_error("corrupt state file set aside", LOG_STR("dir", dir),
		  LOG_STR("file", name), LOG_STR("error", why), LOG_END);
	if (util_fmt(aside, sizeof(aside), "%s.corrupt", name) < 0 ||
	    renameat(dfd, name, dfd, aside) < 0)
		unlinkat(dfd, name, 0);
}

static struct json_object *store_parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static uint64_t store_rv_of(struct json_object *obj)
{
	const char *v = podsvc_json_str(obj, "metadata", "resourceVersion");

	return v ? strtoull(v, NULL, 10) : 0;
}

int podsvc_rec_from_obj(struct json_object *obj, struct podsvc_rec **out,
			struct pv_err *err)
{
	struct json_object *in = NULL, *meta, *m2, *spec, *spec2 = NULL, *v,
			   *a;
	struct podsvc_rec *r = NULL;
	const char *uid = podsvc_json_str(obj, "metadata", "uid");
	static const char *const keep[] = { "name", "namespace", "uid",
					    "labels", "annotations" };
	int ret;

	*out = NULL;
	if (!uid || strlen(uid) >= UUID_STR_LEN ||
	    !json_object_object_get_ex(obj, "metadata", &meta) ||
	    !json_object_object_get_ex(obj, "spec", &spec))
		return pv_err_set(err, EINVAL, "not a stored Pod");
	r = calloc(1, sizeof(*r));
	in = json_object_new_object();
	m2 = json_object_new_object();
	if (!r || !in || !m2 || json_object_object_add(in, "metadata", m2)) {
		json_object_put(m2);
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* what pod_decode accepts: the client's part of the object */
	json_object_object_add(in, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(in, "kind", json_object_new_string("Pod"));
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(meta, keep[i], &v))
			json_object_object_add(m2, keep[i], json_object_get(v));
	if (json_object_deep_copy(spec, &spec2, NULL) != 0 ||
	    json_object_object_add(in, "spec", spec2)) {
		json_object_put(spec2);
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	json_object_object_del(spec2, "nodeName");
	ret = pod_decode(in, &r->pod, NULL, err);
	if (ret < 0)
		goto out;
	snprintf(r->uid, sizeof(r->uid), "%s", uid);
	r->rv = store_rv_of(obj);
	r->phase = podsvc_json_phase(obj);
	r->deleting = json_object_object_get_ex(meta, "deletionTimestamp", &v);
	/* per-container state in the agent's order: init containers first */
	for (int pass = 0; pass < 2; pass++) {
		size_t base = pass ? r->pod->n_init_containers : 0;
		size_t n = pass ? r->pod->n_containers : r->pod->n_init_containers;

		if (!json_object_object_get_ex(obj, "status", &v) ||
		    !json_object_object_get_ex(v, pass ? "containerStatuses"
						       : "initContainerStatuses", &a) ||
		    !json_object_is_type(a, json_type_array))
			continue;
		for (size_t i = 0; i < n && i < json_object_array_length(a); i++) {
			struct json_object *c = json_object_array_get_idx(a, i),
					   *sv, *t;

			if (json_object_object_get_ex(c, "state", &sv)) {
				if (json_object_object_get_ex(sv, "running", &t))
					r->ctr_state[base + i] = PODSVC_RUNNING;
				else if (json_object_object_get_ex(sv, "terminated", &t))
					r->ctr_state[base + i] = PODSVC_TERMINATED;
			}
			if (json_object_object_get_ex(c, "restartCount", &t))
				r->ctr_restarts[base + i] = json_object_get_int(t);
		}
	}
	r->obj = json_object_get(obj);
	*out = r;
	r = NULL;
out:
	json_object_put(in);
	podsvc_rec_free(r);
	return ret;
}

static void store_load_pods(struct podsvc *s)
{
	struct pv_err err = { 0 };
	struct json_object *obj;
	struct podsvc_rec *r;
	struct dirent *de;
	char path[PODSVC_PATH_MAX], *text;
	int dfd = dup(s->pods_dfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		log_error("cannot list pod records", LOG_STR("dir", s->dir), LOG_END);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (store_is_tmp(de->d_name)) {
			unlinkat(s->pods_dfd, de->d_name, 0);
			continue;
		}
		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		if (util_fmt(path, sizeof(path), "%s/pods/%s", s->dir,
			     de->d_name) < 0)
			continue;
		obj = NULL;
		r = NULL;
		if (util_read_file(path, PODSVC_RECORD_MAX, &text, NULL, &err) < 0) {
			store_set_aside(s->pods_dfd, "pods", de->d_name, err.msg);
			continue;
		}
		obj = store_parse(text);
		free(text);
		if (!obj || podsvc_rec_from_obj(obj, &r, &err) < 0 ||
		    podsvc_find_uid(s, r->uid) || podsvc_rec_insert(s, r) < 0) {
			store_set_aside(s->pods_dfd, "pods", de->d_name,
					obj ? (err.msg[0] ? err.msg :
					       "duplicate uid or out of memory") :
					"invalid JSON");
			podsvc_rec_free(r);
		} else if (r->rv > s->rv) {
			s->rv = r->rv;
		}
		json_object_put(obj);
	}
	closedir(d);
}

static int store_cmp_rv(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted rvs of events/RV.json; temp files are removed. */
static int store_list_events(struct podsvc *s, uint64_t **out, size_t *n_out)
{
	uint64_t *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *end;
	int dfd = dup(s->events_dfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t rv;

		if (store_is_tmp(de->d_name)) {
			unlinkat(s->events_dfd, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		rv = strtoull(de->d_name, &end, 10);
		if (strcmp(end, ".json") || rv == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = rv;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), store_cmp_rv);
	*out = v;
	*n_out = n;
	return 0;
}

static int store_load_event(struct podsvc *s, uint64_t rv)
{
	struct json_object *ev = NULL, *obj, *t;
	const char *type;
	enum podsvc_evtype et;
	char name[32], *text = podsvc_store_read_event(s, rv), *otext = NULL;
	int ret = -EINVAL;

	snprintf(name, sizeof(name), "%" PRIu64 ".json", rv);
	if (!text)
		goto out;
	ev = store_parse(text);
	if (!ev || !json_object_object_get_ex(ev, "type", &t) ||
	    !json_object_object_get_ex(ev, "object", &obj) ||
	    !json_object_is_type(obj, json_type_object) ||
	    !(type = json_object_get_string(t)))
		goto out;
	if (!strcmp(type, "ADDED"))
		et = PODSVC_ADDED;
	else if (!strcmp(type, "MODIFIED"))
		et = PODSVC_MODIFIED;
	else if (!strcmp(type, "DELETED"))
		et = PODSVC_DELETED;
	else
		goto out;
	otext = podsvc_json_text(obj);
	if (!otext) {
		ret = -ENOMEM;
		goto out;
	}
	ret = podsvc_ring_push(s, rv, et, otext, obj, NULL);
	if (ret == 0)
		otext = NULL;
out:
	if (ret == -EINVAL)
		store_set_aside(s->events_dfd, "events", name, "invalid event");
	free(otext);
	free(text);
	json_object_put(ev);
	return ret;
}

/* An event newer than its pod record: the crash came between the two
 * writes of a commit. Bring the record to the event's state. */
static void store_replay(struct podsvc *s, const struct podsvc_evt *e)
{
	struct pv_err err = { 0 };
	const char *uid = podsvc_json_str(e->obj, "metadata", "uid");
	struct podsvc_rec *r, *nr = NULL;
	char name[UUID_STR_LEN + 8];
	char *text = NULL;

	if (!uid || util_fmt(name, sizeof(name), "%s.json", uid) < 0)
		return;
	r = podsvc_find_uid(s, uid);
	if (r && r->rv >= e->rv)
		return;
	if (e->type == PODSVC_DELETED) {
		if (!r)
			return;
		unlinkat(s->pods_dfd, name, 0);
		podsvc_rec_remove(s, r);
		podsvc_rec_free(r);
		podsvc_log_remove(s, uid);
		return;
	}
	text = podsvc_json_text(e->obj);
	if (!text || podsvc_rec_from_obj(e->obj, &nr, &err) < 0 ||
	    podsvc_store_write(s->pods_dfd, name, text, strlen(text), &err) < 0 ||
	    (!r && podsvc_rec_insert(s, nr) < 0)) {
		log_error("cannot replay event onto pod record",
			  LOG_STR("uid", uid), LOG_STR("error", err.msg), LOG_END);
		podsvc_rec_free(nr);
		free(text);
		return;
	}
	free(text);
	if (r) {
		/* keep the record object (its pointer may be in use); swap in */
		struct podsvc_rec tmp = *r;

		*r = *nr;
		*nr = tmp;
		podsvc_rec_free(nr);
	}
	log_warn("replayed event onto pod record", LOG_STR("uid", uid),
		 LOG_INT("resourceVersion", (long long)e->rv), LOG_END);
}

int podsvc_store_load(struct podsvc *s, struct pv_err *err)
{
	uint64_t *rvs = NULL;
	size_t n = 0, first;
	char path[PODSVC_PATH_MAX], *text = NULL;
	int ret;

	unlinkat(s->dfd, ".outbox.cursor.tmp", 0);   /* a crash mid-write */
	store_load_pods(s);
	ret = store_list_events(s, &rvs, &n);
	if (ret < 0) {
		ret = pv_err_sys(err, -ret, "list %s/events", s->dir);
		goto out;
	}
	first = n > s->max_events ? n - s->max_events : 0;
	for (size_t i = first; i < n; i++) {
		ret = store_load_event(s, rvs[i]);
		if (ret == -ENOMEM) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	ret = 0;
	if (n && rvs[n - 1] > s->rv)
		s->rv = rvs[n - 1];
	s->disk_oldest = n ? rvs[0] : s->rv + 1;
	for (size_t i = 0; i < s->ev_n; i++)
		store_replay(s, &s->ev[(s->ev_head + i) % s->max_events]);
	/* an outbox cursor on disk: a reporter ran and will run again */
	if (util_fmt(path, sizeof(path), "%s/outbox.cursor", s->dir) == 0 &&
	    util_read_file(path, 64, &text, NULL, NULL) == 0) {
		s->outbox_active = true;
		s->outbox_cursor = strtoull(text, NULL, 10);
	}
	podsvc_store_compact(s);
out:
	free(text);
	free(rvs);
	return ret;
}

void podsvc_store_compact(struct podsvc *s)
{
	uint64_t floor = podsvc_ring_oldest(s), ofloor;
	char name[32];

	if (!floor)
		floor = s->rv + 1;
	if (s->outbox_active) {
		/* keep what the control plane has not acknowledged, within
		 * PODSVC_MAX_PENDING */
		ofloor = s->outbox_cursor + 1;
		if (s->rv > PODSVC_MAX_PENDING &&
		    ofloor < s->rv - PODSVC_MAX_PENDING + 1)
			ofloor = s->rv - PODSVC_MAX_PENDING + 1;
		if (ofloor < floor)
			floor = ofloor;
	}
	for (; s->disk_oldest < floor; s->disk_oldest++) {
		snprintf(name, sizeof(name), "%" PRIu64 ".json", s->disk_oldest);
		unlinkat(s->events_dfd, name, 0);
	}
}

char *podsvc_store_read_event(struct podsvc *s, uint64_t rv)
{
	char path[PODSVC_PATH_MAX], *text = NULL;

	if (util_fmt(path, sizeof(path), "%s/events/%" PRIu64 ".json", s->dir,
		     rv) < 0 ||
	    util_read_file(path, PODSVC_RECORD_MAX, &text, NULL, NULL) < 0)
		return NULL;
	return text;
}

uint64_t podsvc_outbox_attach(struct podsvc *s)
{
	uint64_t c;

	pthread_mutex_lock(&s->lock);
	s->outbox_active = true;
	c = s->outbox_cursor;
	pthread_mutex_unlock(&s->lock);
	return c;
}

int podsvc_outbox_ack(struct podsvc *s, uint64_t rv, struct pv_err *err)
{
	char buf[32];
	int ret = 0;

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", rv);
	pthread_mutex_lock(&s->lock);
	if (rv > s->outbox_cursor) {
		ret = podsvc_store_write(s->dfd, "outbox.cursor", buf,
					 strlen(buf), err);
		if (ret == 0) {
			s->outbox_active = true;
			s->outbox_cursor = rv;
			podsvc_store_compact(s);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

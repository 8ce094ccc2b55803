/* Container logs in the CRI format the kubelet writes, so `kubectl logs`
 * style readers (and the API's follow mode) can parse them:
 *
 *   2026-11-24T23:50:52.123456789Z stdout F text\n
 *
 * Output is split at '\n'; a chunk's trailing piece without '\n' is
 * written as "P" (partial): the reader joins P lines until the next F.
 *
 * Files under STATE_DIR/daemon/logs/UID/:
 *   NAME.log            the current instance of container NAME
 *   NAME.log.1          its older part, once NAME.log passed 10 MiB
 *   NAME.log.previous   the instance before the last restart
 *                       (kubectl logs --previous)
 * They stay while the pod record exists (finished pods included) and go
 * with podsvc_finalize_delete. */
#include "daemon/podsvc_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_dir(struct podsvc *s, const char *uid, char *buf, size_t len)
{
	return util_fmt(buf, len, "%s/logs/%s", s->dir, uid);
}

static void log_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%09ldZ", sec, ts.tv_nsec);
}

/* Open NAME.log for appending, rotating it to NAME.log.1 when full. */
static int log_open(const char *path, size_t add)
{
	char old[PODSVC_PATH_MAX];
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (size_t)st.st_size + add > PODSVC_LOG_ROTATE) {
		close(fd);
		if (util_fmt(old, sizeof(old), "%s.1", path) < 0)
			return -ENAMETOOLONG;
		if (rename(path, old) < 0)
			return -errno;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
	}
	return fd;
}

int podsvc_append_log(struct podsvc *s, const char *uid, size_t ctr,
		      bool is_stderr, const uint8_t *data, size_t len)
{
	char dir[PODSVC_PATH_MAX], path[PODSVC_PATH_MAX];
	char name[POD_LABEL_NAME_MAX + 1], stamp[48];
	const char *stream = is_stderr ? "stderr" : "stdout";
	struct podsvc_rec *r;
	size_t lines = 1, cap, off = 0, i = 0;
	char *out = NULL;
	int fd = -1, ret = 0;

	if (!len)
		return 0;
	/* log_mu first: finalize removes the directory under it, so a write
	 * never recreates the logs of a deleted pod */
	pthread_mutex_lock(&s->log_mu);
	pthread_mutex_lock(&s->lock);
	r = podsvc_find_uid(s, uid);
	if (!r)
		ret = -ENOENT;
	else if (ctr >= pod_n_all_containers(r->pod))
		ret = -EINVAL;
	else
		snprintf(name, sizeof(name), "%s", pod_container_at(r->pod, ctr)->name);
	pthread_mutex_unlock(&s->lock);
	if (ret < 0)
		goto out;
	if (log_dir(s, uid, dir, sizeof(dir)) < 0 ||
	    util_fmt(path, sizeof(path), "%s/%s.log", dir, name) < 0) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		goto out;
	}
	for (size_t k = 0; k < len; k++)
		lines += data[k] == '\n';
	log_stamp(stamp, sizeof(stamp));
	cap = len + lines * (strlen(stamp) + 16);
	out = malloc(cap);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	while (i < len) {
		const uint8_t *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
		int h = snprintf(out + off, cap - off, "%s %s %c ", stamp, stream,
				 nl ? 'F' : 'P');

		if (h < 0 || (size_t)h + n + 1 > cap - off) {
			ret = -EOVERFLOW;   /* cannot happen: cap counts lines */
			goto out;
		}
		off += (size_t)h;
		memcpy(out + off, data + i, n);
		off += n;
		out[off++] = '\n';
		i += n + (nl ? 1 : 0);
	}
	fd = log_open(path, off);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = util_write_all(fd, out, off);
out:
	pthread_mutex_unlock(&s->log_mu);
	if (fd >= 0)
		close(fd);
	free(out);
	return ret;
}

void podsvc_log_remove(struct podsvc *s, const char *uid)
{
	char dir[PODSVC_PATH_MAX];

	pthread_mutex_lock(&s->log_mu);
	if (log_dir(s, uid, dir, sizeof(dir)) == 0)
		util_rm_rf(dir, NULL);
	pthread_mutex_unlock(&s->log_mu);
}

void podsvc_log_restarted(struct podsvc *s, const char *uid, const char *ctr)
{
	char dir[PODSVC_PATH_MAX], cur[PODSVC_PATH_MAX], prev[PODSVC_PATH_MAX],
	     rot[PODSVC_PATH_MAX];

	pthread_mutex_lock(&s->log_mu);
	if (log_dir(s, uid, dir, sizeof(dir)) == 0 &&
	    util_fmt(cur, sizeof(cur), "%s/%s.log", dir, ctr) == 0 &&
	    util_fmt(prev, sizeof(prev), "%s/%s.log.previous", dir, ctr) == 0 &&
	    util_fmt(rot, sizeof(rot), "%s/%s.log.1", dir, ctr) == 0) {
		/* the old instance's rotated part is not the new one's */
		unlink(rot);
		if (rename(cur, prev) < 0 && errno == ENOENT)
			unlink(prev);   /* it wrote nothing: empty previous */
	}
	pthread_mutex_unlock(&s->log_mu);
}

int podsvc_log_path(struct podsvc *s, const char *ns, const char *name,
		    const char *container, bool previous, char *path,
		    size_t pathlen, bool *finished, struct podsvc_status *st)
{
	struct podsvc_rec *r;
	const struct pod *pod;
	size_t idx = 0, off;
	int ret = -1;

	*finished = false;
	pthread_mutex_lock(&s->lock);
	r = ns && name ? podsvc_find_name(s, ns, name) : NULL;
	if (!r) {
		podsvc_st_set(st, 404, "NotFound", name ? name : "",
			      "pods \"%.253s\" not found", name ? name : "");
		goto out;
	}
	pod = r->pod;
	if (!container || !*container) {
		if (pod->n_containers != 1) {
			/* Kubernetes' wording, names in spec order */
			podsvc_st_set(st, 400, "BadRequest", pod->name, "a "
				      "container name must be specified for pod "
				      "%s, choose one of: [", pod->name);
			off = strlen(st->message);
			for (size_t i = 0; i < pod->n_containers &&
			     off < sizeof(st->message); i++) {
				int n = snprintf(st->message + off,
						 sizeof(st->message) - off, "%s%s",
						 i ? " " : "",
						 pod->containers[i].name);
				if (n < 0)
					break;
				off += (size_t)n;
			}
			if (off + 1 < sizeof(st->message))
				snprintf(st->message + off,
					 sizeof(st->message) - off, "]");
			goto out;
		}
		idx = pod->n_init_containers;   /* the one regular container */
	} else {
		/* init containers have logs too (agent order) */
		for (idx = 0; idx < pod_n_all_containers(pod); idx++)
			if (!strcmp(pod_container_at(pod, idx)->name, container))
				break;
		if (idx == pod_n_all_containers(pod)) {
			podsvc_st_set(st, 400, "BadRequest", pod->name,
				      "container \"%.63s\" is not valid for pod "
				      "\"%s\"", container, pod->name);
			goto out;
		}
	}
	if (util_fmt(path, pathlen, "%s/logs/%s/%s.log%s", s->dir, r->uid,
		     pod_container_at(pod, idx)->name, previous ? ".previous" : "") < 0) {
		podsvc_st_set(st, 500, "InternalError", NULL,
			      "log path too long");
		goto out;
	}
	if (previous && access(path, F_OK) < 0) {
		podsvc_st_set(st, 400, "BadRequest", pod->name, "previous "
			      "terminated container \"%s\" in pod \"%s\" not "
			      "found", pod_container_at(pod, idx)->name, pod->name);
		goto out;
	}
	/* a previous instance never writes again; the current one stops
	 * once terminated (a restart makes a new file) */
	*finished = previous || r->ctr_state[idx] == PODSVC_TERMINATED ||
		    r->phase == PODSVC_SUCCEEDED || r->phase == PODSVC_FAILED;
	ret = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* GET .../pods/NAME/log: a container's CRI-format log file
 * ("RFC3339NANO stdout|stderr F|P text", P = partial, joined with the next
 * part) as plain text. follow streams new lines until the container is
 * finished: at end of file the stream re-asks podsvc for `finished` and
 * waits 250 ms on the client socket (which also notices a hang-up), so it
 * never busy-loops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_priv.h"
#include "util/util.h"

#define API_LOG_PATH_MAX  4096
#define API_LOG_RAW_MAX   (64 * 1024)   /* raw CRI line kept whole */
#define API_LOG_WAIT_MS   250

struct api_log_stream {
	struct api_server *srv;
	struct MHD_Connection *conn;
	char ns[POD_LABEL_NAME_MAX + 1];
	char name[POD_NAME_MAX + 1];
	char container[POD_LABEL_NAME_MAX + 1];   /* "" = podsvc's default */
	bool previous, follow, timestamps;
	char path[API_LOG_PATH_MAX];
	int fd;
	ino_t ino;
	bool finished_seen;        /* finished before the last read */
	int64_t since_ns;
	int64_t limit_bytes, sent;
	int64_t skip_lines;        /* tailLines: logical lines left to skip */
	bool in_partial;           /* inside a P ... F logical line */
	bool skipping_partial;     /* that line is being skipped */
	bool raw_cont;             /* inside an over-long raw line */
	char raw[API_LOG_RAW_MAX];
	size_t raw_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

static int api_log_put(struct api_log_stream *ls, const char *s, size_t n)
{
	char *nb;
	size_t want;

	if (ls->out_len + n > ls->out_cap) {
		want = ls->out_cap ? ls->out_cap : 16 * 1024;
		while (want < ls->out_len + n)
			want *= 2;
		nb = realloc(ls->out, want);
		if (!nb)
			return -ENOMEM;
		ls->out = nb;
		ls->out_cap = want;
	}
	memcpy(ls->out + ls->out_len, s, n);
	ls->out_len += n;
	return 0;
}

/* Split "TS STREAM TAG text"; false when the line is not CRI-shaped. */
static bool api_cri_split(const char *l, size_t n, size_t *ts_len, bool *partial,
			  const char **text, size_t *text_len)
{
	const char *p = memchr(l, ' ', n), *q, *t;

	if (!p)
		return false;
	*ts_len = (size_t)(p - l);
	q = memchr(p + 1, ' ', n - (size_t)(p + 1 - l));
	if (!q || q + 2 > l + n)
		return false;
	if (q[1] != 'F' && q[1] != 'P')
		return false;
	*partial = q[1] == 'P';
	t = q + 2;
	if (t < l + n && *t == ' ')
		t++;
	else if (t != l + n)
		return false;
	*text = t;
	*text_len = (size_t)(l + n - t);
	return true;
}

/* One complete raw line (without its '\n'). */
static int api_log_line(struct api_log_stream *ls, const char *l, size_t n)
{
	const char *text = l;
	size_t ts_len = 0, text_len = n;
	bool partial = false, starts = !ls->in_partial;
	int ret = 0;

	if (!api_cri_split(l, n, &ts_len, &partial, &text, &text_len)) {
		/* Not CRI: pass it through as one whole line. */
		ts_len = 0;
		partial = false;
		text = l;
		text_len = n;
	}
	if (starts) {
		bool skip = ls->skip_lines > 0;

		if (!skip && ls->since_ns > 0) {
			int64_t t = ts_len ? api_parse_rfc3339_ns(l, ts_len) : -1;

			skip = t >= 0 && t < ls->since_ns;
		}
		ls->skipping_partial = skip;
	}
	if (!partial && ls->skip_lines > 0 && ls->skipping_partial)
		ls->skip_lines--;
	ls->in_partial = partial;
	if (ls->skipping_partial)
		return 0;
	if (starts && ls->timestamps && ts_len) {
		ret = api_log_put(ls, l, ts_len);
		if (ret == 0)
			ret = api_log_put(ls, " ", 1);
	}
	if (ret == 0)
		ret = api_log_put(ls, text, text_len);
	if (ret == 0 && !partial)
		ret = api_log_put(ls, "\n", 1);
	return ret;
}

/* Consume complete lines from raw[]; an over-long line is cut. */
static int api_log_process(struct api_log_stream *ls)
{
	size_t off = 0;
	int ret = 0;

	while (off < ls->raw_len && ret == 0) {
		char *nl = memchr(ls->raw + off, '\n', ls->raw_len - off);
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - (ls->raw + off));
		if (ls->raw_cont) {
			/* the tail of an over-long line */
			if (!ls->skipping_partial)
				ret = api_log_put(ls, ls->raw + off, n + 1);
			ls->raw_cont = false;
			ls->in_partial = false;
		} else {
			ret = api_log_line(ls, ls->raw + off, n);
		}
		off += n + 1;
	}
	memmove(ls->raw, ls->raw + off, ls->raw_len - off);
	ls->raw_len -= off;
	if (ret == 0 && ls->raw_len == sizeof(ls->raw)) {
		/* No newline in 64 KiB: emit what is there, continue raw. */
		if (ls->raw_cont) {
			if (!ls->skipping_partial)
				ret = api_log_put(ls, ls->raw, ls->raw_len);
		} else {
			ret = api_log_line(ls, ls->raw, ls->raw_len);
			if (ls->out_len && ls->out[ls->out_len - 1] == '\n')
				ls->out_len--;
			ls->raw_cont = true;
		}
		ls->raw_len = 0;
	}
	return ret;
}

static int api_log_open(struct api_log_stream *ls)
{
	struct stat st;

	ls->fd = open(ls->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (ls->fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(ls->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(ls->fd);
		ls->fd = -1;
		return -EINVAL;
	}
	ls->ino = st.st_ino;
	return 1;
}

/* Read once: >0 bytes read, 0 at end of file, <0 error. */
static ssize_t api_log_pump(struct api_log_stream *ls)
{
	ssize_t n;

	if (ls->fd < 0) {
		int r = api_log_open(ls);

		if (r <= 0)
			return r;
	}
	n = read(ls->fd, ls->raw + ls->raw_len, sizeof(ls->raw) - ls->raw_len);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	ls->raw_len += (size_t)n;
	return api_log_process(ls) < 0 ? -ENOMEM : n;
}

/* tailLines: count complete logical lines so the stream can skip all but
 * the last N (two passes, no memory per line). */
static int64_t api_log_count_lines(const char *path)
{
	char buf[API_LOG_RAW_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int64_t count = 0;
	size_t field = 0;       /* spaces seen on this line */
	bool partial = false;
	ssize_t n;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (!partial)
					count++;
				field = 0;
				partial = false;
			} else if (buf[i] == ' ' && field < 3) {
				field++;
			} else if (field == 2 && buf[i] == 'P') {
				partial = true;
			}
		}
	}
	close(fd);
	return count;
}

/* At end of file while following: rotated? finished? wait. -1 ends. */
static int api_log_wait(struct api_log_stream *ls)
{
	struct podsvc_status *st;
	struct stat sb;
	bool finished = false;
	int rc;

	if (ls->finished_seen || atomic_load(&ls->srv->stopping))
		return -1;
	if (ls->fd >= 0 && stat(ls->path, &sb) == 0 && sb.st_ino != ls->ino) {
		/* Rotated: the old file is drained, go on with the new one. */
		close(ls->fd);
		ls->fd = -1;
		return 0;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	rc = podsvc_log_path(ls->srv->svc, ls->ns, ls->name,
			     ls->container[0] ? ls->container : NULL,
			     ls->previous, ls->path, sizeof(ls->path), &finished, st);
	free(st);
	if (rc < 0)
		return -1;     /* pod gone */
	if (finished) {
		ls->finished_seen = true;   /* one more read, then the end */
		return 0;
	}
	return api_client_gone(ls->conn, API_LOG_WAIT_MS) ? -1 : 0;
}

static ssize_t api_log_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_log_stream *ls = cls;
	size_t n;
	ssize_t r;

	while (ls->out_off >= ls->out_len) {
		ls->out_off = ls->out_len = 0;
		if (ls->limit_bytes > 0 && ls->sent >= ls->limit_bytes)
			return MHD_CONTENT_READER_END_OF_STREAM;
		r = api_log_pump(ls);
		if (r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (r > 0)
			continue;
		if (!ls->follow || api_log_wait(ls) < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = ls->out_len - ls->out_off;
	if (n > max)
		n = max;
	if (ls->limit_bytes > 0 && (int64_t)n > ls->limit_bytes - ls->sent)
		n = (size_t)(ls->limit_bytes - ls->sent);
	memcpy(buf, ls->out + ls->out_off, n);
	ls->out_off += n;
	ls->sent += (int64_t)n;
	return (ssize_t)n;
}

static void api_log_free(void *cls)
{
	struct api_log_stream *ls = cls;

	if (ls->fd >= 0)
		close(ls->fd);
	free(ls->out);
	free(ls);
}

enum MHD_Result api_h_pod_log(struct api_req *r)
{
	struct podsvc_status *st = calloc(1, sizeof(*st));
	struct api_log_stream *ls = calloc(1, sizeof(*ls));
	struct MHD_Response *resp;
	struct api_query q;
	const char *ns = NULL, *name = NULL;
	enum MHD_Result ret;
	bool finished = false;

	if (ls)
		ls->fd = -1;
	if (!st || !ls) {
		ret = MHD_NO;
		goto out;
	}
	if (api_query_parse(r, &q, st) < 0 ||
	    api_check_names(r, &ns, &name, st) < 0 ||
	    podsvc_log_path(r->srv->svc, ns, name,
			    q.container && *q.container ? q.container : NULL,
			    q.previous, ls->path, sizeof(ls->path), &finished,
			    st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	/* Names were validated above, so they fit these buffers. */
	snprintf(ls->ns, sizeof(ls->ns), "%s", ns);
	snprintf(ls->name, sizeof(ls->name), "%s", name);
	snprintf(ls->container, sizeof(ls->container), "%s",
		 q.container ? q.container : "");
	ls->srv = r->srv;
	ls->conn = r->conn;
	ls->previous = q.previous;
	ls->follow = q.follow && !q.previous;
	ls->finished_seen = finished;
	ls->timestamps = q.timestamps;
	ls->since_ns = q.since_ns;
	ls->limit_bytes = q.limit_bytes;
	if (q.tail_lines >= 0) {
		int64_t total = api_log_count_lines(ls->path);

		ls->skip_lines = total > q.tail_lines ? total - q.tail_lines : 0;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
						 api_log_read, ls, api_log_free);
	if (!resp) {
		ret = MHD_NO;
		goto out;
	}
	ls = NULL; /* owned by the response */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	if (q.follow)
		api_stream_begin(r);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->code = 200;
	r->replied = true;
out:
	if (ls)
		api_log_free(ls);
	free(st);
	return ret;
}

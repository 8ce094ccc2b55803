/* Watch streams: newline-delimited {"type","object"} JSON over a chunked
 * response, fed by podsvc_watch_next. The content callback blocks (thread
 * per connection) in short slices so that shutdown, timeoutSeconds and a
 * client hanging up are noticed within half a second. */
#include <stdlib.h>
#include <string.h>

#include "api/api_priv.h"
#include "host/log.h"
#include "util/util.h"

#define API_WATCH_SLICE_MS       500
#define API_WATCH_DEFAULT_TIMEOUT 1800   /* s, like kube-apiserver's minimum */

struct api_watch_stream {
	struct api_server *srv;
	struct MHD_Connection *conn;
	struct podsvc_watch *w;
	struct api_query q;          /* scalars only: table, include_object */
	int64_t deadline_ms;
	char *pend;
	size_t pend_len, pend_off;
};

static void api_watch_free(void *cls)
{
	struct api_watch_stream *ws = cls;

	podsvc_watch_close(ws->w);
	free(ws->pend);
	free(ws);
}

/* Next event as one line (Table-converted if asked); 1, 0 (nothing yet)
 * or -1 (end the stream). */
static int api_watch_fill(struct api_watch_stream *ws)
{
	char *ev = NULL, *line;
	size_t n;
	int rc;

	if (atomic_load(&ws->srv->stopping) || util_mono_ms() >= ws->deadline_ms)
		return -1;
	rc = podsvc_watch_next(ws->w, API_WATCH_SLICE_MS, &ev);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return api_client_gone(ws->conn, 0) ? -1 : 0;
	if (ws->q.table) {
		char *t = api_table_event(ev, &ws->q);

		free(ev);
		if (!t)
			return -1;
		ev = t;
	}
	n = strlen(ev);
	line = realloc(ev, n + 2);
	if (!line) {
		free(ev);
		return -1;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	free(ws->pend);
	ws->pend = line;
	ws->pend_len = n + 1;
	ws->pend_off = 0;
	return 1;
}

static ssize_t api_watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_watch_stream *ws = cls;
	size_t n;
	int rc;

	while (ws->pend_off >= ws->pend_len) {
		rc = api_watch_fill(ws);
		if (rc < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = ws->pend_len - ws->pend_off;
	if (n > max)
		n = max;
	memcpy(buf, ws->pend + ws->pend_off, n);
	ws->pend_off += n;
	return (ssize_t)n;
}

enum MHD_Result api_watch(struct api_req *r, const struct api_query *q,
			  const struct podsvc_selector *sel)
{
	struct podsvc_status *st = NULL;
	struct api_watch_stream *ws;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	ws = calloc(1, sizeof(*ws));
	st = calloc(1, sizeof(*st));
	if (!ws || !st) {
		free(ws);
		free(st);
		return MHD_NO;
	}
	if (podsvc_watch_open(r->srv->svc, sel, q->rv, &ws->w, st) < 0) {
		ret = api_reply_podsvc(r, st);
		free(st);
		free(ws);
		return ret;
	}
	free(st);
	ws->srv = r->srv;
	ws->conn = r->conn;
	ws->q = *q;
	/* The strings in q live in MHD's request memory: not kept. */
	ws->q.rv = ws->q.label_selector = ws->q.field_selector = NULL;
	ws->q.container = ws->q.dry_run = NULL;
	ws->deadline_ms = util_mono_ms() + 1000 *
		(q->timeout_s > 0 ? q->timeout_s : API_WATCH_DEFAULT_TIMEOUT);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
						 api_watch_read, ws,
						 api_watch_free);
	if (!resp) {
		api_watch_free(ws);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	api_stream_begin(r);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->code = 200;
	r->replied = true;
	log_debug("watch started", LOG_STR("path", r->path),
		  LOG_STR("namespace", sel->namespace ? sel->namespace : ""),
		  LOG_END);
	return ret;
}

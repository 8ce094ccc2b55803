/* image_pull (images/registry.h): manifest -> (index -> linux/amd64
 * manifest) -> config -> layers, three at once, each verified while it
 * streams into a staging directory under images/tmp; only a fully
 * verified image is moved into blobs/ and named in index.json. A pull of
 * the same reference by another process or thread waits on a lock and
 * then uses the result. */
#include "images/blobsink.h"
#include "images/manifest.h"
#include "images/registry_priv.h"
#include "images/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "images/layer.h"

#define PULL_WORKERS 3                       /* as containerd */
#define PULL_CONFIG_MAX (8u << 20)

struct pull;

struct pull_job {
	const struct image_desc *d;
	size_t index;
	const char *diff_id;
	bool cached;
};

struct pull {
	struct image_store *s;
	struct registry *r;
	const struct image_ref *ref;
	const struct registry_creds *extra;
	const struct image_pull_progress *prog;
	char staging[IMAGE_PATH_MAX];
	struct pull_job *jobs;
	size_t n_jobs, next_job, n_layers;
	pthread_mutex_t lock;                    /* jobs, progress, first error */
	volatile int cancel;
	int ret;
	struct pv_err err;
	uint64_t fetched;
};

static void emit(struct pull *p, enum image_pull_event_kind k, size_t layer,
		 const char *digest, uint64_t bytes, uint64_t total)
{
	struct image_pull_event ev = { k, layer, p->n_layers, digest, bytes, total };

	if (!p->prog || !p->prog->event)
		return;
	pthread_mutex_lock(&p->lock);
	p->prog->event(p->prog->opaque, &ev);
	pthread_mutex_unlock(&p->lock);
}

/* --- small blobs (manifests, configs) into memory --------------------------- */

struct mem {
	char *buf;
	size_t len, max;
	EVP_MD_CTX *md;
	const char *what;
};

static int mem_data(void *opaque, const void *buf, size_t len, struct pv_err *err)
{
	struct mem *m = opaque;
	char *nb;

	if (len > m->max - m->len)
		return pv_err_set(err, EFBIG, "%s is larger than %zu bytes", m->what, m->max);
	nb = realloc(m->buf, m->len + len + 1);
	if (!nb)
		return pv_err_set(err, ENOMEM, "out of memory");
	m->buf = nb;
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return 0;
}

static void mem_reset(void *opaque)
{
	((struct mem *)opaque)->len = 0;
}

/* GET a manifest (by tag or digest) into *out; digest_out: its sha256.
 * want: the digest it must have ("" when fetched by tag). */
static int get_manifest(struct reg_conn *c, const char *what, const char *want,
			char **out, size_t *len, char ct[128],
			char digest_out[IMAGE_DIGEST_MAX], struct pv_err *err)
{
	struct mem m = { NULL, 0, IMAGE_MANIFEST_MAX, NULL, "manifest" };
	struct reg_sink sink = { mem_data, mem_reset, &m };
	struct reg_resp resp;
	int ret;

	ret = reg_get(c, "manifests", what, IMAGE_MANIFEST_ACCEPT, &sink, &resp, err);
	if (ret == 0 && resp.content_length > (int64_t)IMAGE_MANIFEST_MAX)
		ret = pv_err_set(err, EFBIG, "manifest is larger than %u bytes",
				 IMAGE_MANIFEST_MAX);
	if (ret == 0)
		ret = image_sha256_digest(m.buf ? m.buf : "", m.len, digest_out, err);
	if (ret < 0)
		goto out;
	if (want[0] && strcmp(want, digest_out)) {
		ret = pv_err_set(err, EBADMSG, "manifest digest mismatch: wanted %s, content hashes to %s",
				 want, digest_out);
		goto out;
	}
	/* By tag, the registry's own word on the digest must hold too. */
	if (!want[0] && image_digest_valid(resp.docker_digest) &&
	    strcmp(resp.docker_digest, digest_out)) {
		ret = pv_err_set(err, EBADMSG,
				 "manifest digest mismatch: registry says %s, content hashes to %s",
				 resp.docker_digest, digest_out);
		goto out;
	}
	snprintf(ct, 128, "%s", resp.content_type);
	*out = m.buf;
	*len = m.len;
	m.buf = NULL;
out:
	free(m.buf);
	return ret;
}

/* --- layers --------------------------------------------------------------- */

struct layer_sink {
	struct pull *p;
	struct blobsink *b;
	size_t index;
	const char *digest;
	uint64_t total, last_report;
	int64_t last_ms;
};

static int layer_data(void *opaque, const void *buf, size_t len, struct pv_err *err)
{
	struct layer_sink *ls = opaque;
	int64_t now;
	int ret = blobsink_data(ls->b, buf, len, err);

	if (ret < 0)
		return ret;
	now = util_mono_ms();
	if (now - ls->last_ms >= 100) {   /* progress at most 10 times a second */
		ls->last_ms = now;
		emit(ls->p, PULL_EV_LAYER_PROGRESS, ls->index, ls->digest,
		     blobsink_bytes(ls->b), ls->total);
	}
	return 0;
}

static void layer_reset(void *opaque)
{
	struct layer_sink *ls = opaque;

	blobsink_reset(ls->b);
	emit(ls->p, PULL_EV_LAYER_RETRY, ls->index, ls->digest, 0, ls->total);
}

static int fetch_layer(struct pull *p, struct reg_conn *c, const struct pull_job *j,
		       struct pv_err *err)
{
	char path[IMAGE_PATH_MAX], what[96];
	struct layer_sink ls = { p, NULL, j->index, j->d->digest, j->d->size, 0, 0 };
	struct reg_sink sink = { layer_data, layer_reset, &ls };
	struct reg_resp resp;
	int fd = -1, ret;

	snprintf(what, sizeof(what), "layer %zu (%.19s)", j->index + 1, j->d->digest);
	ret = image_path(path, sizeof(path), err, "%s/%s", p->staging, j->d->digest + 7);
	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pv_err_sys(err, errno, "create %s", path);
	ret = blobsink_new(fd, what, j->d->digest, j->d->size, true, j->d->comp, j->diff_id,
			   &ls.b, err);
	if (ret < 0)
		goto out;
	blobsink_set_cancel(ls.b, &p->cancel);
	emit(p, PULL_EV_LAYER_START, j->index, j->d->digest, 0, j->d->size);
	ret = reg_get(c, "blobs", j->d->digest, NULL, &sink, &resp, err);
	if (ret < 0 && ret != -ECANCELED && !strstr(err->msg, what))
		pv_err_prefix(err, "%s", what);
	if (ret == 0)
		ret = blobsink_finish(ls.b, err);
	if (ret == 0 && fsync(fd) < 0)
		ret = pv_err_sys(err, errno, "fsync %s", path);
	if (ret == 0) {
		pthread_mutex_lock(&p->lock);
		p->fetched += j->d->size;
		pthread_mutex_unlock(&p->lock);
		emit(p, PULL_EV_LAYER_DONE, j->index, j->d->digest, j->d->size, j->d->size);
	}
out:
	blobsink_free(ls.b);
	close(fd);
	return ret;
}

static void *worker(void *arg)
{
	struct pull *p = arg;
	struct reg_conn c;
	struct pv_err err;
	int ret;

	reg_conn_init(&c, p->r, p->ref, p->extra);
	for (;;) {
		const struct pull_job *j = NULL;

		pthread_mutex_lock(&p->lock);
		while (!p->cancel && p->next_job < p->n_jobs) {
			j = &p->jobs[p->next_job++];
			if (!j->cached)
				break;
			j = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (!j)
			break;
		pv_err_clear(&err);
		ret = fetch_layer(p, &c, j, &err);
		if (ret < 0) {
			pthread_mutex_lock(&p->lock);
			/* The first failure is the pull's; the others were
			 * cancelled because of it. */
			if (p->ret == 0 && ret != -ECANCELED) {
				p->ret = ret;
				p->err = err;
			}
			p->cancel = 1;
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	reg_conn_fini(&c);
	return NULL;
}

static int fetch_layers(struct pull *p, struct pv_err *err)
{
	pthread_t th[PULL_WORKERS];
	size_t n = 0, todo = 0;

	for (size_t i = 0; i < p->n_jobs; i++)
		todo += !p->jobs[i].cached;
	for (; n < PULL_WORKERS && n < todo; n++) {
		if (pthread_create(&th[n], NULL, worker, p) != 0) {
			pthread_mutex_lock(&p->lock);
			if (n == 0)
				p->ret = pv_err_set(&p->err, EAGAIN, "cannot start a download thread");
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (p->ret < 0)
		return pv_err_set(err, p->err.errnum, "%s", p->err.msg);
	return 0;
}

/* --- commit ---------------------------------------------------------------- */

static int blob_exists(struct image_store *s, const char *digest)
{
	char path[IMAGE_PATH_MAX];

	return image_blob_path(s, digest, path, sizeof(path), NULL) == 0 &&
	       access(path, F_OK) == 0;
}

/* Staged layers into blobs/, then manifest and config, then the name. */
static int commit(struct pull *p, const char *man, size_t man_len, const char *cfg,
		  size_t cfg_len, const char *repo_digest, const char *mt,
		  struct image_pull_result *res, struct pv_err *err)
{
	char from[IMAGE_PATH_MAX], to[IMAGE_PATH_MAX] = "", dg[IMAGE_DIGEST_MAX];
	int ret = 0;

	for (size_t i = 0; i < p->n_jobs && ret == 0; i++) {
		const struct pull_job *j = &p->jobs[i];

		if (j->cached)
			continue;
		ret = image_path(from, sizeof(from), err, "%s/%s", p->staging, j->d->digest + 7);
		if (ret == 0)
			ret = image_blob_path(p->s, j->d->digest, to, sizeof(to), err);
		/* Two layers of one image may be the same blob. */
		if (ret == 0 && rename(from, to) < 0 && !(errno == ENOENT && blob_exists(p->s, j->d->digest)))
			ret = pv_err_sys(err, errno, "store layer %s", j->d->digest);
	}
	if (ret == 0 && to[0])
		ret = image_fsync_parent(to, err);
	if (ret == 0)
		ret = image_blob_write(p->s, cfg, cfg_len, dg, err);
	if (ret == 0)
		ret = image_blob_write(p->s, man, man_len, res->manifest_digest, err);
	if (ret == 0)
		ret = image_index_put(p->s, p->ref->name, res->manifest_digest, man_len, mt,
				      repo_digest, err);
	return ret;
}

/* --- the pull ----------------------------------------------------------------- */

static int resolve(struct pull *p, struct reg_conn *c, char **man, size_t *man_len,
		   struct image_manifest *m, char *mt, struct image_pull_result *res,
		   struct pv_err *err)
{
	const struct image_desc *sel;
	struct image_manifest top;
	char ct[128], top_digest[IMAGE_DIGEST_MAX], dg[IMAGE_DIGEST_MAX];
	const char *what = p->ref->digest[0] ? p->ref->digest : p->ref->tag;
	int ret;

	ret = get_manifest(c, what, p->ref->digest, man, man_len, ct, top_digest, err);
	if (ret < 0)
		return ret;
	ret = image_manifest_decode(*man, *man_len, ct, &top, err);
	if (ret < 0)
		return ret;
	if (util_fmt(res->repo_digest, sizeof(res->repo_digest), "%s/%s@%s", p->ref->registry,
		     p->ref->repo, top_digest) < 0) {
		image_manifest_free(&top);
		return pv_err_set(err, ENAMETOOLONG, "reference too long");
	}
	if (top.kind == IMAGE_MK_MANIFEST) {
		*m = top;
		snprintf(mt, IMAGE_MT_MAX, "%s", top.media_type[0] ? top.media_type : MT_OCI_MANIFEST);
		memcpy(res->manifest_digest, top_digest, IMAGE_DIGEST_MAX);
		return 0;
	}
	ret = image_index_select(&top, "linux", "amd64", &sel, err);
	if (ret == 0 && sel->size > IMAGE_MANIFEST_MAX)
		ret = pv_err_set(err, EFBIG, "manifest is larger than %u bytes", IMAGE_MANIFEST_MAX);
	if (ret == 0) {
		memcpy(res->manifest_digest, sel->digest, IMAGE_DIGEST_MAX);
		free(*man);
		*man = NULL;
		ret = get_manifest(c, sel->digest, sel->digest, man, man_len, ct, dg, err);
	}
	if (ret == 0)
		ret = image_manifest_decode(*man, *man_len, ct, m, err);
	if (ret == 0 && m->kind != IMAGE_MK_MANIFEST)
		ret = pv_err_set(err, EBADMSG, "manifest: the index's linux/amd64 entry is another index");
	if (ret == 0)
		snprintf(mt, IMAGE_MT_MAX, "%s", m->media_type[0] ? m->media_type : MT_OCI_MANIFEST);
	image_manifest_free(&top);
	return ret;
}

static int get_config(struct pull *p, struct reg_conn *c, const struct image_desc *d,
		      char **out, size_t *len, struct pv_err *err)
{
	struct mem m = { NULL, 0, PULL_CONFIG_MAX, NULL, "image config" };
	struct reg_sink sink = { mem_data, mem_reset, &m };
	struct blobsink *b = NULL;
	struct reg_resp resp;
	int ret;

	if (blob_exists(p->s, d->digest))
		return image_blob_read(p->s, d->digest, PULL_CONFIG_MAX, out, len, err);
	if (d->size > PULL_CONFIG_MAX)
		return pv_err_set(err, EFBIG, "image config is larger than %u bytes", PULL_CONFIG_MAX);
	ret = reg_get(c, "blobs", d->digest, NULL, &sink, &resp, err);
	if (ret == 0)
		ret = blobsink_new(-1, "image config", d->digest, d->size, false, IMAGE_COMP_NONE,
				   NULL, &b, err);
	if (ret == 0)
		ret = blobsink_data(b, m.buf ? m.buf : "", m.len, err);
	if (ret == 0)
		ret = blobsink_finish(b, err);
	blobsink_free(b);
	if (ret < 0) {
		free(m.buf);
		return ret;
	}
	*out = m.buf ? m.buf : strdup("");
	*len = m.len;
	return *out ? 0 : pv_err_set(err, ENOMEM, "out of memory");
}

static int pull_locked(struct pull *p, struct image_pull_result *res, struct pv_err *err)
{
	struct image_manifest m = { 0 };
	struct image_config_meta meta = { 0 };
	struct reg_conn c;
	char *man = NULL, *cfg = NULL, mt[IMAGE_MT_MAX];
	size_t man_len = 0, cfg_len = 0;
	uint64_t total = 0;
	int ret;

	reg_conn_init(&c, p->r, p->ref, p->extra);
	ret = resolve(p, &c, &man, &man_len, &m, mt, res, err);
	if (ret == 0)
		ret = get_config(p, &c, &m.config, &cfg, &cfg_len, err);
	if (ret == 0)
		ret = image_config_meta_parse(cfg, cfg_len, &meta, err);
	if (ret < 0)
		goto out;
	if ((meta.os[0] && strcmp(meta.os, "linux")) ||
	    (meta.arch[0] && strcmp(meta.arch, "amd64"))) {
		ret = pv_err_set(err, ENOEXEC, "image is %s/%s, not linux/amd64", meta.os, meta.arch);
		goto out;
	}
	if (meta.n_diff_ids != m.n_layers) {
		ret = pv_err_set(err, EBADMSG,
				 "config: rootfs.diff_ids has %zu entries for %zu layers",
				 meta.n_diff_ids, m.n_layers);
		goto out;
	}
	p->jobs = calloc(m.n_layers ? m.n_layers : 1, sizeof(*p->jobs));
	if (!p->jobs) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	p->n_jobs = p->n_layers = m.n_layers;
	for (size_t i = 0; i < m.n_layers; i++) {
		p->jobs[i] = (struct pull_job){ &m.layers[i], i, meta.diff_ids[i],
						blob_exists(p->s, m.layers[i].digest) };
		/* A blob listed twice is fetched once. */
		for (size_t k = 0; k < i && !p->jobs[i].cached; k++)
			if (!strcmp(m.layers[k].digest, m.layers[i].digest))
				p->jobs[i].cached = true;
		total += m.layers[i].size;
	}
	res->size = man_len + cfg_len + total;
	emit(p, PULL_EV_RESOLVED, 0, res->manifest_digest, 0, total);
	for (size_t i = 0; i < m.n_layers; i++)
		if (p->jobs[i].cached)
			emit(p, PULL_EV_LAYER_CACHED, i, m.layers[i].digest, m.layers[i].size,
			     m.layers[i].size);
	ret = fetch_layers(p, err);
	if (ret == 0)
		ret = commit(p, man, man_len, cfg, cfg_len, res->repo_digest, mt, res, err);
	res->fetched = p->fetched;
out:
	reg_conn_fini(&c);
	image_config_meta_free(&meta);
	image_manifest_free(&m);
	free(man);
	free(cfg);
	return ret;
}

/* Per-reference lock: a second pull of the same image waits, then uses
 * what the first stored. */
static int ref_lock(struct image_store *s, const char *name, int *fd, bool *waited,
		    struct pv_err *err)
{
	char dg[IMAGE_DIGEST_MAX], path[IMAGE_PATH_MAX];
	int ret;

	ret = image_sha256_digest(name, strlen(name), dg, err);
	if (ret == 0)
		ret = image_path(path, sizeof(path), err, "%s/locks/pull-%.32s.lock", s->root,
				 dg + 7);
	if (ret < 0)
		return ret;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (*fd < 0)
		return pv_err_sys(err, errno, "open %s", path);
	*waited = false;
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	*waited = true;
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			ret = pv_err_sys(err, errno, "lock %s", path);
			close(*fd);
			*fd = -1;
			return ret;
		}
	}
	return 0;
}

int image_pull(struct image_store *s, struct registry *r, const char *refstr,
	       const struct registry_creds *extra,
	       const struct image_pull_progress *prog,
	       struct image_pull_result *res, struct pv_err *err)
{
	struct image_ref ref;
	struct pull p;
	struct image *img = NULL;
	int64_t t0 = util_mono_ms();
	int lock = -1, gc = -1, ret;
	bool waited = false, staged = false;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	ret = image_ref_parse(refstr, &ref, err);
	if (ret < 0)
		return ret;
	snprintf(res->ref, sizeof(res->ref), "%s", ref.name);
	ret = ref_lock(s, ref.name, &lock, &waited, err);
	if (ret < 0)
		goto out;
	if (waited && image_store_resolve(s, ref.name, &img, NULL) == 0) {
		/* Pulled by whoever held the lock: share that pull. */
		memcpy(res->manifest_digest, img->manifest_digest, IMAGE_DIGEST_MAX);
		snprintf(res->repo_digest, sizeof(res->repo_digest), "%s", img->repo_digest);
		res->shared = true;
		goto out;
	}
	ret = image_gc_lock(s, true, &gc, err);
	if (ret < 0)
		goto out;
	p.s = s;
	p.r = r;
	p.ref = &ref;
	p.extra = extra;
	p.prog = prog;
	pthread_mutex_init(&p.lock, NULL);
	ret = image_path(p.staging, sizeof(p.staging), err, "%s/tmp/%s-pull.XXXXXX", s->root,
			 image_tmp_owner());
	if (ret == 0 && !mkdtemp(p.staging))
		ret = pv_err_sys(err, errno, "create %s", p.staging);
	if (ret < 0)
		goto out_mutex;
	staged = true;
	ret = pull_locked(&p, res, err);
	if (ret == 0)
		emit(&p, PULL_EV_DONE, 0, res->manifest_digest, res->fetched, res->size);
out_mutex:
	pthread_mutex_destroy(&p.lock);
out:
	if (staged)
		layer_remove_tree(p.staging, NULL);
	free(p.jobs);
	image_free(img);
	if (gc >= 0)
		close(gc);
	if (lock >= 0)
		close(lock);
	res->ms = util_mono_ms() - t0;
	if (ret < 0)
		pv_err_prefix(err, "pull %s", ref.name[0] ? ref.name : refstr);
	return ret;
}

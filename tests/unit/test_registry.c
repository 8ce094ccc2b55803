/* Registry client pieces (images/): references, manifests and indexes
 * (hostile ones too), platform selection, WWW-Authenticate, credentials,
 * and streaming verification of blobs (digests, diff_ids, compression,
 * tar format). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "images/blobsink.h"
#include "images/manifest.h"
#include "images/registry.h"
#include "images/store_priv.h"

/* ---- references ---------------------------------------------------------- */

static void test_ref_parse(void **state)
{
	static const struct {
		const char *in, *name, *reg, *repo, *tag, *digest;
	} cases[] = {
		{ "busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox",
		  "latest", "" },
		{ "nginx:1.27", "docker.io/library/nginx:1.27", "docker.io", "library/nginx",
		  "1.27", "" },
		{ "foo/bar", "docker.io/foo/bar:latest", "docker.io", "foo/bar", "latest", "" },
		{ "127.0.0.1:5000/a/b:v1", "127.0.0.1:5000/a/b:v1", "127.0.0.1:5000", "a/b", "v1", "" },
		{ "localhost/x", "localhost/x:latest", "localhost", "x", "latest", "" },
		{ "123456789.dkr.ecr.us-east-1.amazonaws.com/app:1.4",
		  "123456789.dkr.ecr.us-east-1.amazonaws.com/app:1.4",
		  "123456789.dkr.ecr.us-east-1.amazonaws.com", "app", "1.4", "" },
		{ "reg:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "reg:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "reg:5000", "x", "",
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "docker.io/library/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "docker.io", "library/x", "t",
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
	};
	struct image_ref r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(image_ref_parse(cases[i].in, &r, NULL), 0);
		assert_string_equal(r.name, cases[i].name);
		assert_string_equal(r.registry, cases[i].reg);
		assert_string_equal(r.repo, cases[i].repo);
		assert_string_equal(r.tag, cases[i].tag);
		assert_string_equal(r.digest, cases[i].digest);
	}
	assert_true(image_ref_parse("", &r, NULL) < 0);
	assert_true(image_ref_parse("UPPER/case", &r, NULL) == 0);   /* registry by case */
	assert_true(image_ref_parse("a/UPPER", &r, NULL) < 0);
	assert_true(image_ref_parse("x@sha256:12", &r, NULL) < 0);
	assert_true(image_ref_parse("x:-bad", &r, NULL) < 0);
	assert_true(image_ref_parse("../x", &r, NULL) < 0);
}

static void test_ref_default_policy(void **state)
{
	(void)state;
	assert_true(image_ref_defaults_to_always("busybox"));
	assert_true(image_ref_defaults_to_always("busybox:latest"));
	assert_true(image_ref_defaults_to_always("reg:5000/a/b"));
	assert_false(image_ref_defaults_to_always("busybox:1.36"));
	assert_false(image_ref_defaults_to_always(
		"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

/* ---- manifests ------------------------------------------------------------ */

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int decode(const char *text, const char *ct, struct image_manifest *m,
		  struct pv_err *err)
{
	return image_manifest_decode(text, strlen(text), ct, m, err);
}

static void test_manifest_kinds(void **state)
{
	struct image_manifest m;
	struct pv_err err;
	const char *oci = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":10},"
		"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D2 "\",\"size\":5},"
		"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D3 "\",\"size\":7}]}";
	const char *docker = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_V2 "\","
		"\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"digest\":\"" D1 "\",\"size\":10},"
		"\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D2 "\",\"size\":5}]}";
	const char *index = "{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":1,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
		"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	const struct image_desc *sel;

	(void)state;
	assert_int_equal(decode(oci, MT_OCI_MANIFEST, &m, &err), 0);
	assert_int_equal(m.kind, IMAGE_MK_MANIFEST);
	assert_int_equal(m.n_layers, 2);
	assert_int_equal(m.layers[0].comp, IMAGE_COMP_ZSTD);
	assert_int_equal(m.layers[1].comp, IMAGE_COMP_NONE);
	assert_string_equal(m.config.digest, D1);
	image_manifest_free(&m);

	assert_int_equal(decode(docker, "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8",
				&m, &err), 0);
	assert_int_equal(m.layers[0].comp, IMAGE_COMP_GZIP);
	image_manifest_free(&m);

	/* no mediaType anywhere: the shape decides */
	assert_int_equal(decode(index, "application/json", &m, &err), 0);
	assert_int_equal(m.kind, IMAGE_MK_INDEX);
	assert_int_equal(m.n_manifests, 3);
	assert_int_equal(image_index_select(&m, "linux", "amd64", &sel, &err), 0);
	assert_string_equal(sel->digest, D2);
	assert_int_equal(image_index_select(&m, "linux", "s390x", &sel, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no linux/s390x image in the index (it has: linux/arm64/v8, linux/amd64)"));
	image_manifest_free(&m);
}

static void expect_refused(const char *text, const char *ct, const char *msg)
{
	struct image_manifest m;
	struct pv_err err = { 0 };

	if (decode(text, ct, &m, &err) == 0) {
		image_manifest_free(&m);
		fail_msg("accepted: %s", text);
	}
	if (!strstr(err.msg, msg))
		fail_msg("'%s' lacks '%s'", err.msg, msg);
}

static void test_manifest_hostile(void **state)
{
	(void)state;
	expect_refused("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL,
		       "Docker schema 1 is not supported");
	expect_refused("{}", MT_DOCKER_V1_JWS, "Docker schema 1 is not supported");
	expect_refused("[1,2]", NULL, "not a JSON object");
	expect_refused("{\"schemaVersion\":2", NULL, "not a JSON object");
	expect_refused("{\"schemaVersion\":3,\"layers\":[]}", NULL, "schemaVersion: 3 is not 2");
	expect_refused("{\"schemaVersion\":2,\"mediaType\":\"text/evil\"}", NULL,
		       "mediaType: unsupported");
	expect_refused("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\"}",
		       MT_DOCKER_V2, "differs from the served Content-Type");
	expect_refused("{\"schemaVersion\":2,\"layers\":[]}", NULL, "config: missing");
	expect_refused("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
		       "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
		       "\"digest\":\"sha256:../../etc/passwd\",\"size\":1}]}", NULL,
		       "layers[0].digest: 'sha256:../../etc/passwd' is not sha256");
	expect_refused("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
		       "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
		       "\"digest\":\"" D2 "\",\"size\":-5}]}", NULL, "layers[0].size: negative");
	expect_refused("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
		       "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
		       "\"digest\":\"" D2 "\",\"size\":5}]}", NULL, "foreign layer");
	expect_refused("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
		       "\"layers\":[{\"mediaType\":\"application/x-bzip2\",\"digest\":\"" D2
		       "\",\"size\":5}]}", NULL, "layers[0].mediaType: unsupported layer type");
	expect_refused("{\"schemaVersion\":2,\"manifests\":{}}", NULL,
		       "manifests: missing or not an array");
}

static void test_manifest_too_large(void **state)
{
	size_t n = IMAGE_MANIFEST_MAX + 1;
	char *big = malloc(n + 1);
	struct image_manifest m;
	struct pv_err err;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_int_equal(image_manifest_decode(big, n, NULL, &m, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "larger than"));
	free(big);
}

static void test_config_meta(void **state)
{
	struct image_config_meta meta;
	struct pv_err err;
	const char *ok = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
			 "\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";

	(void)state;
	assert_int_equal(image_config_meta_parse(ok, strlen(ok), &meta, &err), 0);
	assert_int_equal(meta.n_diff_ids, 2);
	assert_string_equal(meta.diff_ids[1], D2);
	assert_string_equal(meta.arch, "amd64");
	image_config_meta_free(&meta);
	assert_true(image_config_meta_parse("{\"rootfs\":{\"diff_ids\":[\"x\"]}}", 32, &meta, &err) < 0);
	assert_non_null(strstr(err.msg, "rootfs.diff_ids[0]"));
	assert_true(image_config_meta_parse("{}", 2, &meta, &err) < 0);
}

/* ---- WWW-Authenticate ---------------------------------------------------- */

static void test_challenge(void **state)
{
	struct registry_challenge c;
	struct pv_err err;

	(void)state;
	assert_int_equal(registry_challenge_parse(
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		"scope=\"repository:library/busybox:pull\"", &c, &err), 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	assert_int_equal(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
	assert_int_equal(c.scheme, REG_AUTH_BASIC);
	/* several challenges: Bearer preferred; quoted escapes; tokens */
	assert_int_equal(registry_challenge_parse(
		"Basic realm=x, Bearer realm=\"http://h/t\\\"q\",service=svc", &c, &err), 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "http://h/t\"q");
	assert_string_equal(c.service, "svc");
	assert_true(registry_challenge_parse("Negotiate abc", &c, &err) < 0);
	assert_true(registry_challenge_parse("Bearer service=x", &c, &err) < 0);   /* no realm */
	assert_true(registry_challenge_parse("Bearer realm=\"unterminated", &c, &err) < 0);
	assert_true(registry_challenge_parse("Bearer realm=", &c, &err) < 0);
	assert_true(registry_challenge_parse(NULL, &c, &err) < 0);
	{
		char big[3000];

		memset(big, 'a', sizeof(big));
		memcpy(big, "Bearer realm=\"", 14);
		big[sizeof(big) - 2] = '"';
		big[sizeof(big) - 1] = '\0';
		assert_true(registry_challenge_parse(big, &c, &err) < 0);
	}
}

/* ---- credentials ---------------------------------------------------------- */

static void test_creds(void **state)
{
	struct registry_creds c = { 0 };
	const struct registry_cred *r;
	struct pv_err err;
	/* "alice:pw:with:colons" and "bob:x" */
	const char *json = "{\"auths\":{"
		"\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6cHc6d2l0aDpjb2xvbnM=\"},"
		"\"quay.io/org\":{\"username\":\"org-bot\",\"password\":\"t0k\"},"
		"\"quay.io\":{\"auth\":\"Ym9iOng\"},"
		"\"ghcr.io\":{\"identitytoken\":\"skip-me\"}},\"credsStore\":\"desktop\"}";

	(void)state;
	assert_int_equal(registry_creds_add_json(&c, json, strlen(json), "t", &err), 0);
	assert_int_equal(c.n, 3);
	r = registry_creds_find(&c, "docker.io", "library/busybox");
	assert_non_null(r);
	assert_string_equal(r->user, "alice");
	assert_string_equal(r->pass, "pw:with:colons");
	r = registry_creds_find(&c, "quay.io", "org/app");
	assert_string_equal(r->user, "org-bot");
	r = registry_creds_find(&c, "quay.io", "organic/app");   /* not a path prefix */
	assert_string_equal(r->user, "bob");
	assert_null(registry_creds_find(&c, "ghcr.io", "x"));
	assert_null(registry_creds_find(&c, "quay.io.evil", "x"));
	registry_creds_free(&c);

	/* A broken credential is named by its registry, never echoed. */
	{
		const char *bad = "{\"auths\":{\"r\":{\"auth\":\"c2VjcmV0\"}}}";

		assert_true(registry_creds_add_json(&c, bad, strlen(bad), "f", &err) < 0);
	}
	assert_non_null(strstr(err.msg, "auths[\"r\"].auth"));
	assert_null(strstr(err.msg, "c2VjcmV0"));
	registry_creds_free(&c);
	assert_true(registry_creds_add_json(&c, "not json", 8, "f", &err) < 0);
	registry_creds_free(&c);
}

/* ---- streaming verification ------------------------------------------------- */

/* A one-file tar made by hand (512-byte header + data block + 2 zero
 * blocks), its sha256, and the same compressed with gzip and zstd. */
static unsigned char tarbuf[2048];

static void make_tar(void)
{
	unsigned char *h = tarbuf;
	unsigned sum = 0;

	memset(tarbuf, 0, sizeof(tarbuf));
	strcpy((char *)h, "hello.txt");
	strcpy((char *)h + 100, "0000644");
	strcpy((char *)h + 108, "0000000");
	strcpy((char *)h + 116, "0000000");
	strcpy((char *)h + 124, "00000000006");
	strcpy((char *)h + 136, "00000000000");
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	memcpy(tarbuf + 512, "hello\n", 6);
}

static size_t gz(const void *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static int sink_all(const void *data, size_t len, size_t chunk, const char *digest,
		    uint64_t size, enum image_comp comp, const char *diff_id, struct pv_err *err)
{
	struct blobsink *b;
	int ret = blobsink_new(-1, "layer 1", digest, size, true, comp, diff_id, &b, err);

	for (size_t off = 0; ret == 0 && off < len; off += chunk)
		ret = blobsink_data(b, (const char *)data + off, len - off < chunk ? len - off : chunk,
				    err);
	if (ret == 0)
		ret = blobsink_finish(b, err);
	blobsink_free(b);
	return ret;
}

static void test_blobsink(void **state)
{
	unsigned char gzbuf[4096], zsbuf[4096], junk[4096];
	char d_tar[IMAGE_DIGEST_MAX], d_gz[IMAGE_DIGEST_MAX], d_zs[IMAGE_DIGEST_MAX];
	char d_junk[IMAGE_DIGEST_MAX];
	size_t ngz, nzs, njunk;
	struct pv_err err;

	(void)state;
	make_tar();
	assert_int_equal(image_sha256_digest(tarbuf, sizeof(tarbuf), d_tar, NULL), 0);
	ngz = gz(tarbuf, sizeof(tarbuf), gzbuf, sizeof(gzbuf));
	nzs = ZSTD_compress(zsbuf, sizeof(zsbuf), tarbuf, sizeof(tarbuf), 3);
	assert_false(ZSTD_isError(nzs));
	image_sha256_digest(gzbuf, ngz, d_gz, NULL);
	image_sha256_digest(zsbuf, nzs, d_zs, NULL);

	/* every compression, in odd chunk sizes */
	for (size_t chunk = 1; chunk < 700; chunk += 233) {
		assert_int_equal(sink_all(tarbuf, sizeof(tarbuf), chunk, d_tar, sizeof(tarbuf),
					  IMAGE_COMP_NONE, d_tar, &err), 0);
		assert_int_equal(sink_all(gzbuf, ngz, chunk, d_gz, ngz, IMAGE_COMP_GZIP, d_tar, &err), 0);
		assert_int_equal(sink_all(zsbuf, nzs, chunk, d_zs, nzs, IMAGE_COMP_ZSTD, d_tar, &err), 0);
	}
	/* digest mismatch */
	assert_int_equal(sink_all(gzbuf, ngz, 64, D1, ngz, IMAGE_COMP_GZIP, d_tar, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "digest mismatch"));
	/* diff_id mismatch */
	assert_int_equal(sink_all(gzbuf, ngz, 64, d_gz, ngz, IMAGE_COMP_GZIP, D2, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "diff_id"));
	/* truncated: fewer bytes than the descriptor */
	assert_int_equal(sink_all(gzbuf, ngz - 10, 64, d_gz, ngz, IMAGE_COMP_GZIP, d_tar, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "truncated"));
	/* more bytes than the descriptor: stopped while streaming */
	assert_int_equal(sink_all(gzbuf, ngz, 64, d_gz, ngz - 1, IMAGE_COMP_GZIP, d_tar, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "larger than"));
	/* a truncated compressed stream whose digest matches (a lying registry) */
	{
		char d_cut[IMAGE_DIGEST_MAX];

		image_sha256_digest(zsbuf, nzs - 4, d_cut, NULL);
		assert_int_equal(sink_all(zsbuf, nzs - 4, 64, d_cut, nzs - 4, IMAGE_COMP_ZSTD, NULL,
					  &err), -EBADMSG);
		image_sha256_digest(gzbuf, ngz - 4, d_cut, NULL);
		assert_int_equal(sink_all(gzbuf, ngz - 4, 64, d_cut, ngz - 4, IMAGE_COMP_GZIP, NULL,
					  &err), -EBADMSG);
	}
	/* not a tar: gzip of random-looking bytes */
	for (size_t i = 0; i < 2048; i++)
		junk[i] = (unsigned char)(i * 7919 + 13);
	njunk = gz(junk, 2048, zsbuf, sizeof(zsbuf));
	image_sha256_digest(zsbuf, njunk, d_junk, NULL);
	assert_int_equal(sink_all(zsbuf, njunk, 100, d_junk, njunk, IMAGE_COMP_GZIP, NULL, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "not a tar archive"));
	/* gzip media type, not gzip data */
	assert_int_equal(sink_all(tarbuf, sizeof(tarbuf), 100, d_tar, sizeof(tarbuf),
				  IMAGE_COMP_GZIP, NULL, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "corrupt gzip"));
	/* an empty blob is not a layer */
	{
		char d0[IMAGE_DIGEST_MAX];

		image_sha256_digest("", 0, d0, NULL);
		assert_int_equal(sink_all("", 0, 1, d0, 0, IMAGE_COMP_NONE, NULL, &err), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_ref_default_policy),
		cmocka_unit_test(test_manifest_kinds),
		cmocka_unit_test(test_manifest_hostile),
		cmocka_unit_test(test_manifest_too_large),
		cmocka_unit_test(test_config_meta),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_creds),
		cmocka_unit_test(test_blobsink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

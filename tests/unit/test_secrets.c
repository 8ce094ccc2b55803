/* imagePullSecrets: the pod field (decode, encode round trip, refusals)
 * and the secret_source seam (daemon/secrets.h) through an in-memory
 * implementation, the shape the Secret API's store will have. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "daemon/secrets.h"
#include "pod/pod.h"

#define POD(spec) "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"," \
	"\"namespace\":\"team\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]" spec "}}"

static struct pod *decode(const char *json, struct pv_err *err)
{
	struct pod *pod = NULL;

	if (pod_decode_json(json, strlen(json), &pod, NULL, err) < 0)
		return NULL;
	return pod;
}

static void test_pull_secrets_field(void **state)
{
	struct pv_err err;
	struct pod *pod, *back;
	struct json_object *j;
	const char *text;

	(void)state;
	pod = decode(POD(",\"imagePullSecrets\":[{\"name\":\"a\"},{\"name\":\"regcred.b\"}]"), &err);
	assert_non_null(pod);
	assert_int_equal(pod->n_pull_secrets, 2);
	assert_string_equal(pod->pull_secrets[1], "regcred.b");
	/* what podvmd stores and reads back */
	j = pod_to_json(pod);
	assert_non_null(j);
	text = json_object_to_json_string(j);
	back = decode(text, &err);
	assert_non_null(back);
	assert_int_equal(back->n_pull_secrets, 2);
	assert_string_equal(back->pull_secrets[0], "a");
	pod_free(back);
	json_object_put(j);
	pod_free(pod);

	assert_null(decode(POD(",\"imagePullSecrets\":[{}]"), &err));
	assert_non_null(strstr(err.msg, "spec.imagePullSecrets[0].name: Required value"));
	assert_null(decode(POD(",\"imagePullSecrets\":[{\"name\":\"Bad_Name\"}]"), &err));
	assert_non_null(strstr(err.msg, "spec.imagePullSecrets[0].name: Invalid value"));
	assert_null(decode(POD(",\"imagePullSecrets\":[{\"name\":\"a\",\"x\":1}]"), &err));
	assert_non_null(strstr(err.msg, "spec.imagePullSecrets[0].x"));
	assert_null(decode(POD(",\"imagePullSecrets\":{}"), &err));
	pod = decode(POD(",\"imagePullSecrets\":null"), &err);
	assert_non_null(pod);
	assert_int_equal(pod->n_pull_secrets, 0);
	pod_free(pod);
}

/* --- an in-memory secret_source ---------------------------------------------- */

struct mem_secret {
	const char *ns, *name, *type, *value;
};

static const struct mem_secret mem_secrets[] = {
	{ "team", "regcred", SECRET_TYPE_DOCKERCONFIGJSON,
	  "{\"auths\":{\"reg.example:5000\":{\"username\":\"u1\",\"password\":\"p1\"}}}" },
	{ "team", "opaque", "Opaque", "{}" },
	{ "team", "broken", SECRET_TYPE_DOCKERCONFIGJSON, "{\"auths\":{\"r\":{\"auth\":\"!!\"}}}" },
	{ "other", "regcred2", SECRET_TYPE_DOCKERCONFIGJSON,
	  "{\"auths\":{\"reg.example:5000\":{\"username\":\"u2\",\"password\":\"p2\"}}}" },
	{ "team", "regcred2", SECRET_TYPE_DOCKERCONFIGJSON,
	  "{\"auths\":{\"quay.io\":{\"username\":\"u3\",\"password\":\"p3\"}}}" },
};

static int mem_lookup(void *impl, const char *ns, const char *name, char **type,
		      char **value, size_t *len, struct pv_err *err)
{
	(void)impl;
	(void)err;
	for (size_t i = 0; i < sizeof(mem_secrets) / sizeof(mem_secrets[0]); i++) {
		if (strcmp(mem_secrets[i].ns, ns) || strcmp(mem_secrets[i].name, name))
			continue;
		*type = strdup(mem_secrets[i].type);
		*value = strdup(mem_secrets[i].value);
		*len = strlen(mem_secrets[i].value);
		return 0;
	}
	return -ENOENT;
}

static const struct secret_source_ops mem_ops = { mem_lookup, NULL };

static int n_warn;
static void on_warn(void *opaque, const char *msg)
{
	(void)opaque;
	n_warn++;
	/* a broken Secret's credential is never in the message */
	assert_null(strstr(msg, "!!"));
}

static void test_secret_source(void **state)
{
	struct secret_source src = { &mem_ops, NULL };
	struct registry_creds creds = { 0 };
	const struct registry_cred *c;
	struct pv_err err;
	struct pod *pod;

	(void)state;
	pod = decode(POD(",\"imagePullSecrets\":[{\"name\":\"missing\"},{\"name\":\"opaque\"},"
			 "{\"name\":\"broken\"},{\"name\":\"regcred\"},{\"name\":\"regcred2\"}]"), &err);
	assert_non_null(pod);
	n_warn = 0;
	assert_int_equal(secrets_pull_creds(&src, pod, &creds, on_warn, NULL), 0);
	assert_int_equal(n_warn, 3);   /* missing, wrong type, broken */
	c = registry_creds_find(&creds, "reg.example:5000", "app");
	assert_non_null(c);
	assert_string_equal(c->user, "u1");   /* the pod's namespace only */
	c = registry_creds_find(&creds, "quay.io", "org/app");
	assert_non_null(c);
	assert_string_equal(c->pass, "p3");
	assert_null(registry_creds_find(&creds, "docker.io", "library/x"));
	registry_creds_free(&creds);
	/* no source: no credentials, no error */
	assert_int_equal(secrets_pull_creds(NULL, pod, &creds, on_warn, NULL), 0);
	assert_int_equal(creds.n, 0);
	pod_free(pod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_secrets_field),
		cmocka_unit_test(test_secret_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Pod model: strict decoding, error causes, name rules, round trip. */
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

#include "pod/pod.h"

#define POD_HEAD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
#define MIN_SPEC "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}"
#define MIN_META "\"metadata\":{\"name\":\"p\"}"

static int decode(const char *json, struct pod **pod, struct pod_causes *c,
		  struct pv_err *err)
{
	return pod_decode_json(json, strlen(json), pod, c, err);
}

/* Decoding must fail with exactly msg as the first error. */
static void expect_err(const char *json, const char *msg)
{
	struct pod *pod = (struct pod *)1;
	struct pod_causes c;
	struct pv_err err = { 0 };
	int ret = decode(json, &pod, &c, &err);

	if (ret != -EINVAL || strcmp(err.msg, msg) != 0)
		print_error("json: %s\nwant: %s\ngot:  %s (%d)\n", json, msg,
			    err.msg, ret);
	assert_int_equal(ret, -EINVAL);
	assert_null(pod);
	assert_string_equal(err.msg, msg);
	assert_true(c.n >= 1);
}

/* The spec with one container whose extra fields are X. */
#define CTR(X) POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"c\"," \
	"\"image\":\"busybox\"" X "}]}}"

static void test_minimal(void **state)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	assert_int_equal(decode(POD_HEAD MIN_META "," MIN_SPEC "}", &pod, NULL,
				&err), 0);
	assert_string_equal(pod->name, "p");
	assert_string_equal(pod->namespace, "default");
	assert_null(pod->uid);
	assert_int_equal(pod->restart_policy, POD_RESTART_ALWAYS);
	assert_int_equal(pod->grace_period, POD_DEFAULT_GRACE);
	assert_int_equal(pod->n_containers, 1);
	assert_string_equal(pod->containers[0].name, "c");
	assert_string_equal(pod->containers[0].image, "busybox");
	assert_false(pod->containers[0].has_command);
	assert_false(pod->containers[0].has_args);
	assert_null(pod->containers[0].command);
	assert_null(pod->hostname);
	assert_ptr_equal(pod_find_container(pod, "c"), &pod->containers[0]);
	assert_null(pod_find_container(pod, "d"));
	pod_free(pod);
}

static const char full_pod[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
	"\"name\":\"web.example\",\"namespace\":\"team-a\",\"uid\":\"abc-123\","
	"\"creationTimestamp\":null,"
	"\"labels\":{\"app\":\"web\",\"example.com/tier\":\"front_end.1\",\"e\":\"\"},"
	"\"annotations\":{\"note\":\"any text: at all\"}},"
	"\"spec\":{\"restartPolicy\":\"OnFailure\","
	"\"terminationGracePeriodSeconds\":5,\"hostname\":\"myhost\","
	"\"dnsPolicy\":\"ClusterFirst\",\"hostNetwork\":false,"
	"\"containers\":[{\"name\":\"main\",\"image\":\"docker.io/library/busybox:1.36\","
	"\"command\":[\"/bin/sh\",\"-c\"],\"args\":[\"echo hi\"],"
	"\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\"},"
	"{\"name\":\"A\",\"value\":\"2\"}],"
	"\"workingDir\":\"/srv\",\"imagePullPolicy\":\"Never\",\"tty\":true,"
	"\"stdin\":true,\"resources\":{},"
	"\"terminationMessagePath\":\"/dev/termination-log\","
	"\"terminationMessagePolicy\":\"File\"},"
	"{\"name\":\"side\",\"image\":\"nginx\",\"args\":[\"-g\",\"daemon off;\"]}]},"
	"\"status\":{}}";

static void check_full(const struct pod *pod)
{
	const struct pod_container *c = &pod->containers[0];

	assert_string_equal(pod->name, "web.example");
	assert_string_equal(pod->namespace, "team-a");
	assert_string_equal(pod->uid, "abc-123");
	assert_int_equal(pod->n_labels, 3);
	assert_int_equal(pod->n_annotations, 1);
	assert_string_equal(pod->annotations[0].value, "any text: at all");
	assert_int_equal(pod->restart_policy, POD_RESTART_ON_FAILURE);
	assert_int_equal(pod->grace_period, 5);
	assert_string_equal(pod->hostname, "myhost");
	assert_int_equal(pod->n_containers, 2);
	assert_true(c->has_command);
	assert_int_equal(c->n_command, 2);
	assert_string_equal(c->command[1], "-c");
	assert_null(c->command[2]);
	assert_int_equal(c->n_args, 1);
	assert_string_equal(c->args[0], "echo hi");
	/* duplicate env names: last value wins, first position kept */
	assert_int_equal(c->n_env, 2);
	assert_string_equal(c->env[0].name, "A");
	assert_string_equal(c->env[0].value, "2");
	assert_string_equal(c->env[1].name, "B");
	assert_string_equal(c->env[1].value, "");
	assert_string_equal(c->working_dir, "/srv");
	assert_int_equal(c->pull_policy, POD_PULL_NEVER);
	assert_true(c->tty);
	assert_true(c->stdin_open);
	c = &pod->containers[1];
	assert_false(c->has_command);
	assert_true(c->has_args);
	assert_string_equal(c->args[1], "daemon off;");
	assert_int_equal(c->pull_policy, POD_PULL_DEFAULT);
}

static void test_full_and_round_trip(void **state)
{
	struct pod *pod = NULL, *again = NULL;
	struct pv_err err = { 0 };
	struct json_object *j;
	const char *text;

	assert_int_equal(decode(full_pod, &pod, NULL, &err), 0);
	check_full(pod);
	j = pod_to_json(pod);
	assert_non_null(j);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	assert_int_equal(decode(text, &again, NULL, &err), 0);
	check_full(again);
	json_object_put(j);
	pod_free(again);
	pod_free(pod);
}

/* Each manifest and the one message it gets, exactly. */
static const struct { const char *json, *msg; } errors_exact[] = {
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
	  "\"image\":\"x\"},{\"name\":\"b\",\"image\":\"x\",\"foo\":1}]}}",
	  "spec.containers[1].foo: unknown field" },
	{ CTR(",\"command\":\"ls\""),
	  "spec.containers[0].command: expected array of strings" },
	{ CTR(",\"command\":[\"ls\",1]"),
	  "spec.containers[0].command: expected array of strings" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
	  "spec.containers[0].image: Required value" },
	{ POD_HEAD "\"metadata\":{\"name\":\"Foo_bar\"}," MIN_SPEC "}",
	  "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC "
	  "1123 subdomain must consist of lower case alphanumeric "
	  "characters, '-' or '.', and must start and end with an "
	  "alphanumeric character" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"x\","
	  "\"image\":\"a\"},{\"name\":\"x\",\"image\":\"b\"}]}}",
	  "spec.containers[1].name: Duplicate value: \"x\"" },
	{ "{\"apiVersion\":\"v2\",\"kind\":\"Pod\"," MIN_META "," MIN_SPEC "}",
	  "apiVersion: Unsupported value: \"v2\": supported values: \"v1\"" },
	{ "{\"apiVersion\":\"v1\"," MIN_META "," MIN_SPEC "}",
	  "kind: Required value" },
	{ POD_HEAD MIN_SPEC "}",
	  "metadata.name: Required value: name is required" },
	{ POD_HEAD MIN_META "}",
	  "spec.containers: Required value" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[]}}",
	  "spec.containers: Required value" },
	{ POD_HEAD MIN_META ",\"spec\":{\"hostNetwork\":true,"
	  "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.hostNetwork: Forbidden: not supported: pods run in "
	  "their own microVM" },
	{ POD_HEAD MIN_META ",\"spec\":{\"volumes\":[{\"name\":\"v\","
	  "\"hostPath\":{\"path\":\"/\"}}],"
	  "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.volumes[0].hostPath: Forbidden: hostPath volumes are "
	  "not supported: pods run in their own microVM" },
	{ POD_HEAD MIN_META ",\"spec\":{\"restartPolicy\":\"Sometimes\","
	  "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.restartPolicy: Unsupported value: \"Sometimes\": "
	  "supported values: \"Always\", \"OnFailure\", \"Never\"" },
	{ POD_HEAD MIN_META ",\"spec\":{\"terminationGracePeriodSeconds\":-1,"
	  "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.terminationGracePeriodSeconds: Invalid value: -1: must "
	  "be greater than or equal to 0" },
	{ POD_HEAD MIN_META ",\"spec\":{\"terminationGracePeriodSeconds\":1.5,"
	  "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.terminationGracePeriodSeconds: expected integer" },
	{ POD_HEAD MIN_META ",\"spec\":{\"terminationGracePeriodSeconds\":"
	  "99999999999999999999,\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
	  "spec.terminationGracePeriodSeconds: Invalid value: out of range for int64" },
	{ CTR(",\"workingDir\":\"srv\""),
	  "spec.containers[0].workingDir: Invalid value: \"srv\": must be "
	  "an absolute path" },
	{ CTR(",\"resources\":{\"requests\":{\"cpu\":\"2\"},"
	  "\"limits\":{\"cpu\":\"1\"}}"),
	  "spec.containers[0].resources.requests: Invalid value: \"2\": "
	  "must be less than or equal to cpu limit of 1" },
	{ CTR(",\"resources\":{\"foo\":{}}"),
	  "spec.containers[0].resources.foo: unknown field" },
	{ CTR(",\"securityContext\":{\"privileged\":true}"),
	  "spec.containers[0].securityContext.privileged: Forbidden: "
	  "privileged containers are not supported: Fargate-style pods "
	  "run in their own microVM without host access" },
	{ CTR(",\"env\":[{\"name\":\"1A\"}]"),
	  "spec.containers[0].env[0].name: Invalid value: \"1A\": a valid "
	  "environment variable name must consist of alphabetic "
	  "characters, digits, '_', '-', or '.', and must not start "
	  "with a digit" },
	{ CTR(",\"env\":[{\"value\":\"x\"}]"),
	  "spec.containers[0].env[0].name: Required value" },
	{ CTR(",\"env\":[{\"name\":\"A\",\"valueFrom\":{}}]"),
	  "spec.containers[0].env[0].valueFrom: Invalid value: \"\": must "
	  "specify one of: `fieldRef`, `resourceFieldRef`, "
	  "`configMapKeyRef` or `secretKeyRef`" },
	{ CTR(",\"tty\":\"yes\""),
	  "spec.containers[0].tty: expected boolean" },
	{ CTR(",\"imagePullPolicy\":\"Sometimes\""),
	  "spec.containers[0].imagePullPolicy: Unsupported value: "
	  "\"Sometimes\": supported values: \"IfNotPresent\", \"Never\", \"Always\"" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"labels\":{\"-bad\":\"x\"}},"
	  MIN_SPEC "}",
	  "metadata.labels: Invalid value: \"-bad\": name part must "
	  "consist of alphanumeric characters, '-', '_' or '.', and must "
	  "start and end with an alphanumeric character" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b c\"}},"
	  MIN_SPEC "}",
	  "metadata.labels: Invalid value: \"b c\": a valid label must be "
	  "an empty string or consist of alphanumeric characters, '-', "
	  "'_' or '.', and must start and end with an alphanumeric character" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":1}},"
	  MIN_SPEC "}",
	  "metadata.labels: expected map of string to string" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"annotations\":{\"/x\":\"1\"}},"
	  MIN_SPEC "}",
	  "metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"namespace\":\"A\"}," MIN_SPEC "}",
	  "metadata.namespace: Invalid value: \"A\": a lowercase RFC 1123 "
	  "label must consist of lower case alphanumeric characters or "
	  "'-', and must start and end with an alphanumeric character" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2020\"},"
	  MIN_SPEC "}",
	  "metadata.creationTimestamp: Forbidden: set by the server; must be null" },
	{ POD_HEAD "\"metadata\":{\"name\":\"p\",\"generateName\":\"x\"},"
	  MIN_SPEC "}",
	  "metadata.generateName: unknown field" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"c\","
	  "\"image\":\"bad image\"}]}}",
	  "spec.containers[0].image: Invalid value: \"bad image\": must "
	  "not contain whitespace or control characters" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"c\\u0000x\","
	  "\"image\":\"x\"}]}}",
	  "spec.containers[0].name: Invalid value: must not contain NUL bytes" },
	{ POD_HEAD MIN_META ",\"spec\":{\"containers\":[{\"name\":\"c\\u0001\","
	  "\"image\":\"x\"}]}}",
	  "spec.containers[0].name: Invalid value: \"c\\x01\": a lowercase "
	  "RFC 1123 label must consist of lower case alphanumeric "
	  "characters or '-', and must start and end with an "
	  "alphanumeric character" },
	{ "[]",
	  "expected a JSON object (Pod)" },
};

static void test_errors_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(errors_exact) / sizeof(errors_exact[0]); i++)
		expect_err(errors_exact[i].json, errors_exact[i].msg);
}

static void test_causes(void **state)
{
	struct pod *pod = NULL;
	struct pod_causes c;
	struct pv_err err = { 0 };
	char json[8192];
	size_t o;

	/* three problems, all reported */
	assert_int_equal(decode("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"x\":1,"
				"\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
				"[{\"name\":\"c\"}],\"y\":2}}", &pod, &c, &err), -EINVAL);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.items[0].field, "x");
	assert_string_equal(c.items[0].reason, "FieldValueNotSupported");
	assert_string_equal(c.items[0].message, "unknown field");
	assert_string_equal(c.items[1].field, "spec.containers[0].image");
	assert_string_equal(c.items[1].reason, "FieldValueRequired");
	assert_string_equal(c.items[2].field, "spec.y");

	/* many problems: capped at POD_MAX_CAUSES */
	o = (size_t)snprintf(json, sizeof(json), POD_HEAD MIN_META "," MIN_SPEC);
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o, ",\"f%d\":1", i);
	snprintf(json + o, sizeof(json) - o, "}");
	assert_int_equal(decode(json, &pod, &c, &err), -EINVAL);
	assert_int_equal(c.n, POD_MAX_CAUSES);
	assert_string_equal(err.msg, "f0: unknown field");
}

static void test_limits(void **state)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };
	char *json, *p;
	size_t cap = 1 << 20;

	json = malloc(cap);
	assert_non_null(json);
	/* 17 containers */
	p = json + sprintf(json, POD_HEAD MIN_META ",\"spec\":{\"containers\":[");
	for (int i = 0; i < POD_MAX_CONTAINERS + 1; i++)
		p += sprintf(p, "%s{\"name\":\"c%d\",\"image\":\"x\"}", i ? "," : "", i);
	strcpy(p, "]}}");
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers: Too many: 17: must have at most 16 items");

	/* command + args share POD_MAX_ARGS */
	p = json + sprintf(json, POD_HEAD MIN_META ",\"spec\":{\"containers\":"
			   "[{\"name\":\"c\",\"image\":\"x\",\"command\":[");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "%s\"a\"", i ? "," : "");
	p += sprintf(p, "],\"args\":[");
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "%s\"b\"", i ? "," : "");
	strcpy(p, "]}]}}");
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers[0].args: Too many: 100: "
			    "must have at most 56 items");

	/* a string over POD_MAX_STR */
	p = json + sprintf(json, POD_HEAD MIN_META ",\"spec\":{\"containers\":"
			   "[{\"name\":\"c\",\"image\":\"x\",\"args\":[\"");
	memset(p, 'a', POD_MAX_STR + 1);
	p += POD_MAX_STR + 1;
	strcpy(p, "\"]}]}}");
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers[0].args[0]: Too long: may "
			    "not be more than 4096 bytes");

	/* image reference over POD_IMAGE_REF_MAX */
	p = json + sprintf(json, POD_HEAD MIN_META ",\"spec\":{\"containers\":"
			   "[{\"name\":\"c\",\"image\":\"");
	memset(p, 'a', POD_IMAGE_REF_MAX + 1);
	p += POD_IMAGE_REF_MAX + 1;
	strcpy(p, "\"}]}}");
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers[0].image: Too long: may "
			    "not be more than 512 bytes");

	/* deep nesting inside an unknown field: the tokener's depth limit */
	p = json + sprintf(json, POD_HEAD "\"x\":");
	for (int i = 0; i < 100000; i++)
		*p++ = '[';
	*p = '\0';
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "invalid JSON: nesting too deep"));

	/* a hostile, very long key ends the path with "..." */
	p = json + sprintf(json, POD_HEAD MIN_META "," MIN_SPEC ",\"");
	memset(p, 'k', 1000);
	p += 1000;
	strcpy(p, "\":1}");
	assert_int_equal(decode(json, &pod, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "k...: unknown field"));
	assert_int_equal(strlen(err.msg), 255 + strlen(": unknown field"));
	free(json);
}

static void test_json_syntax(void **state)
{
	struct pod *pod = NULL;
	struct pod_causes c;
	struct pv_err err = { 0 };
	static const char ok[] = POD_HEAD MIN_META "," MIN_SPEC "}";
	char buf[512];

	snprintf(buf, sizeof(buf), "%s  \n", ok);
	assert_int_equal(decode(buf, &pod, NULL, &err), 0);
	pod_free(pod);
	snprintf(buf, sizeof(buf), "%s {}", ok);
	assert_int_equal(decode(buf, &pod, &c, &err), -EINVAL);
	assert_null(pod);
	snprintf(buf, sizeof(buf), "invalid JSON: trailing data at offset %zu",
		 strlen(ok) + 1);
	assert_string_equal(err.msg, buf);
	assert_int_equal(c.n, 1);
	assert_int_equal(decode("{\"a\":", &pod, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unexpected end of input"));
	assert_int_equal(decode("{a:1}", &pod, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "invalid JSON: quoted object property "
			    "name expected at offset 1");
	assert_int_equal(decode("", &pod, NULL, &err), -EINVAL);
	assert_int_equal(pod_decode_json("{\"a\"\0:1}", 9, &pod, NULL, &err), -EINVAL);
}

static void test_optional_nulls(void **state)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	assert_int_equal(decode(POD_HEAD "\"metadata\":{\"name\":\"p\",\"labels\":null,"
				"\"namespace\":\"\"},\"spec\":{\"hostPID\":false,"
				"\"dnsPolicy\":\"Default\",\"containers\":[{\"name\":\"c\","
				"\"image\":\"x\",\"command\":[],\"args\":null,\"env\":[]}]}}",
				&pod, NULL, &err), 0);
	assert_string_equal(pod->namespace, "default");
	assert_false(pod->containers[0].has_command);
	assert_false(pod->containers[0].has_args);
	assert_int_equal(pod->containers[0].n_env, 0);
	pod_free(pod);
	expect_err(POD_HEAD MIN_META ",\"spec\":{\"dnsPolicy\":\"None\","
		   "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
		   "spec.dnsPolicy: Unsupported value: \"None\": supported "
		   "values: \"ClusterFirst\", \"Default\"");
}

static void test_names(void **state)
{
	char s300[300];

	assert_true(pod_is_dns1123_label("a"));
	assert_true(pod_is_dns1123_label("a-1"));
	assert_false(pod_is_dns1123_label(""));
	assert_false(pod_is_dns1123_label("-a"));
	assert_false(pod_is_dns1123_label("a-"));
	assert_false(pod_is_dns1123_label("A"));
	assert_false(pod_is_dns1123_label("a.b"));
	memset(s300, 'a', sizeof(s300));
	s300[63] = '\0';
	assert_true(pod_is_dns1123_label(s300));
	s300[63] = 'a';
	s300[64] = '\0';
	assert_false(pod_is_dns1123_label(s300));
	assert_true(pod_is_dns1123_subdomain("a.b-c.d"));
	assert_false(pod_is_dns1123_subdomain("a..b"));
	assert_false(pod_is_dns1123_subdomain(".a"));
	assert_false(pod_is_dns1123_subdomain("a."));
	assert_false(pod_is_dns1123_subdomain("a_b"));
	memset(s300, 'a', 100);
	s300[100] = '\0';
	assert_true(pod_is_dns1123_subdomain(s300));   /* no 63 cap per part */
	for (int i = 0; i < 254; i++)
		s300[i] = (i % 2) ? '.' : 'a';
	s300[253] = '\0';
	assert_true(pod_is_dns1123_subdomain(s300));
	s300[253] = 'a';
	s300[254] = 'a';
	s300[255] = '\0';
	assert_false(pod_is_dns1123_subdomain(s300));
	assert_true(pod_is_env_name("PATH"));
	assert_true(pod_is_env_name("_a.b-c9"));
	assert_false(pod_is_env_name("9a"));
	assert_false(pod_is_env_name(""));
	assert_false(pod_is_env_name("A=B"));
	assert_false(pod_is_env_name(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full_and_round_trip),
		cmocka_unit_test(test_errors_exact),
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_json_syntax),
		cmocka_unit_test(test_optional_nulls),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

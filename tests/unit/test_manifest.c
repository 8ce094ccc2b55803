/* cli/manifest.c: YAML/JSON manifests into json-c, errors with positions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "pod/pod.h"

static struct json_object *parse_ok(const char *text)
{
	struct json_object *o = NULL;
	struct pv_err err = { 0 };

	if (manifest_parse(text, strlen(text), "t.yaml", &o, &err) < 0)
		fail_msg("parse: %s", err.msg);
	return o;
}

static void expect_err(const char *text, const char *msg)
{
	struct json_object *o = (struct json_object *)1;
	struct pv_err err = { 0 };

	assert_int_equal(manifest_parse(text, strlen(text), "t.yaml", &o, &err),
			 -EINVAL);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("want: %s\ngot:  %s", msg, err.msg);
	assert_null(o);
}

static const char hello_yaml[] =
	"# a sample\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata:\n"
	"  name: hello\n"
	"  labels: {app: hello}\n"
	"spec:\n"
	"  restartPolicy: Never\n"
	"  terminationGracePeriodSeconds: 3\n"
	"  containers:\n"
	"  - name: hello\n"
	"    image: busybox\n"
	"    command: [\"/bin/sh\", \"-c\"]\n"
	"    args:\n"
	"    - |\n"
	"      echo hello\n"
	"      sleep 1\n"
	"    env:\n"
	"    - name: N\n"
	"      value: \"42\"\n"
	"status: {}\n";

static void test_yaml_pod(void **state)
{
	struct json_object *o = parse_ok(hello_yaml);
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	assert_int_equal(pod_decode(o, &pod, NULL, &err), 0);
	assert_string_equal(pod->name, "hello");
	assert_int_equal(pod->grace_period, 3);
	assert_int_equal(pod->restart_policy, POD_RESTART_NEVER);
	assert_string_equal(pod->containers[0].args[0], "echo hello\nsleep 1\n");
	assert_string_equal(pod->containers[0].env[0].value, "42");
	pod_free(pod);
	json_object_put(o);

	/* leading and trailing "---" around one document are fine */
	o = parse_ok("---\na: 1\n---\n");
	assert_true(json_object_is_type(o, json_type_object));
	json_object_put(o);
}

static void expect_type(struct json_object *o, const char *key,
			enum json_type t)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	if (!json_object_is_type(v, t))
		fail_msg("%s: type %s", key,
			 json_type_to_name(json_object_get_type(v)));
}

static void test_scalars(void **state)
{
	struct json_object *o = parse_ok(
		"n1: null\nn2: ~\nn3:\nn4: NULL\n"
		"b1: true\nb2: False\nb3: TRUE\n"
		"i1: 42\ni2: -7\ni3: +3\n"
		"f1: 1.5\nf2: 1e3\nf3: 99999999999999999999\n"
		"s1: \"123\"\ns2: 'true'\ns3: yes\ns4: 0x1f\ns5: hello world\n"
		"s6: >\n  folded\n  text\ns7: !!str 12\ns8: .inf\n");
	struct json_object *v;

	expect_type(o, "n1", json_type_null);
	expect_type(o, "n2", json_type_null);
	expect_type(o, "n3", json_type_null);
	expect_type(o, "n4", json_type_null);
	expect_type(o, "b1", json_type_boolean);
	expect_type(o, "b2", json_type_boolean);
	expect_type(o, "b3", json_type_boolean);
	expect_type(o, "i1", json_type_int);
	expect_type(o, "i2", json_type_int);
	expect_type(o, "i3", json_type_int);
	expect_type(o, "f1", json_type_double);
	expect_type(o, "f2", json_type_double);
	expect_type(o, "f3", json_type_double);
	for (int i = 1; i <= 8; i++) {
		char k[16];

		snprintf(k, sizeof(k), "s%d", i);
		expect_type(o, k, json_type_string);
	}
	json_object_object_get_ex(o, "i2", &v);
	assert_int_equal(json_object_get_int64(v), -7);
	json_object_object_get_ex(o, "b2", &v);
	assert_false(json_object_get_boolean(v));
	json_object_object_get_ex(o, "s6", &v);
	assert_string_equal(json_object_get_string(v), "folded text\n");
	json_object_put(o);
}

static void test_yaml_errors(void **state)
{
	expect_err("a: 1\nb:\n  c: 2\n  c: 3\n",
		   "t.yaml:4:3: duplicate key \"c\"");
	expect_err("a: &x [1]\nb: *x\n",
		   "t.yaml:2:4: YAML aliases are not supported");
	expect_err("a: 1\n---\nb: 2\n",
		   "t.yaml:3:1: multiple YAML documents; podvm runs one Pod");
	expect_err("a: b: c\n", "t.yaml:1:5: mapping values are not allowed "
		   "in this context");
	expect_err("a:\n  - 1\n b: 2\n", "t.yaml:3:2: did not find expected key");
	expect_err("a: \"x\n", "t.yaml:2:1: found unexpected end of stream");
	expect_err("? [a]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars");
	expect_err("a: !custom x\n", "t.yaml:1:4: unsupported YAML tag");
	expect_err("# only a comment\n", "t.yaml: no document in manifest");
	expect_err("", "t.yaml: no document in manifest");
}

static void test_depth(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	struct json_object *o = NULL;
	struct pv_err err = { 0 };

	assert_non_null(s);
	memset(s, '[', n);
	s[n] = '\0';
	assert_int_equal(manifest_parse(s, n, "d.yaml", &o, &err), -EINVAL);
	assert_string_equal(err.msg, "d.yaml:1:65: nesting too deep");
	memcpy(s, "{\"a\":", 5);
	assert_int_equal(manifest_parse(s, n, "d.json", &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	free(s);
}

static void test_json(void **state)
{
	struct json_object *o = parse_ok("\n  {\"a\": [1, \"x\"]}\n");

	expect_type(o, "a", json_type_array);
	json_object_put(o);
	expect_err("{\"a\":1}\n{}", "t.yaml:2:1: invalid JSON: trailing data");
	expect_err("\n{\"a\":}", "t.yaml:2:6: invalid JSON: unexpected character");
	expect_err("{\"a\":1", "t.yaml:1:7: invalid JSON: unexpected end of input");
}

static void test_load(void **state)
{
	char dir[] = "/tmp/podvm-manifest-XXXXXX", path[128];
	struct json_object *o = NULL;
	struct pv_err err = { 0 };
	FILE *f;
	char *big;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(manifest_load(path, &o, &err), -ENOENT);
	assert_true(strlen(err.msg) > strlen(path));
	assert_string_equal(err.msg + strlen(path), ": No such file or directory");

	snprintf(path, sizeof(path), "%s/pod.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(hello_yaml, f);
	fclose(f);
	assert_int_equal(manifest_load(path, &o, &err), 0);
	expect_type(o, "spec", json_type_object);
	json_object_put(o);

	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, ' ', 1024 * 1024 + 1);
	big[0] = '#';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(big, 1, 1024 * 1024 + 1, f), 1024 * 1024 + 1);
	fclose(f);
	assert_int_equal(manifest_load(path, &o, &err), -EFBIG);
	assert_non_null(strstr(err.msg, ": manifest larger than 1 MiB"));
	assert_int_equal(manifest_parse(big, 1024 * 1024 + 1, "x", &o, &err), -EFBIG);
	free(big);
	unlink(path);
	assert_int_equal(manifest_load(dir, &o, &err), -EISDIR);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_pod),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* cli/podview.c, cli/tabw.c, cli_apply_same, cli_parse_duration: what the
 * podvm client commands show, without a server. */
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

#include "cli/cli.h"
#include "cli/podview.h"

static struct json_object *js(const char *text)
{
	struct json_object *o = NULL;
	struct pv_err err = { 0 };

	if (cli_parse_json(text, strlen(text), &o, &err) < 0)
		fail_msg("parse: %s: %s", err.msg, text);
	return o;
}

static void expect_age(int64_t s, const char *want)
{
	char buf[32];

	cli_age_format(s, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("age %lld: got %s, want %s", (long long)s, buf, want);
}

static void test_age(void **state)
{
	(void)state;
	expect_age(-5, "<invalid>");
	expect_age(-1, "0s");
	expect_age(0, "0s");
	expect_age(5, "5s");
	expect_age(119, "119s");
	expect_age(120, "2m");
	expect_age(192, "3m12s");
	expect_age(599, "9m59s");
	expect_age(600, "10m");
	expect_age(3 * 3600 - 1, "179m");
	expect_age(3 * 3600, "3h");
	expect_age(3 * 3600 + 5 * 60, "3h5m");
	expect_age(8 * 3600, "8h");
	expect_age(47 * 3600, "47h");
	expect_age(48 * 3600, "2d");
	expect_age(3 * 86400 + 4 * 3600, "3d4h");
	expect_age(8 * 86400, "8d");
	expect_age(400 * 86400, "400d");
	expect_age(2 * 365 * 86400 + 10 * 86400, "2y10d");
	expect_age(3 * 365 * 86400, "3y");
	expect_age(9 * 365 * 86400, "9y");
}

static void test_time_parse(void **state)
{
	int64_t t = 0;
	char buf[64];

	(void)state;
	assert_int_equal(cli_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cli_time_parse("2024-01-02T03:04:05Z", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(cli_time_parse("2024-01-02T03:04:05.123456789Z", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(cli_time_parse("2024-01-02T05:04:05+02:00", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(cli_time_parse("2024-01-02T03:04:05", &t), -EINVAL);
	assert_int_equal(cli_time_parse("2024-13-02T03:04:05Z", &t), -EINVAL);
	assert_int_equal(cli_time_parse("2024-01-02T03:04:05Zjunk", &t), -EINVAL);
	assert_int_equal(cli_time_parse("", &t), -EINVAL);
	assert_int_equal(cli_time_parse(NULL, &t), -EINVAL);
	cli_age_since("2024-01-02T03:04:05Z", 1704164645 + 90, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	cli_age_since("garbage", 0, buf, sizeof(buf));
	assert_string_equal(buf, "<unknown>");
	cli_time_long("nope", buf, sizeof(buf));
	assert_string_equal(buf, "<invalid>");
}

static void expect_status(const char *pod, const char *want)
{
	struct json_object *o = js(pod);
	char buf[96];

	cli_pod_status(o, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("status: got \"%s\", want \"%s\" for %s", buf, want, pod);
	json_object_put(o);
}

static void test_status(void **state)
{
	(void)state;
	expect_status("{\"status\":{\"phase\":\"Pending\"}}", "Pending");
	expect_status("{\"status\":{\"phase\":\"Pending\",\"containerStatuses\":"
		      "[{\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
		      "ContainerCreating");
	expect_status("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":"
		      "[{\"ready\":true,\"state\":{\"running\":{}}},"
		      "{\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
		      "CrashLoopBackOff");
	expect_status("{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":"
		      "[{\"state\":{\"terminated\":{\"reason\":\"Completed\",\"exitCode\":0}}}]}}",
		      "Completed");
	expect_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":"
		      "[{\"state\":{\"terminated\":{\"reason\":\"Error\",\"exitCode\":1}}}]}}",
		      "Error");
	expect_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":"
		      "[{\"state\":{\"terminated\":{\"reason\":\"StartError\",\"exitCode\":128}}}]}}",
		      "StartError");
	/* The first container with a reason wins (kubectl walks backwards). */
	expect_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":["
		      "{\"state\":{\"terminated\":{\"reason\":\"Error\"}}},"
		      "{\"state\":{\"terminated\":{\"reason\":\"Completed\"}}}]}}",
		      "Error");
	expect_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":"
		      "[{\"state\":{\"terminated\":{\"exitCode\":3}}}]}}", "ExitCode:3");
	expect_status("{\"status\":{\"phase\":\"Failed\",\"containerStatuses\":"
		      "[{\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
		      "Signal:9");
	/* Completed but another container still running. */
	expect_status("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":"
		      "\"Ready\",\"status\":\"True\"}],\"containerStatuses\":["
		      "{\"state\":{\"terminated\":{\"reason\":\"Completed\"}}},"
		      "{\"ready\":true,\"state\":{\"running\":{}}}]}}", "Running");
	expect_status("{\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
		      "{\"state\":{\"terminated\":{\"reason\":\"Completed\"}}},"
		      "{\"ready\":true,\"state\":{\"running\":{}}}]}}", "NotReady");
	expect_status("{\"metadata\":{\"deletionTimestamp\":\"2024-01-02T03:04:05Z\"},"
		      "\"status\":{\"phase\":\"Running\"}}", "Terminating");
	expect_status("{\"metadata\":{\"deletionTimestamp\":\"2024-01-02T03:04:05Z\"},"
		      "\"status\":{\"phase\":\"Succeeded\"}}", "Succeeded");
	expect_status("{\"status\":{\"phase\":\"Failed\",\"reason\":\"VMFailed\"}}",
		      "VMFailed");
	/* Hostile: wrong types are ignored, control characters replaced. */
	expect_status("{\"status\":{\"phase\":7,\"containerStatuses\":{\"x\":1}}}", "");
	expect_status("{\"status\":[1,2]}", "");
	expect_status("{\"status\":{\"phase\":\"Run\\u001b[2Jning\"}}", "Run?[2Jning");
	expect_status("{\"status\":{\"containerStatuses\":[null,7,{\"state\":"
		      "{\"waiting\":{\"reason\":5}}}],\"phase\":\"Pending\"}}", "Pending");
}

static void test_row(void **state)
{
	struct cli_pod_row row;
	struct json_object *o = js(
		"{\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\","
		"\"creationTimestamp\":\"2024-01-02T03:04:05Z\"},"
		"\"spec\":{\"nodeName\":\"node1\",\"containers\":[{},{}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.7\","
		"\"containerStatuses\":["
		"{\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}},"
		"\"lastState\":{\"terminated\":{\"finishedAt\":\"2024-01-02T03:05:05Z\"}}},"
		"{\"ready\":false,\"restartCount\":1,\"state\":{\"running\":{}}}]}}");

	(void)state;
	cli_pod_row(o, 1704164645 + 3600, &row);
	assert_string_equal(row.name, "web");
	assert_string_equal(row.namespace, "prod");
	assert_string_equal(row.ready, "1/2");
	assert_string_equal(row.status, "Running");
	assert_string_equal(row.restarts, "3 (59m ago)");
	assert_string_equal(row.age, "60m");
	assert_string_equal(row.ip, "10.0.0.7");
	assert_string_equal(row.node, "node1");
	json_object_put(o);

	o = js("{\"metadata\":{\"name\":\"x\"}}");
	cli_pod_row(o, 0, &row);
	assert_string_equal(row.ready, "0/0");
	assert_string_equal(row.restarts, "0");
	assert_string_equal(row.age, "<unknown>");
	assert_string_equal(row.ip, "<none>");
	assert_string_equal(row.node, "<none>");
	json_object_put(o);
}

static void test_sanitize(void **state)
{
	char buf[16];

	(void)state;
	cli_sanitize("plain", buf, sizeof(buf));
	assert_string_equal(buf, "plain");
	cli_sanitize("a\tb\nc\x1b", buf, sizeof(buf));
	assert_string_equal(buf, "a?b?c?");
	cli_sanitize("\xc2\x9b" "31m", buf, sizeof(buf));   /* C1 CSI */
	assert_string_equal(buf, "?31m");
	cli_sanitize("\xe2\x80\xae" "x", buf, sizeof(buf));  /* RLO */
	assert_string_equal(buf, "?x");
	cli_sanitize("\xff\xc3", buf, sizeof(buf));          /* invalid UTF-8 */
	assert_string_equal(buf, "??");
	cli_sanitize("caf\xc3\xa9", buf, sizeof(buf));       /* valid é */
	assert_string_equal(buf, "caf\xc3\xa9");
	cli_sanitize("0123456789abcdefghij", buf, sizeof(buf));
	assert_string_equal(buf, "0123456789ab...");
	cli_sanitize("0123456789a\xc3\xa9\xc3\xa9xyz", buf, sizeof(buf));
	assert_string_equal(buf, "0123456789a...");   /* no split é */
	cli_sanitize(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(cli_text_width("caf\xc3\xa9"), 4);
}

static void test_selector(void **state)
{
	struct cli_selector sel;
	struct pv_err err = { 0 };
	struct json_object *labels = js("{\"app\":\"web\",\"tier\":\"front\"}");

	(void)state;
	assert_int_equal(cli_selector_parse("app=web", &sel, &err), 0);
	assert_true(cli_selector_match(&sel, labels));
	assert_int_equal(cli_selector_parse("app==web, tier!=back", &sel, &err), 0);
	assert_int_equal(sel.n, 2);
	assert_int_equal(sel.terms[1].op, CLI_SEL_NE);
	assert_true(cli_selector_match(&sel, labels));
	assert_int_equal(cli_selector_parse("app=db", &sel, &err), 0);
	assert_false(cli_selector_match(&sel, labels));
	assert_int_equal(cli_selector_parse("tier,!gone", &sel, &err), 0);
	assert_true(cli_selector_match(&sel, labels));
	assert_int_equal(cli_selector_parse("!app", &sel, &err), 0);
	assert_false(cli_selector_match(&sel, labels));
	assert_int_equal(cli_selector_parse("x!=y", &sel, &err), 0);
	assert_true(cli_selector_match(&sel, NULL));   /* missing matches != */
	assert_int_equal(cli_selector_parse("example.com/role=a-b_c.d", &sel, &err), 0);
	assert_string_equal(sel.terms[0].key, "example.com/role");
	assert_int_equal(cli_selector_parse("", &sel, &err), 0);
	assert_int_equal(sel.n, 0);
	assert_true(cli_selector_match(&sel, labels));

	assert_int_equal(cli_selector_parse("app in (a,b)", &sel, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not supported"));
	assert_int_equal(cli_selector_parse("a=b,", &sel, &err), -EINVAL);
	assert_int_equal(cli_selector_parse("=b", &sel, &err), -EINVAL);
	assert_int_equal(cli_selector_parse("a=-b", &sel, &err), -EINVAL);
	assert_int_equal(cli_selector_parse("a b=c", &sel, &err), -EINVAL);
	assert_int_equal(cli_selector_parse("a<b", &sel, &err), -EINVAL);
	json_object_put(labels);
}

static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	fn(fp, arg);
	fclose(fp);
	return buf;
}

static void table_fn(FILE *fp, void *arg)
{
	struct cli_table *t = arg;
	const char *h[3] = { "NAME", "STATUS", "AGE" };
	const char *r1[3] = { "hello", "Running", "5s" };
	const char *r2[3] = { "a\tb", "ContainerCreating", "10m" };
	const char *r3[3] = { "late", "Completed", "1h" };

	assert_int_equal(cli_table_add(t, h), 0);
	assert_int_equal(cli_table_add(t, r1), 0);
	assert_int_equal(cli_table_add(t, r2), 0);
	assert_int_equal(cli_table_flush(t, fp), 0);
	/* A later (watch) row keeps the columns of the first print. */
	assert_int_equal(cli_table_add(t, r3), 0);
	assert_int_equal(cli_table_flush(t, fp), 0);
}

static void test_table(void **state)
{
	struct cli_table t;
	char *out;

	(void)state;
	assert_int_equal(cli_table_init(&t, 3), 0);
	out = capture(table_fn, &t);
	assert_string_equal(out,
		"NAME    STATUS              AGE\n"
		"hello   Running             5s\n"
		"a?b     ContainerCreating   10m\n"
		"late    Completed           1h\n");
	free(out);
	cli_table_free(&t);
	assert_int_equal(cli_table_init(&t, 0), -EINVAL);
	assert_int_equal(cli_table_init(&t, CLI_TABLE_MAX_COLS + 1), -EINVAL);
}

static void tabw_fn(FILE *fp, void *arg)
{
	struct cli_tabw *w = arg;
	const char *l1[2] = { "Name:", "hello" };
	const char *l2[2] = { "Annotations:", "<none>" };
	const char *l3[1] = { "Containers:" };
	const char *l4[2] = { "    State:", "Running" };
	const char *l5[2] = { "      Started:", "x\ty" };
	const char *l6[2] = { "  Type", "Status" };
	const char *l7[2] = { "  Ready ", "True " };

	cli_tabw_line(w, true, 2, l1);
	cli_tabw_line(w, true, 2, l2);
	cli_tabw_line(w, true, 1, l3);
	cli_tabw_line(w, true, 2, l4);
	cli_tabw_line(w, false, 2, l5);
	cli_tabw_line(w, true, 1, l3);
	cli_tabw_line(w, true, 2, l6);
	cli_tabw_line(w, true, 2, l7);
	assert_int_equal(cli_tabw_flush(w, fp), 0);
}

static void test_tabw(void **state)
{
	struct cli_tabw w = { 0 };
	char *out;

	(void)state;
	out = capture(tabw_fn, &w);
	assert_string_equal(out,
		"Name:         hello\n"
		"Annotations:  <none>\n"
		"Containers:\n"
		"    State:      Running\n"
		"      Started:  x?y\n"
		"Containers:\n"
		"  Type    Status\n"
		"  Ready   True \n");
	free(out);
	cli_tabw_free(&w);
}

static void yaml_fn(FILE *fp, void *arg)
{
	struct pv_err err = { 0 };

	assert_int_equal(cli_print_yaml(fp, arg, &err), 0);
}

static void test_yaml(void **state)
{
	struct json_object *o = js(
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\","
		"\"labels\":{\"n\":\"42\",\"b\":\"true\",\"e\":\"\",\"s\":\"a b\"}},"
		"\"spec\":{\"containers\":[{\"args\":[\"x\\u001by\"],\"tty\":false,"
		"\"n\":3}]},\"status\":null}");
	char *out;

	(void)state;
	out = capture(yaml_fn, o);
	assert_string_equal(out,
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata:\n"
		"  labels:\n"
		"    b: 'true'\n"
		"    e: ''\n"
		"    'n': '42'\n"
		"    s: a b\n"
		"  name: x\n"
		"spec:\n"
		"  containers:\n"
		"  - args:\n"
		"    - \"x\\ey\"\n"
		"    'n': 3\n"   /* YAML 1.1 reads a plain n as false */
		"    tty: false\n"
		"status: null\n");
	free(out);
	json_object_put(o);
}

static void test_parse_json(void **state)
{
	struct json_object *o = NULL;
	struct pv_err err = { 0 };
	char deep[400];

	(void)state;
	assert_int_equal(cli_parse_json("{\"a\":1}  \n", 10, &o, &err), 0);
	json_object_put(o);
	assert_int_equal(cli_parse_json("{\"a\":1} x", 9, &o, &err), -EPROTO);
	assert_null(o);
	assert_int_equal(cli_parse_json("{\"a\":", 5, &o, &err), -EPROTO);
	memset(deep, '[', sizeof(deep));
	assert_int_equal(cli_parse_json(deep, sizeof(deep), &o, &err), -EPROTO);
	o = js("{\"a\":{\"b\":\"s\",\"i\":5,\"t\":true,\"l\":[]}}");
	assert_string_equal(cli_jstr(o, "a.b"), "s");
	assert_null(cli_jstr(o, "a.i"));
	assert_null(cli_jstr(o, "a.b.c"));
	assert_null(cli_jobj(o, "a.l"));
	assert_non_null(cli_jarr(o, "a.l"));
	json_object_put(o);
}

static void test_duration(void **state)
{
	int64_t s = 0;

	(void)state;
	assert_int_equal(cli_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(cli_parse_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(cli_parse_duration("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(cli_parse_duration("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(cli_parse_duration("-1s", &s), -EINVAL);
	assert_int_equal(cli_parse_duration("5d", &s), -EINVAL);
	assert_int_equal(cli_parse_duration("", &s), -EINVAL);
}

static const char manifest[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	"\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"containers\":[{\"name\":"
	"\"c\",\"image\":\"busybox\",\"command\":[\"sh\"]}]}}";

static void expect_same(const char *stored, bool want)
{
	struct json_object *s = js(stored), *m = js(manifest);
	struct pv_err err = { 0 };
	bool same = !want;

	assert_int_equal(cli_apply_same(s, m, "default", &same, &err), 0);
	if (same != want)
		fail_msg("same=%d, want %d for %s", same, want, stored);
	json_object_put(s);
	json_object_put(m);
}

static void test_apply_same(void **state)
{
	(void)state;
	/* What a server stores: uid, rv, nodeName, defaults, status, reordered. */
	expect_same("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
		    "\"labels\":{\"b\":\"2\",\"a\":\"1\"},\"name\":\"p\",\"namespace\":"
		    "\"default\",\"uid\":\"u1\",\"resourceVersion\":\"7\","
		    "\"creationTimestamp\":\"2024-01-02T03:04:05Z\"},\"spec\":{"
		    "\"nodeName\":\"n\",\"restartPolicy\":\"Always\","
		    "\"terminationGracePeriodSeconds\":30,\"containers\":[{\"name\":"
		    "\"c\",\"image\":\"busybox\",\"command\":[\"sh\"],"
		    "\"imagePullPolicy\":\"IfNotPresent\"}]},\"status\":{\"phase\":"
		    "\"Running\"}}", true);
	expect_same("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		    "\"p\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"containers\":"
		    "[{\"name\":\"c\",\"image\":\"busybox:1.36\",\"command\":[\"sh\"]}]}}",
		    false);
	expect_same("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		    "\"p\",\"labels\":{\"a\":\"1\"}},\"spec\":{\"containers\":"
		    "[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sh\"]}]}}",
		    false);
	expect_same("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		    "\"p\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"containers\":"
		    "[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sh\"]}],"
		    "\"restartPolicy\":\"Never\"}}", false);
	/* Garbage from the server is "different", never a crash. */
	expect_same("{\"spec\":7}", false);
	expect_same("[]", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_tabw),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_apply_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* OCI seccomp profiles: the strict parser (field paths in errors), the
 * canonical encoding round trip, Localhost profiles read from a profile
 * root (beneath it only) into the runtime, and their trip through the
 * runtime JSON the guest decodes. Also image StopSignal names. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pod/pod.h"
#include "pod/runtime.h"
#include "host/runtime_build.h"
#include "host/seccomp_local.h"

static struct seccomp_profile *parse_ok(const char *text)
{
	struct seccomp_profile *p = NULL;
	struct pv_err err = { 0 };

	if (seccomp_profile_parse(text, strlen(text), &p, &err) < 0)
		fail_msg("unexpected error: %s", err.msg);
	return p;
}

static void parse_err(const char *text, const char *want)
{
	struct seccomp_profile *p = NULL;
	struct pv_err err = { 0 };

	assert_true(seccomp_profile_parse(text, strlen(text), &p, &err) < 0);
	assert_null(p);
	if (strcmp(err.msg, want) != 0)
		fail_msg("want: %s\ngot:  %s", want, err.msg);
}

static void test_parse_full(void **state)
{
	struct seccomp_profile *p;
	const struct scp_rule *r;

	(void)state;
	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
		     "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\","
		     "\"SCMP_ARCH_AARCH64\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
		     "\"listenerPath\":\"\",\"syscalls\":["
		     "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\","
		     "\"comment\":\"io\"},"
		     "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":"
		     "[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,"
		     "\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
		     "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_KILL\"},"
		     "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":7},"
		     "{\"names\":[\"x\"],\"action\":\"SCMP_ACT_LOG\",\"args\":null}]}");
	assert_int_equal(p->default_action, SCP_ACT_ERRNO);
	assert_true(p->has_default_errno);
	assert_int_equal(p->default_errno, 38);
	assert_int_equal(p->arches, SCP_ARCH_X86_64 | SCP_ARCH_X32 | SCP_ARCH_OTHER);
	assert_int_equal(p->flags, SCP_FLAG_LOG);
	assert_int_equal(p->n_rules, 5);
	r = &p->rules[1];
	assert_string_equal(r->names[0], "clone");
	assert_int_equal(r->n_args, 1);
	assert_int_equal(r->args[0].op, SCP_OP_MASKED_EQ);
	assert_int_equal(r->args[0].value, 2114060288);
	assert_int_equal(p->rules[2].action, SCP_ACT_KILL_THREAD);
	assert_int_equal(p->rules[3].errno_ret, 7);
	assert_int_equal(seccomp_profile_errno(false, 0), EPERM);
	seccomp_profile_free(p);

	/* the smallest profile, and 64-bit argument values */
	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_LOG\"}");
	assert_int_equal(p->n_rules, 0);
	seccomp_profile_free(p);
	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		     "[\"ioctl\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":5,"
		     "\"value\":18446744073709551615,\"op\":\"SCMP_CMP_GE\"}]}]}");
	assert_true(p->rules[0].args[0].value == UINT64_MAX);
	seccomp_profile_free(p);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_err("", "invalid JSON: unexpected end");
	parse_err("{\"defaultAction\":", "invalid JSON: unexpected end");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\"} x",
		  "invalid JSON at offset 35: data after the profile");
	parse_err("[]", "expected a JSON object");
	parse_err("{}", "defaultAction: required");
	parse_err("{\"defaultAction\":\"ALLOW\"}",
		  "defaultAction: unknown action \"ALLOW\"");
	parse_err("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}",
		  "defaultAction: SCMP_ACT_NOTIFY is not supported (podvm has no "
		  "seccomp agent)");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}",
		  "defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":4096}",
		  "defaultErrnoRet: must be at most 4095 for SCMP_ACT_ERRNO");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
		  "defaultErrnoRet: must not be negative");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
		  "[\"SCMP_ARCH_VAX\"]}",
		  "architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[1]}",
		  "flags[0]: expected a string");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}",
		  "listenerPath: not supported (podvm has no seccomp agent)");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[]}",
		  "archMap: Docker's profile format is not supported; use "
		  "\"architectures\" (OCI)");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"extra\":1}",
		  "extra: unknown field");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
		  "syscalls: expected an array");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"read\"],"
		  "\"action\":\"SCMP_ACT_FOO\"}]}",
		  "syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		  "syscalls[0].names: must name at least one syscall");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"Read\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		  "syscalls[0].names[0]: expected a syscall name ([a-z0-9_], at most "
		  "64 characters)");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":"
		  "\"read\",\"action\":\"SCMP_ACT_ERRNO\"}]}",
		  "syscalls[0].name: unknown field");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"]}]}", "syscalls[0]: names and action are required");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":1}]}",
		  "syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
		  "SCMP_ACT_TRACE");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{}}]}",
		  "syscalls[0].includes: Docker's profile extension is not in the "
		  "OCI format");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,"
		  "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		  "syscalls[0].args[0].index: must be at most 5");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
		  "\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
		  "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
		  "\"op\":\"SCMP_CMP_EQ\"}]}]}",
		  "syscalls[0].args[0]: index, value and op are required");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[1,2,3,4,5,6,7]}]}",
		  "syscalls[0].args: more than 6 entries");
	parse_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		  "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
		  "\"value\":1.5,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		  "syscalls[0].args[0].value: expected an integer");
}

static void test_round_trip(void **state)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
		"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
		"\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"syscalls\":["
		"{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
		"{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
		"{\"index\":1,\"value\":3,\"valueTwo\":1,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
		"{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
	struct seccomp_profile *p = parse_ok(text), *q = NULL;
	struct json_object *j = seccomp_profile_to_json(p), *j2;
	struct pv_err err;

	(void)state;
	assert_non_null(j);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), text);
	assert_int_equal(seccomp_profile_from_json(j, &q, &err), 0);
	j2 = seccomp_profile_to_json(q);
	assert_true(json_object_equal(j, j2));
	json_object_put(j);
	json_object_put(j2);
	seccomp_profile_free(p);
	seccomp_profile_free(q);
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct pod *pod_with(const char *pod_sc, const char *ctr_sc)
{
	char json[1024];
	struct pod *pod = NULL;
	struct pv_err err;

	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		 "\"p\"},\"spec\":{%s%s%s\"containers\":[{\"name\":\"a\",\"image\":"
		 "\"busybox\"},{\"name\":\"b\",\"image\":\"busybox\"%s%s%s}]}}",
		 pod_sc ? "\"securityContext\":{\"seccompProfile\":" : "",
		 pod_sc ? pod_sc : "", pod_sc ? "}," : "",
		 ctr_sc ? ",\"securityContext\":{\"seccompProfile\":" : "",
		 ctr_sc ? ctr_sc : "", ctr_sc ? "}" : "");
	if (pod_decode_json(json, strlen(json), &pod, NULL, &err) < 0)
		fail_msg("%s: %s", json, err.msg);
	return pod;
}

static void build_rt(const struct pod *pod, struct pod_runtime *rt)
{
	static char *cmd[] = { "sh" };
	const struct image_config cfg = { .cmd = cmd, .n_cmd = 1 };
	const struct image_config *cfgs[] = { &cfg, &cfg };
	struct pv_err err;

	assert_int_equal(runtime_build(pod, cfgs, NULL, NULL, rt, &err), 0);
}

static void test_local_load(void **state)
{
	struct pod_runtime rt, back;
	struct json_object *j;
	struct pod *pod;
	struct pv_err err;
	char want[512];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/podvm-scp.XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(mkdir(strcat(strcpy(want, root), "/sub"), 0755), 0);
	put("sub/ok.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
	    "[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}\n");
	put("bad.json", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
	    "[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_NOPE\"}]}");
	assert_int_equal(symlink("/etc/passwd", strcat(strcpy(want, root), "/out.json")), 0);

	/* pod-level Localhost applies to both containers */
	pod = pod_with("{\"type\":\"Localhost\",\"localhostProfile\":\"sub/ok.json\"}", NULL);
	build_rt(pod, &rt);
	assert_int_equal(seccomp_local_load(pod, root, &rt, &err), 0);
	assert_non_null(rt.containers[0].seccomp);
	assert_non_null(rt.containers[1].seccomp);
	assert_int_equal(rt.containers[0].seccomp->rules[0].action, SCP_ACT_ERRNO);
	/* through the runtime JSON the guest decodes */
	j = runtime_to_json(&rt);
	assert_int_equal(runtime_from_json(j, &back, &err), 0);
	assert_non_null(back.containers[1].seccomp);
	assert_string_equal(back.containers[1].seccomp->rules[0].names[0], "getcwd");
	json_object_put(j);
	runtime_free(&back);
	runtime_free(&rt);
	pod_free(pod);

	/* the container's RuntimeDefault wins over the pod's Localhost */
	pod = pod_with("{\"type\":\"Localhost\",\"localhostProfile\":\"bad.json\"}",
		       "{\"type\":\"RuntimeDefault\"}");
	assert_int_equal(seccomp_local_load(pod, root, NULL, &err), -EINVAL);
	snprintf(want, sizeof(want), "spec.securityContext.seccompProfile."
		 "localhostProfile: Invalid value: \"bad.json\": %s/bad.json: "
		 "syscalls[0].action: unknown action \"SCMP_ACT_NOPE\"", root);
	assert_string_equal(err.msg, want);
	pod_free(pod);

	pod = pod_with(NULL, "{\"type\":\"Localhost\",\"localhostProfile\":\"none.json\"}");
	assert_int_equal(seccomp_local_load(pod, root, NULL, &err), -ENOENT);
	snprintf(want, sizeof(want), "spec.containers[1].securityContext."
		 "seccompProfile.localhostProfile: Invalid value: \"none.json\": "
		 "%s/none.json: open: No such file or directory", root);
	assert_string_equal(err.msg, want);
	pod_free(pod);

	/* a symlink out of the root is not followed */
	pod = pod_with(NULL, "{\"type\":\"Localhost\",\"localhostProfile\":\"out.json\"}");
	assert_int_equal(seccomp_local_load(pod, root, NULL, &err), -EXDEV);
	pod_free(pod);
	pod = pod_with(NULL, "{\"type\":\"Localhost\",\"localhostProfile\":\"sub\"}");
	assert_true(seccomp_local_load(pod, root, NULL, &err) < 0);
	pod_free(pod);
	/* no Localhost profile: nothing read, even without a root */
	pod = pod_with("{\"type\":\"Unconfined\"}", NULL);
	assert_int_equal(seccomp_local_load(pod, NULL, NULL, &err), 0);
	pod_free(pod);

	snprintf(want, sizeof(want), "rm -rf '%s'", root);
	assert_int_equal(system(want), 0);
}

static void test_signal_names(void **state)
{
	(void)state;
	assert_int_equal(pod_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(pod_signal_parse("usr1"), SIGUSR1);
	assert_int_equal(pod_signal_parse("SigQuit"), SIGQUIT);
	assert_int_equal(pod_signal_parse("9"), SIGKILL);
	assert_int_equal(pod_signal_parse("SIGRTMIN+3"), 37);
	assert_int_equal(pod_signal_parse("RTMAX"), 64);
	assert_int_equal(pod_signal_parse("RTMAX-1"), 63);
	assert_int_equal(pod_signal_parse("0"), -EINVAL);
	assert_int_equal(pod_signal_parse("65"), -EINVAL);
	assert_int_equal(pod_signal_parse("SIGFOO"), -EINVAL);
	assert_int_equal(pod_signal_parse("RTMIN+16"), -EINVAL);
	assert_int_equal(pod_signal_parse("15x"), -EINVAL);
	assert_int_equal(pod_signal_parse(""), -EINVAL);
}

static void test_stop_signal_runtime(void **state)
{
	static char *cmd[] = { "sh" };
	struct image_config cfg = { .cmd = cmd, .n_cmd = 1, .stop_signal = "SIGUSR1" };
	const struct image_config *cfgs[] = { &cfg, &cfg };
	struct pod_runtime rt, back;
	struct json_object *j;
	struct pod *pod = pod_with(NULL, NULL);
	struct pv_err err;

	(void)state;
	assert_int_equal(runtime_build(pod, cfgs, NULL, NULL, &rt, &err), 0);
	assert_int_equal(rt.containers[0].stop_signal, SIGUSR1);
	j = runtime_to_json(&rt);
	assert_int_equal(runtime_from_json(j, &back, &err), 0);
	assert_int_equal(back.containers[1].stop_signal, SIGUSR1);
	json_object_put(j);
	runtime_free(&back);
	runtime_free(&rt);
	cfg.stop_signal = "SIGNOPE";
	assert_int_equal(runtime_build(pod, cfgs, NULL, NULL, &rt, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers[0]: image StopSignal \"SIGNOPE\" "
			    "is not a signal");
	pod_free(pod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_local_load),
		cmocka_unit_test(test_signal_names),
		cmocka_unit_test(test_stop_signal_runtime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

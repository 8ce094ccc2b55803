/* Pure parts of the guest's pod logic: restart policy and back-off,
 * capabilities, the seccomp profile's verdicts, securityContext merging, the
 * /etc/hosts text, HTTP status lines, log tails, safe paths, and the
 * protocol additions (CONTAINER WAITING/lastState, POD_DONE reason,
 * EXEC_* codec). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/guest.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static void test_restart_policy(void **state)
{
	(void)state;
	assert_true(guest_restart_wanted(POD_RESTART_ALWAYS, false, 0));
	assert_true(guest_restart_wanted(POD_RESTART_ALWAYS, false, 1));
	assert_false(guest_restart_wanted(POD_RESTART_ON_FAILURE, false, 0));
	assert_true(guest_restart_wanted(POD_RESTART_ON_FAILURE, false, 137));
	assert_false(guest_restart_wanted(POD_RESTART_NEVER, false, 1));
	/* init containers: Always acts as OnFailure */
	assert_false(guest_restart_wanted(POD_RESTART_ALWAYS, true, 0));
	assert_true(guest_restart_wanted(POD_RESTART_ALWAYS, true, 2));
	assert_false(guest_restart_wanted(POD_RESTART_NEVER, true, 2));
}

static void test_backoff(void **state)
{
	int64_t cur = GUEST_BACKOFF_INITIAL_MS, d, seen[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		d = guest_backoff_next(cur, 1000);
		seen[i] = d;
		cur = d * 2 > GUEST_BACKOFF_MAX_MS ? GUEST_BACKOFF_MAX_MS : d * 2;
	}
	assert_int_equal(seen[0], 10000);
	assert_int_equal(seen[1], 20000);
	assert_int_equal(seen[2], 40000);
	assert_int_equal(seen[4], 160000);
	assert_int_equal(seen[5], 300000);
	assert_int_equal(seen[7], 300000);
	/* a run of 10 minutes resets it */
	assert_int_equal(guest_backoff_next(300000, GUEST_BACKOFF_RESET_MS), 10000);
	assert_int_equal(guest_backoff_next(0, 0), 10000);
}

static void test_caps(void **state)
{
	char *drop_all[] = { "ALL" }, *add[] = { "CAP_NET_ADMIN", "sys_time" };
	char *bad[] = { "NOPE" }, *drop[] = { "CHOWN", "NET_RAW" };
	struct pv_err err;
	uint64_t m;

	(void)state;
	assert_int_equal(guest_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(guest_cap_from_name("net_bind_service"), CAP_NET_BIND_SERVICE);
	assert_int_equal(guest_cap_from_name("BOGUS"), -1);
	assert_int_equal(guest_caps_compute(NULL, 0, NULL, 0, &m, &err), 0);
	assert_int_equal(m, guest_caps_default());
	assert_true(m & (1ULL << CAP_CHOWN));
	assert_false(m & (1ULL << CAP_SYS_ADMIN));
	assert_false(m & (1ULL << CAP_NET_ADMIN));
	assert_int_equal(__builtin_popcountll(m), 14);
	assert_int_equal(guest_caps_compute(add, 2, drop_all, 1, &m, &err), 0);
	assert_int_equal(m, (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_SYS_TIME));
	assert_int_equal(guest_caps_compute(NULL, 0, drop, 2, &m, &err), 0);
	assert_false(m & (1ULL << CAP_CHOWN));
	assert_false(m & (1ULL << CAP_NET_RAW));
	assert_true(m & (1ULL << CAP_KILL));
	assert_int_equal(guest_caps_compute(bad, 1, NULL, 0, &m, &err), -EINVAL);
}

static void test_seccomp_rules(void **state)
{
	uint64_t def = guest_caps_default();
	uint64_t admin = def | (1ULL << CAP_SYS_ADMIN);

	(void)state;
	assert_int_equal(guest_seccomp_default_verdict("mount", def), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("unshare", def), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("keyctl", def), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("reboot", def), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("clone3", def), ENOSYS);
	assert_int_equal(guest_seccomp_default_verdict("clone", def), -1);
	assert_int_equal(guest_seccomp_default_verdict("socket", def), -1);
	assert_int_equal(guest_seccomp_default_verdict("read", def), 0);
	assert_int_equal(guest_seccomp_default_verdict("chroot", def), 0);
	assert_int_equal(guest_seccomp_default_verdict("ptrace", def), 0);
	/* capabilities re-enable what containerd's profile allows them */
	assert_int_equal(guest_seccomp_default_verdict("mount", admin), 0);
	assert_int_equal(guest_seccomp_default_verdict("setns", admin), 0);
	assert_int_equal(guest_seccomp_default_verdict("clone3", admin), 0);
	assert_int_equal(guest_seccomp_default_verdict("clone", admin), 0);
	assert_int_equal(guest_seccomp_default_verdict("kcmp", def), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("kcmp",
			 def | (1ULL << CAP_SYS_PTRACE)), 0);
	assert_int_equal(guest_seccomp_default_verdict("settimeofday",
			 def | (1ULL << CAP_SYS_TIME)), 0);
	assert_int_equal(guest_seccomp_default_verdict("chroot",
			 def & ~(1ULL << CAP_SYS_CHROOT)), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("keyctl", ~0ULL), EPERM);
	assert_int_equal(guest_seccomp_default_verdict("kexec_load", ~0ULL), EPERM);
}

static void test_sec_merge(void **state)
{
	struct pod pod;
	struct pod_container pc;
	struct guest_sec sec;
	struct guest_user u;
	struct pv_err err;
	int64_t groups[] = { 5, 6 };

	(void)state;
	memset(&pod, 0, sizeof(pod));
	memset(&pc, 0, sizeof(pc));
	pod.has_security = true;
	pod.security.has_run_as_user = true;
	pod.security.run_as_user = 1000;
	pod.security.has_run_as_group = true;
	pod.security.run_as_group = 100;
	pod.security.supplemental_groups = groups;
	pod.security.n_supplemental_groups = 2;
	pod.security.has_fs_group = true;
	pod.security.fs_group = 7;
	pod.security.seccomp = POD_SECCOMP_UNCONFINED;
	pc.has_security = true;
	pc.security.has_run_as_user = true;
	pc.security.run_as_user = 2000;        /* container wins */
	pc.security.seccomp = POD_SECCOMP_RUNTIME_DEFAULT;
	pc.security.read_only_root_fs = true;
	pc.security.has_allow_priv_escalation = true;
	pc.security.allow_priv_escalation = false;
	assert_int_equal(guest_sec_build(&pod, &pc, &sec, &err), 0);
	assert_int_equal(sec.uid, 2000);
	assert_int_equal(sec.gid, 100);
	assert_int_equal(sec.n_extra_groups, 3);
	assert_int_equal(sec.extra_groups[2], 7);
	assert_true(sec.seccomp);
	assert_true(sec.read_only_root);
	assert_true(sec.no_new_privs);
	assert_int_equal(guest_sec_user(&sec, NULL, &u, &err), 0);
	assert_int_equal(u.uid, 2000);
	assert_int_equal(u.gid, 100);

	/* unset everywhere: RuntimeDefault, image user */
	memset(&pod, 0, sizeof(pod));
	memset(&pc, 0, sizeof(pc));
	assert_int_equal(guest_sec_build(&pod, &pc, &sec, &err), 0);
	assert_true(sec.seccomp);
	assert_false(sec.no_new_privs);
	assert_int_equal(sec.caps, guest_caps_default());
	/* runAsNonRoot with a root image user */
	pc.has_security = true;
	pc.security.has_run_as_non_root = true;
	pc.security.run_as_non_root = true;
	assert_int_equal(guest_sec_build(&pod, &pc, &sec, &err), 0);
	assert_int_equal(guest_sec_user(&sec, NULL, &u, &err), -EPERM);
	assert_string_equal(err.msg, "container has runAsNonRoot and image will run as root");
	assert_int_equal(guest_sec_user(&sec, "4242", &u, &err), 0);
}

static void test_hosts_http_tail(void **state)
{
	char buf[512];
	const char *s;
	size_t n;
	char cpu[32];

	(void)state;
	assert_true(guest_etc_hosts_text("web", "10.0.0.5", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(buf, "::1\tlocalhost"));
	assert_non_null(strstr(buf, "10.0.0.5\tweb\n"));
	assert_true(guest_etc_hosts_text("web", NULL, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "web"));
	assert_int_equal(guest_etc_hosts_text("web", "10.0.0.5", buf, 20), -ENAMETOOLONG);

	assert_int_equal(guest_http_status("HTTP/1.1 200 OK\r\n", 17), 200);
	assert_int_equal(guest_http_status("HTTP/1.0 302 Found", 18), 302);
	assert_int_equal(guest_http_status("HTTP/2 200", 10), -1);
	assert_int_equal(guest_http_status("HTTP/1.1 2x0", 12), -1);

	n = guest_tail_lines("a\nb\nc\n", 6, 2, 100, &s);
	assert_int_equal(n, 4);
	assert_memory_equal(s, "b\nc\n", 4);
	n = guest_tail_lines("abcdef", 6, 80, 3, &s);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "def", 3);

	guest_cgroup_cpu_max(500, cpu, sizeof(cpu));
	assert_string_equal(cpu, "50000 100000");
	guest_cgroup_cpu_max(0, cpu, sizeof(cpu));
	assert_string_equal(cpu, "max 100000");
	guest_cgroup_cpu_max(1, cpu, sizeof(cpu));
	assert_string_equal(cpu, "1000 100000");
}

static void test_tail_ring(void **state)
{
	struct guest_ctr *c = calloc(1, sizeof(*c));
	char big[GUEST_TAIL_MAX + 10];

	(void)state;
	assert_non_null(c);
	guest_tail_add(c, "hello ", 6);
	guest_tail_add(c, "world", 5);
	assert_int_equal(c->tail_len, 11);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	guest_tail_add(c, big, sizeof(big));
	assert_int_equal(c->tail_len, GUEST_TAIL_MAX);
	assert_int_equal(c->tail[GUEST_TAIL_MAX - 1], 'y');
	guest_tail_add(c, "z", 1);
	assert_int_equal(c->tail[GUEST_TAIL_MAX - 1], 'z');
	assert_int_equal(c->tail[GUEST_TAIL_MAX - 2], 'y');
	free(c);
}

static void test_path_in_root(void **state)
{
	char dir[] = "/tmp/podvm-ut-XXXXXX", p[128];
	struct pv_err err;
	int root, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	fd = guest_path_in_root(root, "/a/b/c", true, false, 0755, &err);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(access(p, F_OK), 0);
	/* a symlink in the path is refused, never followed */
	snprintf(p, sizeof(p), "%s/a/link", dir);
	assert_int_equal(symlink("/etc", p), 0);
	assert_int_equal(guest_path_in_root(root, "a/link/x", true, false, 0755, &err),
			 -ELOOP);
	assert_int_equal(guest_path_in_root(root, "a/../../x", true, false, 0755, &err),
			 -EINVAL);
	/* a file target replaces a symlink (image /etc/hosts -> elsewhere) */
	fd = guest_path_in_root(root, "a/link", true, true, 0644, &err);
	assert_true(fd >= 0);
	close(fd);
	fd = guest_path_in_root(root, "a/file", true, true, 0644, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(guest_path_in_root(root, "a/file/x", true, false, 0755, &err),
			 -ENOTDIR);
	close(root);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

static void test_msg_waiting_last(void **state)
{
	struct agent_ctr_event ev, d;
	struct pv_err err;
	char *s;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.index = 20;   /* init containers come first: up to 31 */
	ev.state = AGENT_CTR_WAITING;
	snprintf(ev.reason, sizeof(ev.reason), "CrashLoopBackOff");
	snprintf(ev.message, sizeof(ev.message), "back-off 10s restarting failed container=x");
	ev.restart_count = 2;
	ev.has_last = true;
	ev.last.exit_code = 137;
	ev.last.signal = 9;
	snprintf(ev.last.reason, sizeof(ev.last.reason), "OOMKilled");
	ev.last.started_ms = 1000;
	ev.last.finished_ms = 2000;
	ev.time_ms = 3000;
	s = agent_msg_ctr_event(&ev);
	assert_non_null(s);
	assert_null(strstr(s, "exitCode\":0"));
	assert_int_equal(agent_parse_ctr_event(S(s), &d, &err), 0);
	free(s);
	assert_int_equal(d.index, 20);
	assert_int_equal(d.state, AGENT_CTR_WAITING);
	assert_int_equal(d.restart_count, 2);
	assert_true(d.has_last);
	assert_int_equal(d.last.exit_code, 137);
	assert_int_equal(d.last.signal, 9);
	assert_string_equal(d.last.reason, "OOMKilled");
	assert_int_equal(d.last.finished_ms, 2000);

	memset(&ev, 0, sizeof(ev));
	ev.state = AGENT_CTR_RUNNING;
	ev.has_ready = true;
	ev.ready = true;
	s = agent_msg_ctr_event(&ev);
	assert_non_null(strstr(s, "\"ready\":true"));
	assert_int_equal(agent_parse_ctr_event(S(s), &d, &err), 0);
	assert_true(d.has_ready && d.ready);
	free(s);

	assert_int_equal(agent_parse_ctr_event(S("{\"index\":32,\"state\":\"RUNNING\"}"),
					       &d, &err), -ERANGE);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"WAITING\",\"exitCode\":1}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":1,\"ready\":true}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"RUNNING\",\"lastState\":{\"exitCode\":1,\"x\":1}}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"RUNNING\",\"restartCount\":-1}"),
					       &d, &err), -ERANGE);
}

static void test_msg_pod_done(void **state)
{
	struct agent_pod_done *d = calloc(1, sizeof(*d)), *o = calloc(1, sizeof(*o));
	struct pv_err err;
	char *s;

	(void)state;
	assert_non_null(d);
	assert_non_null(o);
	d->n = 2;
	d->containers[0].index = 0;
	d->containers[0].exit_code = 1;
	snprintf(d->containers[0].reason, sizeof(d->containers[0].reason), "Error");
	d->containers[0].restart_count = 3;
	d->containers[1].index = 1;
	d->containers[1].waiting = true;
	snprintf(d->containers[1].reason, sizeof(d->containers[1].reason), "PodInitializing");
	snprintf(d->reason, sizeof(d->reason), "DeadlineExceeded");
	snprintf(d->message, sizeof(d->message), "Pod was active too long");
	s = agent_msg_pod_done(d);
	assert_non_null(s);
	assert_int_equal(agent_parse_pod_done(S(s), o, &err), 0);
	free(s);
	assert_int_equal(o->n, 2);
	assert_int_equal(o->containers[0].restart_count, 3);
	assert_true(o->containers[1].waiting);
	assert_string_equal(o->containers[1].reason, "PodInitializing");
	assert_string_equal(o->reason, "DeadlineExceeded");
	assert_string_equal(o->message, "Pod was active too long");
	assert_int_equal(agent_parse_pod_done(S("{\"containers\":[{\"index\":0,\"exitCode\":0,\"state\":\"GONE\"}]}"),
					      o, &err), -EBADMSG);
	free(d);
	free(o);
}

static void test_msg_exec(void **state)
{
	char *cmd[] = { "sh", "-c", "echo \"hi\"", NULL };
	struct agent_exec_start x, y;
	struct agent_exec_exit e, f;
	struct pv_err err;
	uint16_t id, rows, cols;
	char *s;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.id = 7;
	snprintf(x.container, sizeof(x.container), "web");
	x.command = cmd;
	x.n_command = 3;
	x.tty = true;
	x.stdin_open = true;
	x.rows = 24;
	x.cols = 80;
	s = agent_msg_exec_start(&x);
	assert_non_null(s);
	assert_int_equal(agent_parse_exec_start(S(s), &y, &err), 0);
	free(s);
	assert_int_equal(y.id, 7);
	assert_string_equal(y.container, "web");
	assert_int_equal(y.n_command, 3);
	assert_string_equal(y.command[2], "echo \"hi\"");
	assert_null(y.command[3]);
	assert_true(y.tty && y.stdin_open);
	assert_int_equal(y.rows, 24);
	assert_int_equal(y.cols, 80);
	agent_exec_start_free(&y);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"container\":\"a\",\"command\":[]}"),
						&y, &err), -EBADMSG);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":0,\"container\":\"a\",\"command\":[\"x\"]}"),
						&y, &err), -ERANGE);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"container\":\"a\",\"command\":[\"x\",1]}"),
						&y, &err), -EBADMSG);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"command\":[\"x\"]}"),
						&y, &err), -EBADMSG);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"container\":\"a\",\"command\":[\"x\"],\"tty\":1}"),
						&y, &err), -EBADMSG);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"container\":\"a\",\"command\":[\"\"]}"),
						&y, &err), -EBADMSG);
	assert_int_equal(agent_parse_exec_start(S("{\"id\":1,\"container\":\"a\",\"command\":[\"x\"],\"env\":[]}"),
						&y, &err), -EBADMSG);

	memset(&e, 0, sizeof(e));
	e.id = 7;
	e.exit_code = 130;
	e.signal = 2;
	s = agent_msg_exec_exit(&e);
	assert_int_equal(agent_parse_exec_exit(S(s), &f, &err), 0);
	free(s);
	assert_int_equal(f.id, 7);
	assert_int_equal(f.exit_code, 130);
	assert_int_equal(f.signal, 2);
	assert_string_equal(f.error, "");
	assert_int_equal(agent_parse_exec_exit(S("{\"id\":7,\"exitCode\":126,\"error\":\"no such container\"}"),
					       &f, &err), 0);
	assert_string_equal(f.error, "no such container");
	assert_int_equal(agent_parse_exec_exit(S("{\"id\":7}"), &f, &err), -EBADMSG);

	s = agent_msg_exec_resize(3, 50, 120);
	assert_int_equal(agent_parse_exec_resize(S(s), &id, &rows, &cols, &err), 0);
	free(s);
	assert_int_equal(id, 3);
	assert_int_equal(rows, 50);
	assert_int_equal(cols, 120);
	assert_int_equal(agent_parse_exec_resize(S("{\"id\":3,\"rows\":0,\"cols\":1}"),
						 &id, &rows, &cols, &err), -ERANGE);
	assert_true(AGENT_TYPE_MAX >= AGENT_EXEC_RESIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_policy),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_seccomp_rules),
		cmocka_unit_test(test_sec_merge),
		cmocka_unit_test(test_hosts_http_tail),
		cmocka_unit_test(test_tail_ring),
		cmocka_unit_test(test_path_in_root),
		cmocka_unit_test(test_msg_waiting_last),
		cmocka_unit_test(test_msg_pod_done),
		cmocka_unit_test(test_msg_exec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

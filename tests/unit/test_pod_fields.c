/* Pod model, issue 4 fields: init containers, volumes, securityContext,
 * resources, ports, volumeMounts, probes, lifecycle hooks, termination
 * message, env valueFrom, scheduling fields; refusals with exact paths;
 * a round trip of a pod that uses all of them. */
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
#include "tests/unit/pod_fields.h"
static const char all_fields[] =
	POD_HEAD "\"spec\":{"
	"\"activeDeadlineSeconds\":600,\"nodeName\":\"node-1.example\","
	"\"serviceAccountName\":\"builder\",\"shareProcessNamespace\":false,"
	"\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"},"
	"\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}],"
	"\"affinity\":{},\"schedulerName\":\"fargate-scheduler\","
	"\"priorityClassName\":\"high\",\"priority\":1000,"
	"\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":2000,"
	"\"runAsNonRoot\":true,\"supplementalGroups\":[3000,3001],"
	"\"fsGroup\":4000,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},"
	"\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{}},"
	"{\"name\":\"mem\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"64Mi\"}}],"
	"\"initContainers\":[{\"name\":\"setup\",\"image\":\"busybox\","
	"\"command\":[\"sh\",\"-c\",\"echo init > /work/x\"],"
	"\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"1Gi\"}},"
	"\"volumeMounts\":[{\"name\":\"scratch\",\"mountPath\":\"/work\"}]}],"
	"\"containers\":[{\"name\":\"web\",\"image\":\"nginx\","
	"\"env\":[{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
	"\"fieldPath\":\"metadata.name\"}}},"
	"{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	"\"metadata.labels['app.kubernetes.io/name']\"}}},"
	"{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
	"\"limits.memory\",\"divisor\":\"1Mi\"}}},"
	"{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"containerName\":"
	"\"side\",\"resource\":\"requests.cpu\",\"divisor\":\"1m\"}}},"
	"{\"name\":\"EPH\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
	"\"limits.ephemeral-storage\",\"divisor\":\"1k\"}}},"
	"{\"name\":\"X\",\"value\":\"$(POD)-x\"}],"
	"\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\","
	"\"ephemeral-storage\":\"1Gi\"},\"limits\":{\"cpu\":0.5,\"memory\":536870912}},"
	"\"ports\":[{\"name\":\"http\",\"containerPort\":80},"
	"{\"containerPort\":53,\"protocol\":\"UDP\",\"hostPort\":0}],"
	"\"volumeMounts\":[{\"name\":\"scratch\",\"mountPath\":\"/data\","
	"\"subPath\":\"web/data\",\"readOnly\":true},"
	"{\"name\":\"mem\",\"mountPath\":\"/cache\"}],"
	"\"securityContext\":{\"runAsUser\":101,\"readOnlyRootFilesystem\":true,"
	"\"allowPrivilegeEscalation\":false,\"privileged\":false,"
	"\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":[\"ALL\"]},"
	"\"seccompProfile\":{\"type\":\"Unconfined\"}},"
	"\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"http\","
	"\"scheme\":\"HTTPS\",\"host\":\"localhost\",\"httpHeaders\":[{\"name\":"
	"\"X-Probe\",\"value\":\"1\"}]},\"initialDelaySeconds\":5,\"failureThreshold\":2},"
	"\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":2,"
	"\"periodSeconds\":3,\"timeoutSeconds\":2},"
	"\"startupProbe\":{\"exec\":{\"command\":[\"cat\",\"/tmp/ready\"]}},"
	"\"lifecycle\":{\"postStart\":{\"exec\":{\"command\":[\"touch\",\"/tmp/s\"]}},"
	"\"preStop\":{\"httpGet\":{\"port\":8080}}},"
	"\"terminationMessagePath\":\"/tmp/term\","
	"\"terminationMessagePolicy\":\"FallbackToLogsOnError\"},"
	"{\"name\":\"side\",\"image\":\"busybox\",\"resources\":{\"limits\":"
	"{\"cpu\":\"1\",\"memory\":\"1G\"}}}]}}";

/* The pod level: spec fields, securityContext, volumes, init container. */
static void check_pod(const struct pod *pod)
{
	const struct pod_container *i;

	assert_int_equal(pod->active_deadline, 600);
	assert_string_equal(pod->node_name, "node-1.example");
	assert_string_equal(pod->service_account, "builder");
	assert_true(pod->has_security);
	assert_true(pod->security.has_run_as_user);
	assert_int_equal(pod->security.run_as_user, 1000);
	assert_int_equal(pod->security.run_as_group, 2000);
	assert_true(pod->security.run_as_non_root);
	assert_int_equal(pod->security.n_supplemental_groups, 2);
	assert_int_equal(pod->security.supplemental_groups[1], 3001);
	assert_true(pod->security.has_fs_group);
	assert_int_equal(pod->security.fs_group, 4000);
	assert_int_equal(pod->security.seccomp, POD_SECCOMP_RUNTIME_DEFAULT);

	assert_int_equal(pod->n_volumes, 2);
	assert_string_equal(pod->volumes[0].name, "scratch");
	assert_int_equal(pod->volumes[0].kind, POD_VOLUME_EMPTY_DIR);
	assert_false(pod->volumes[0].memory);
	assert_int_equal(pod->volumes[0].size_limit, 0);
	assert_true(pod->volumes[1].memory);
	assert_int_equal(pod->volumes[1].size_limit, 64 << 20);

	assert_int_equal(pod->n_init_containers, 1);
	i = &pod->init_containers[0];
	assert_string_equal(i->name, "setup");
	assert_int_equal(i->resources.req_cpu_m, 2000);
	assert_int_equal(i->resources.req_mem, 1 << 30);
	assert_string_equal(i->mounts[0].mount_path, "/work");
	assert_string_equal(i->term_msg_path, "/dev/termination-log");
}

/* The first container: env, resources, ports, mounts. */
static void check_ctr(const struct pod_container *c)
{
	assert_int_equal(c->n_env, 6);
	assert_int_equal(c->env[0].source, POD_ENV_FIELD_REF);
	assert_string_equal(c->env[0].field_path, "metadata.name");
	assert_null(c->env[0].value);
	assert_string_equal(c->env[1].field_path,
			    "metadata.labels['app.kubernetes.io/name']");
	assert_int_equal(c->env[2].source, POD_ENV_RESOURCE_REF);
	assert_string_equal(c->env[2].resource, "limits.memory");
	assert_null(c->env[2].res_container);
	assert_int_equal(c->env[2].divisor, 1 << 20);
	assert_string_equal(c->env[3].res_container, "side");
	assert_int_equal(c->env[3].divisor, 1);
	assert_int_equal(c->env[4].divisor, 1000);
	assert_int_equal(c->env[5].source, POD_ENV_VALUE);
	assert_string_equal(c->env[5].value, "$(POD)-x");

	assert_true(c->resources.has_req_cpu);
	assert_int_equal(c->resources.req_cpu_m, 250);
	assert_int_equal(c->resources.req_mem, 256 << 20);
	assert_int_equal(c->resources.lim_cpu_m, 500);
	assert_int_equal(c->resources.lim_mem, 512 << 20);

	assert_int_equal(c->n_ports, 2);
	assert_string_equal(c->ports[0].name, "http");
	assert_int_equal(c->ports[0].container_port, 80);
	assert_string_equal(c->ports[0].protocol, "TCP");
	assert_null(c->ports[1].name);
	assert_string_equal(c->ports[1].protocol, "UDP");

	assert_int_equal(c->n_mounts, 2);
	assert_string_equal(c->mounts[0].sub_path, "web/data");
	assert_true(c->mounts[0].read_only);
	assert_null(c->mounts[1].sub_path);
	assert_false(c->mounts[1].read_only);
}

/* The first container: securityContext, probes, hooks, termination. */
static void check_ctr_run(const struct pod_container *c)
{
	assert_true(c->has_security);
	assert_int_equal(c->security.run_as_user, 101);
	assert_false(c->security.has_run_as_group);
	assert_true(c->security.read_only_root_fs);
	assert_true(c->security.has_allow_priv_escalation);
	assert_false(c->security.allow_priv_escalation);
	assert_int_equal(c->security.n_cap_add, 1);
	assert_string_equal(c->security.cap_add[0], "NET_BIND_SERVICE");
	assert_string_equal(c->security.cap_drop[0], "ALL");
	assert_int_equal(c->security.seccomp, POD_SECCOMP_UNCONFINED);

	assert_int_equal(c->liveness.kind, POD_PROBE_HTTP);
	assert_string_equal(c->liveness.http_path, "/healthz");
	assert_string_equal(c->liveness.port_name, "http");
	assert_true(c->liveness.http_https);
	assert_string_equal(c->liveness.http_host, "localhost");
	assert_int_equal(c->liveness.n_http_headers, 1);
	assert_string_equal(c->liveness.http_headers[0].key, "X-Probe");
	assert_int_equal(c->liveness.initial_delay_s, 5);
	assert_int_equal(c->liveness.period_s, 10);
	assert_int_equal(c->liveness.timeout_s, 1);
	assert_int_equal(c->liveness.success_threshold, 1);
	assert_int_equal(c->liveness.failure_threshold, 2);
	assert_int_equal(c->readiness.kind, POD_PROBE_TCP);
	assert_int_equal(c->readiness.port, 80);
	assert_int_equal(c->readiness.success_threshold, 2);
	assert_int_equal(c->readiness.period_s, 3);
	assert_int_equal(c->readiness.timeout_s, 2);
	assert_int_equal(c->startup.kind, POD_PROBE_EXEC);
	assert_int_equal(c->startup.n_exec_command, 2);
	assert_null(c->startup.exec_command[2]);
	assert_int_equal(c->post_start.kind, POD_PROBE_EXEC);
	assert_int_equal(c->pre_stop.kind, POD_PROBE_HTTP);
	assert_int_equal(c->pre_stop.port, 8080);
	assert_string_equal(c->pre_stop.http_path, "/");
	assert_string_equal(c->term_msg_path, "/tmp/term");
	assert_int_equal(c->term_msg_policy, POD_TERM_MSG_FALLBACK_LOGS);
}

static void check_all(const struct pod *pod)
{
	const struct pod_container *s;

	check_pod(pod);
	check_ctr(&pod->containers[0]);
	check_ctr_run(&pod->containers[0]);
	s = &pod->containers[1];
	assert_false(s->resources.has_req_cpu);
	assert_int_equal(s->resources.lim_cpu_m, 1000);
	assert_int_equal(s->resources.lim_mem, 1000000000);
	assert_int_equal(s->liveness.kind, POD_PROBE_NONE);
	assert_false(s->has_security);
}

static void test_all_fields_round_trip(void **state)
{
	struct pod *pod, *again = NULL;
	struct pv_err err = { 0 };
	struct json_object *j1, *j2;
	char *t1;

	pod = expect_ok(all_fields);
	check_all(pod);
	j1 = pod_to_json(pod);
	assert_non_null(j1);
	t1 = strdup(json_object_to_json_string_ext(j1, JSON_C_TO_STRING_PLAIN));
	assert_non_null(t1);
	if (decode(t1, &again, NULL, &err) < 0)
		fail_msg("re-decode: %s\n%s", err.msg, t1);
	check_all(again);
	j2 = pod_to_json(again);
	assert_string_equal(t1, json_object_to_json_string_ext(
				    j2, JSON_C_TO_STRING_PLAIN));
	free(t1);
	json_object_put(j1);
	json_object_put(j2);
	pod_free(again);
	pod_free(pod);
}

static void test_defaults_and_nulls(void **state)
{
	struct pod *pod;

	pod = expect_ok(CTR(",\"livenessProbe\":{\"tcpSocket\":{\"port\":1},"
			    "\"periodSeconds\":0},\"readinessProbe\":null,"
			    "\"lifecycle\":null,\"securityContext\":null,"
			    "\"ports\":[{\"containerPort\":65535,\"protocol\":null}],"
			    "\"terminationMessagePath\":\"\",\"resources\":"
			    "{\"requests\":{\"cpu\":\"0\"},\"limits\":null}"));
	assert_int_equal(pod->containers[0].liveness.period_s, 10);
	assert_int_equal(pod->containers[0].liveness.failure_threshold, 3);
	assert_int_equal(pod->containers[0].readiness.kind, POD_PROBE_NONE);
	assert_false(pod->containers[0].has_security);
	assert_string_equal(pod->containers[0].ports[0].protocol, "TCP");
	assert_string_equal(pod->containers[0].term_msg_path,
			    "/dev/termination-log");
	assert_int_equal(pod->containers[0].term_msg_policy, POD_TERM_MSG_FILE);
	assert_true(pod->containers[0].resources.has_req_cpu);
	assert_int_equal(pod->containers[0].resources.req_cpu_m, 0);
	assert_int_equal(pod->n_init_containers, 0);
	pod_free(pod);

	/* empty securityContext / emptyDir, empty initContainers list */
	pod = expect_ok(SPEC(",\"securityContext\":{},\"initContainers\":[],"
			     "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{\"medium\":\"\"}}]"));
	assert_true(pod->has_security);
	assert_int_equal(pod->n_volumes, 1);
	assert_false(pod->volumes[0].memory);
	assert_int_equal(pod->n_init_containers, 0);
	pod_free(pod);

	/* CAP_ prefix, named port used by a hook, sizeLimit number */
	pod = expect_ok(CTR(",\"securityContext\":{\"capabilities\":{\"add\":"
			    "[\"CAP_NET_ADMIN\"]}},\"ports\":[{\"name\":\"admin\","
			    "\"containerPort\":9000}],\"lifecycle\":{\"preStop\":"
			    "{\"httpGet\":{\"port\":\"admin\",\"path\":\"/stop\"}}}"));
	assert_string_equal(pod->containers[0].pre_stop.port_name, "admin");
	pod_free(pod);
}

static void test_init_containers(void **state)
{
	struct pod *pod;

	pod = expect_ok(INIT(",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]"));
	assert_int_equal(pod->n_init_containers, 1);
	assert_string_equal(pod->init_containers[0].name, "i");
	pod_free(pod);
	expect_err_r(INIT(",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]}}"),
		     "spec.initContainers[0].livenessProbe: Forbidden: may not "
		     "be set for init containers", "FieldValueForbidden");
	expect_err(INIT(",\"readinessProbe\":{}"),
		   "spec.initContainers[0].readinessProbe: Forbidden: may not be "
		   "set for init containers");
	expect_err(INIT(",\"startupProbe\":{}"),
		   "spec.initContainers[0].startupProbe: Forbidden: may not be "
		   "set for init containers");
	expect_err(INIT(",\"lifecycle\":{}"),
		   "spec.initContainers[0].lifecycle: Forbidden: may not be set "
		   "for init containers");
	expect_err(INIT(",\"restartPolicy\":\"Always\""),
		   "spec.initContainers[0].restartPolicy: unknown field");
	/* names are unique across both lists; reported on the container */
	expect_err_r(SPEC(",\"initContainers\":[{\"name\":\"c\",\"image\":\"x\"}]"),
		     "spec.containers[0].name: Duplicate value: \"c\"",
		     "FieldValueDuplicate");
	expect_err(SPEC(",\"initContainers\":[{\"name\":\"i\",\"image\":\"x\"},"
			"{\"name\":\"i\",\"image\":\"x\"}]"),
		   "spec.initContainers[1].name: Duplicate value: \"i\"");
	expect_err(SPEC(",\"initContainers\":[{\"name\":\"i\"}]"),
		   "spec.initContainers[0].image: Required value");
	expect_err(SPEC(",\"initContainers\":{}"),
		   "spec.initContainers: expected array of objects");
}

static void test_init_container_limit(void **state)
{
	char json[4096];
	size_t o;

	/* 10 + 7 > POD_MAX_CONTAINERS: one agent index space */
	o = (size_t)snprintf(json, sizeof(json), POD_HEAD "\"spec\":{\"containers\":[");
	for (int i = 0; i < 10; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o,
				      "%s{\"name\":\"c%d\",\"image\":\"x\"}",
				      i ? "," : "", i);
	o += (size_t)snprintf(json + o, sizeof(json) - o, "],\"initContainers\":[");
	for (int i = 0; i < 7; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o,
				      "%s{\"name\":\"i%d\",\"image\":\"x\"}",
				      i ? "," : "", i);
	snprintf(json + o, sizeof(json) - o, "]}}");
	expect_err_r(json, "spec.initContainers: Too many: 17: initContainers "
		     "and containers together must have at most 16 items",
		     "FieldValueTooLong");
}

static void test_volumes(void **state)
{
	expect_err_r(SPEC(",\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/etc\"}}]"),
		     "spec.volumes[0].hostPath: Forbidden: hostPath volumes are "
		     "not supported: pods run in their own microVM",
		     "FieldValueForbidden");
	expect_err_r(SPEC(",\"volumes\":[{\"name\":\"v\",\"persistentVolumeClaim\":"
			  "{\"claimName\":\"x\"}}]"),
		     "spec.volumes[0].persistentVolumeClaim: not supported: podvm "
		     "supports emptyDir volumes only", "FieldValueNotSupported");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"x\"}}]"),
		   "spec.volumes[0].configMap: not supported: podvm has no "
		   "ConfigMaps or Secrets; use emptyDir");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"bogus\":{}}]"),
		   "spec.volumes[0].bogus: unknown field");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\"}]"),
		   "spec.volumes[0]: Required value: must specify a volume type");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{},"
			"\"secret\":{}}]"),
		   "spec.volumes[0].secret: Forbidden: may not specify more than "
		   "1 volume type");
	expect_err(SPEC(",\"volumes\":[{\"emptyDir\":{}}]"),
		   "spec.volumes[0].name: Required value");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"V\",\"emptyDir\":{}}]"),
		   "spec.volumes[0].name: Invalid value: \"V\": a lowercase RFC "
		   "1123 label must consist of lower case alphanumeric characters "
		   "or '-', and must start and end with an alphanumeric character");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},"
			"{\"name\":\"v\",\"emptyDir\":{}}]"),
		   "spec.volumes[1].name: Duplicate value: \"v\"");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{\"medium\":"
			"\"HugePages\"}}]"),
		   "spec.volumes[0].emptyDir.medium: Unsupported value: "
		   "\"HugePages\": supported values: \"\", \"Memory\"");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{\"sizeLimit\":"
			"\"-1Gi\"}}]"),
		   "spec.volumes[0].emptyDir.sizeLimit: Invalid value: \"-1Gi\": "
		   "must be greater than or equal to 0");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{\"x\":1}}]"),
		   "spec.volumes[0].emptyDir.x: unknown field");
}

static void test_mounts(void **state)
{
	expect_err_r(CTR(",\"volumeMounts\":[{\"name\":\"nope\",\"mountPath\":\"/x\"}]"),
		     "spec.containers[0].volumeMounts[0].name: Not found: \"nope\"",
		     "FieldValueNotFound");
	expect_err(INIT(",\"volumeMounts\":[{\"name\":\"nope\",\"mountPath\":\"/x\"}]"),
		   "spec.initContainers[0].volumeMounts[0].name: Not found: \"nope\"");
	expect_err(SPEC(",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],"
			"\"initContainers\":[{\"name\":\"i\",\"image\":\"x\","
			"\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"rel\"}]}]"),
		   "spec.initContainers[0].volumeMounts[0].mountPath: Invalid "
		   "value: \"rel\": must be an absolute path without '..'");
#define VOL ",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]"
#define MNT(X) POD_HEAD "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":" \
	"\"x\",\"volumeMounts\":[" X "]}]" VOL "}}"
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a/../b\"}"),
		   "spec.containers[0].volumeMounts[0].mountPath: Invalid value: "
		   "\"/a/../b\": must be an absolute path without '..'");
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a\"},{\"name\":\"v\","
		       "\"mountPath\":\"/a\"}"),
		   "spec.containers[0].volumeMounts[1].mountPath: Invalid value: "
		   "\"/a\": must be unique");
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a\",\"subPath\":\"/abs\"}"),
		   "spec.containers[0].volumeMounts[0].subPath: Invalid value: "
		   "\"/abs\": must be a relative path");
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a\",\"subPath\":\"a/../..\"}"),
		   "spec.containers[0].volumeMounts[0].subPath: Invalid value: "
		   "\"a/../..\": must not contain '..'");
	expect_err(MNT("{\"name\":\"v\"}"),
		   "spec.containers[0].volumeMounts[0].mountPath: Required value");
	expect_err(MNT("{\"mountPath\":\"/a\"}"),
		   "spec.containers[0].volumeMounts[0].name: Required value");
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a\",\"mountPropagation\":"
		       "\"Bidirectional\"}"),
		   "spec.containers[0].volumeMounts[0].mountPropagation: not "
		   "supported: podvm supports name, mountPath, subPath and readOnly");
	expect_err(MNT("{\"name\":\"v\",\"mountPath\":\"/a\",\"readOnly\":1}"),
		   "spec.containers[0].volumeMounts[0].readOnly: expected boolean");
	/* "..." or "a..b" are names, not parent references */
	pod_free(expect_ok(MNT("{\"name\":\"v\",\"mountPath\":\"/a..b/...\","
			       "\"subPath\":\"x..y\"}")));
}

static void test_security(void **state)
{
	expect_err_r(CTR(",\"securityContext\":{\"privileged\":true}"),
		     "spec.containers[0].securityContext.privileged: Forbidden: "
		     "privileged containers are not supported: Fargate-style pods "
		     "run in their own microVM without host access",
		     "FieldValueForbidden");
	expect_err(CTR(",\"securityContext\":{\"seLinuxOptions\":{\"level\":\"s0\"}}"),
		   "spec.containers[0].securityContext.seLinuxOptions: not "
		   "supported: node-level security settings do not apply to a "
		   "microVM pod");
	expect_err(SPEC(",\"securityContext\":{\"sysctls\":[]}"),
		   "spec.securityContext.sysctls: not supported: node-level "
		   "security settings do not apply to a microVM pod");
	expect_err(SPEC(",\"securityContext\":{\"windowsOptions\":{}}"),
		   "spec.securityContext.windowsOptions: not supported: node-level "
		   "security settings do not apply to a microVM pod");
	expect_err(SPEC(",\"securityContext\":{\"privileged\":true}"),
		   "spec.securityContext.privileged: unknown field");
	expect_err(SPEC(",\"securityContext\":{\"readOnlyRootFilesystem\":true}"),
		   "spec.securityContext.readOnlyRootFilesystem: unknown field");
	expect_err(CTR(",\"securityContext\":{\"fsGroup\":1}"),
		   "spec.containers[0].securityContext.fsGroup: unknown field");
	expect_err(CTR(",\"securityContext\":{\"capabilities\":{\"add\":"
		       "[\"net_admin\"]}}"),
		   "spec.containers[0].securityContext.capabilities.add[0]: "
		   "Invalid value: \"net_admin\": must be a capability name such "
		   "as \"NET_ADMIN\" or \"CAP_NET_ADMIN\", or \"ALL\"");
	expect_err(CTR(",\"securityContext\":{\"capabilities\":{\"drop\":"
		       "[\"ALL\",\"CAP_\"]}}"),
		   "spec.containers[0].securityContext.capabilities.drop[1]: "
		   "Invalid value: \"CAP_\": must be a capability name such "
		   "as \"NET_ADMIN\" or \"CAP_NET_ADMIN\", or \"ALL\"");
	expect_err(CTR(",\"securityContext\":{\"capabilities\":{\"add\":"
		       "[\"SYS_ADMIN\"]},\"allowPrivilegeEscalation\":false}"),
		   "spec.containers[0].securityContext: Invalid value: \"false\": "
		   "cannot set `allowPrivilegeEscalation` to false and "
		   "`capabilities.Add` CAP_SYS_ADMIN");
	expect_err(CTR(",\"securityContext\":{\"runAsUser\":-1}"),
		   "spec.containers[0].securityContext.runAsUser: Invalid value: "
		   "-1: must be between 0 and 2147483647, inclusive");
	expect_err(SPEC(",\"securityContext\":{\"supplementalGroups\":[1,\"a\"]}"),
		   "spec.securityContext.supplementalGroups[1]: expected integer");
	expect_err(SPEC(",\"securityContext\":{\"seccompProfile\":{\"type\":"
			"\"Localhost\"}}"),
		   "spec.securityContext.seccompProfile.localhostProfile: Required "
		   "value: must be set when seccomp type is \"Localhost\"");
	expect_err(SPEC(",\"securityContext\":{\"seccompProfile\":{\"type\":"
			"\"RuntimeDefault\",\"localhostProfile\":\"p.json\"}}"),
		   "spec.securityContext.seccompProfile.localhostProfile: Invalid "
		   "value: \"p.json\": can only be set when seccomp type is \"Localhost\"");
	expect_err(CTR(",\"securityContext\":{\"seccompProfile\":{\"type\":"
		       "\"Localhost\",\"localhostProfile\":\"../p.json\"}}"),
		   "spec.containers[0].securityContext.seccompProfile.localhostProfile: "
		   "Invalid value: \"../p.json\": must be a relative path without "
		   "'..' or control characters");
	expect_err(CTR(",\"securityContext\":{\"seccompProfile\":{\"type\":"
		       "\"Localhost\",\"localhostProfile\":\"/etc/p.json\"}}"),
		   "spec.containers[0].securityContext.seccompProfile.localhostProfile: "
		   "Invalid value: \"/etc/p.json\": must be a relative path without "
		   "'..' or control characters");
	expect_err(SPEC(",\"securityContext\":{\"seccompProfile\":{\"type\":"
			"\"Other\"}}"),
		   "spec.securityContext.seccompProfile.type: Unsupported value: "
		   "\"Other\": supported values: \"RuntimeDefault\", \"Unconfined\", "
		   "\"Localhost\"");
	expect_err(SPEC(",\"securityContext\":{\"seccompProfile\":{}}"),
		   "spec.securityContext.seccompProfile.type: Required value");
	expect_err(CTR(",\"securityContext\":{\"runAsNonRoot\":\"yes\"}"),
		   "spec.containers[0].securityContext.runAsNonRoot: expected boolean");
}

static void test_resources(void **state)
{
	expect_err_r(CTR(",\"resources\":{\"requests\":{\"memory\":\"2Gi\"},"
			 "\"limits\":{\"memory\":\"1Gi\"}}"),
		     "spec.containers[0].resources.requests: Invalid value: "
		     "\"2Gi\": must be less than or equal to memory limit of 1Gi",
		     "FieldValueInvalid");
	expect_err(CTR(",\"resources\":{\"requests\":{\"cpu\":\"1500m\"},"
		       "\"limits\":{\"cpu\":\"1\"}}"),
		   "spec.containers[0].resources.requests: Invalid value: "
		   "\"1500m\": must be less than or equal to cpu limit of 1");
	expect_err_r(CTR(",\"resources\":{\"limits\":{\"nvidia.com/gpu\":1}}"),
		     "spec.containers[0].resources.limits[nvidia.com/gpu]: not "
		     "supported: podvm provides cpu, memory and ephemeral-storage only",
		     "FieldValueNotSupported");
	expect_err(CTR(",\"resources\":{\"requests\":{\"cpu\":\"-1\"}}"),
		   "spec.containers[0].resources.requests[cpu]: Invalid value: "
		   "\"-1\": must be greater than or equal to 0");
	expect_err(CTR(",\"resources\":{\"requests\":{\"memory\":\"1 Gi\"}}"),
		   "spec.containers[0].resources.requests[memory]: Invalid value: "
		   "\"1 Gi\": quantities must match the regular expression "
		   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
	expect_err(CTR(",\"resources\":{\"requests\":{\"memory\":\"99E\"}}"),
		   "spec.containers[0].resources.requests[memory]: Invalid value: "
		   "\"99E\": quantity too large");
	expect_err(CTR(",\"resources\":{\"requests\":{\"memory\":true}}"),
		   "spec.containers[0].resources.requests[memory]: expected "
		   "quantity (string or number)");
	expect_err(CTR(",\"resources\":{\"claims\":[{\"name\":\"x\"}]}"),
		   "spec.containers[0].resources.claims: not supported: podvm has "
		   "no resource claims");
	expect_err(CTR(",\"resources\":{\"requests\":{\"ephemeral-storage\":\"2Gi\"},"
		       "\"limits\":{\"ephemeral-storage\":\"1Gi\"}}"),
		   "spec.containers[0].resources.requests: Invalid value: \"2Gi\": "
		   "must be less than or equal to ephemeral-storage limit of 1Gi");
}

static void test_ports(void **state)
{
	expect_err_r(CTR(",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}]"),
		     "spec.containers[0].ports[0].hostPort: Forbidden: hostPort is "
		     "not supported: Fargate-style pods have no host ports",
		     "FieldValueForbidden");
	expect_err(CTR(",\"ports\":[{\"containerPort\":80,\"hostIP\":\"0.0.0.0\"}]"),
		   "spec.containers[0].ports[0].hostIP: not supported: "
		   "Fargate-style pods have no host ports");
	expect_err_r(CTR(",\"ports\":[{\"name\":\"http\"}]"),
		     "spec.containers[0].ports[0].containerPort: Required value",
		     "FieldValueRequired");
	expect_err(CTR(",\"ports\":[{\"containerPort\":0}]"),
		   "spec.containers[0].ports[0].containerPort: Required value");
	expect_err(CTR(",\"ports\":[{\"containerPort\":65536}]"),
		   "spec.containers[0].ports[0].containerPort: Invalid value: "
		   "65536: must be between 1 and 65535, inclusive");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"protocol\":\"tcp\"}]"),
		   "spec.containers[0].ports[0].protocol: Unsupported value: "
		   "\"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"very-long-name-16\"}]"),
		   "spec.containers[0].ports[0].name: Invalid value: "
		   "\"very-long-name-16\": must be no more than 15 characters");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"8080\"}]"),
		   "spec.containers[0].ports[0].name: Invalid value: \"8080\": "
		   "must contain at least one letter (a-z)");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"a--b\"}]"),
		   "spec.containers[0].ports[0].name: Invalid value: \"a--b\": "
		   "must not contain consecutive hyphens");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"-ab\"}]"),
		   "spec.containers[0].ports[0].name: Invalid value: \"-ab\": "
		   "must not begin or end with a hyphen");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"Web\"}]"),
		   "spec.containers[0].ports[0].name: Invalid value: \"Web\": "
		   "must contain only alpha-numeric characters (a-z, 0-9), and "
		   "hyphens (-)");
	expect_err(CTR(",\"ports\":[{\"containerPort\":1,\"name\":\"web\"},"
		       "{\"containerPort\":2,\"name\":\"web\"}]"),
		   "spec.containers[0].ports[1].name: Duplicate value: \"web\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_fields_round_trip),
		cmocka_unit_test(test_defaults_and_nulls),
		cmocka_unit_test(test_init_containers),
		cmocka_unit_test(test_init_container_limit),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_security),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

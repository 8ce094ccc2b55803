/* Pod model, issue 4 fields (continued): probes, lifecycle hooks, env
 * valueFrom, spec-level fields, many causes at once. */
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

static void test_probes(void **state)
{
	expect_err_r(CTR(",\"livenessProbe\":{\"periodSeconds\":5}"),
		     "spec.containers[0].livenessProbe: Required value: must "
		     "specify a handler type", "FieldValueRequired");
	expect_err(CTR(",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]},"
		       "\"tcpSocket\":{\"port\":1}}"),
		   "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may "
		   "not specify more than 1 handler type");
	expect_err(CTR(",\"readinessProbe\":{\"grpc\":{\"port\":1}}"),
		   "spec.containers[0].readinessProbe.grpc: not supported: podvm "
		   "probes take exec, httpGet or tcpSocket");
	expect_err(CTR(",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]},"
		       "\"successThreshold\":2}"),
		   "spec.containers[0].livenessProbe.successThreshold: Invalid "
		   "value: 2: must be 1");
	expect_err(CTR(",\"startupProbe\":{\"exec\":{\"command\":[\"x\"]},"
		       "\"successThreshold\":3}"),
		   "spec.containers[0].startupProbe.successThreshold: Invalid "
		   "value: 3: must be 1");
	expect_err(CTR(",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]},"
		       "\"initialDelaySeconds\":-1}"),
		   "spec.containers[0].livenessProbe.initialDelaySeconds: Invalid "
		   "value: -1: must be between 0 and 2147483647, inclusive");
	expect_err(CTR(",\"livenessProbe\":{\"exec\":{\"command\":[]}}"),
		   "spec.containers[0].livenessProbe.exec.command: Required value");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"path\":\"/\"}}"),
		   "spec.containers[0].livenessProbe.httpGet.port: Required value");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"port\":\"web\"}}"),
		   "spec.containers[0].livenessProbe.httpGet.port: Invalid value: "
		   "\"web\": must be the name of a port in this container's ports");
	expect_err(CTR(",\"livenessProbe\":{\"tcpSocket\":{\"port\":0}}"),
		   "spec.containers[0].livenessProbe.tcpSocket.port: Invalid "
		   "value: 0: must be between 1 and 65535, inclusive");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"port\":80,\"scheme\":"
		       "\"FTP\"}}"),
		   "spec.containers[0].livenessProbe.httpGet.scheme: Unsupported "
		   "value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"port\":80,"
		       "\"httpHeaders\":[{\"name\":\"X\",\"value\":\"a\\r\\nB: c\"}]}}"),
		   "spec.containers[0].livenessProbe.httpGet.httpHeaders[0].value: "
		   "Invalid value: \"a\\x0d\\x0aB: c\": must not contain control "
		   "characters");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"port\":80,"
		       "\"httpHeaders\":[{\"name\":\"X Y\",\"value\":\"a\"}]}}"),
		   "spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name: "
		   "Invalid value: \"X Y\": a valid HTTP header must consist of "
		   "alphanumeric characters or '-'");
	expect_err(CTR(",\"livenessProbe\":{\"httpGet\":{\"port\":80,\"path\":\"x\"}}"),
		   "spec.containers[0].livenessProbe.httpGet.path: Invalid value: "
		   "\"x\": must be an absolute URL path without spaces");
	expect_err(CTR(",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]},"
		       "\"terminationGracePeriodSeconds\":5}"),
		   "spec.containers[0].livenessProbe.terminationGracePeriodSeconds:"
		   " not supported: the pod's terminationGracePeriodSeconds applies");
	expect_err(CTR(",\"livenessProbe\":{\"sleep\":{\"seconds\":1}}"),
		   "spec.containers[0].livenessProbe.sleep: unknown field");
	/* lifecycle hooks */
	expect_err(CTR(",\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":5}}}"),
		   "spec.containers[0].lifecycle.preStop.sleep: not supported: "
		   "lifecycle hooks take exec or httpGet");
	expect_err(CTR(",\"lifecycle\":{\"postStart\":{\"tcpSocket\":{\"port\":1}}}"),
		   "spec.containers[0].lifecycle.postStart.tcpSocket: not "
		   "supported: lifecycle hooks take exec or httpGet");
	expect_err(CTR(",\"lifecycle\":{\"postStart\":{}}"),
		   "spec.containers[0].lifecycle.postStart: Required value: must "
		   "specify a handler type");
	expect_err(CTR(",\"lifecycle\":{\"postStart\":{\"exec\":{\"command\":"
		       "[\"x\"]},\"periodSeconds\":1}}"),
		   "spec.containers[0].lifecycle.postStart.periodSeconds: unknown field");
	expect_err(CTR(",\"lifecycle\":{\"preStop\":{\"httpGet\":{\"port\":\"stop\"}}}"),
		   "spec.containers[0].lifecycle.preStop.httpGet.port: Invalid "
		   "value: \"stop\": must be the name of a port in this "
		   "container's ports");
	expect_err(CTR(",\"lifecycle\":{\"stopSignal\":\"SIGKILL\"}"),
		   "spec.containers[0].lifecycle.stopSignal: not supported: "
		   "containers stop with SIGTERM");
}

#define ENV(X) CTR(",\"env\":[{\"name\":\"E\"" X "}]")

/* env valueFrom: fieldRef and the refs podvm refuses. */
static void test_env_sources(void **state)
{
	static const char *const ok_paths[] = {
		"metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName", "status.podIP",
		"status.podIPs", "status.hostIP", "status.hostIPs",
		"metadata.labels['app']", "metadata.annotations['a.b/c']",
	};
	char json[1024];
	struct pod *pod;

	for (size_t i = 0; i < sizeof(ok_paths) / sizeof(ok_paths[0]); i++) {
		snprintf(json, sizeof(json), ENV(",\"valueFrom\":{\"fieldRef\":"
						 "{\"fieldPath\":\"%s\"}}"), ok_paths[i]);
		pod = expect_ok(json);
		assert_string_equal(pod->containers[0].env[0].field_path, ok_paths[i]);
		pod_free(pod);
	}
	expect_err_r(ENV(",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.foo\"}}"),
		     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "
		     "Unsupported value: \"spec.foo\": supported values: "
		     "\"metadata.name\", \"metadata.namespace\", \"metadata.uid\", "
		     "\"spec.nodeName\", \"spec.serviceAccountName\", "
		     "\"status.hostIP\", \"status.hostIPs\", \"status.podIP\", "
		     "\"status.podIPs\"", "FieldValueNotSupported");
	expect_err(ENV(",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
		       "\"metadata.labels['-x']\"}}"),
		   "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid "
		   "value: \"metadata.labels['-x']\": name part must consist of "
		   "alphanumeric characters, '-', '_' or '.', and must start and end "
		   "with an alphanumeric character");
	expect_err(ENV(",\"valueFrom\":{\"fieldRef\":{}}"),
		   "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "
		   "Required value");
	expect_err(ENV(",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\","
		       "\"apiVersion\":\"v2\"}}"),
		   "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion: "
		   "Unsupported value: \"v2\": supported values: \"v1\"");
	expect_err_r(ENV(",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"a\",\"key\":\"b\"}}"),
		     "spec.containers[0].env[0].valueFrom.configMapKeyRef: not "
		     "supported: podvm has no ConfigMaps or Secrets",
		     "FieldValueNotSupported");
	expect_err(ENV(",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"a\",\"key\":\"b\"}}"),
		   "spec.containers[0].env[0].valueFrom.secretKeyRef: not "
		   "supported: podvm has no ConfigMaps or Secrets");
	expect_err(ENV(",\"value\":\"x\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
		       "\"metadata.name\"}}"),
		   "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may "
		   "not be specified when `value` is not empty");
	expect_err(ENV(",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"},"
		       "\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}"),
		   "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may "
		   "not have more than one field specified at a time");
}

/* env valueFrom: resourceFieldRef and its divisors; repeated names. */
static void test_env_resources(void **state)
{
	struct pod *pod;

	expect_err(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.gpu\"}}"),
		   "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: "
		   "Unsupported value: \"limits.gpu\": supported values: "
		   "\"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", "
		   "\"requests.cpu\", \"requests.ephemeral-storage\", "
		   "\"requests.memory\"");
	expect_err(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"divisor\":\"1\"}}"),
		   "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: "
		   "Required value");
	expect_err(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		       "\"limits.cpu\",\"divisor\":\"2\"}}"),
		   "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "
		   "Invalid value: \"2\": only divisor's values 1m and 1 are "
		   "supported with the cpu resource");
	expect_err(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		       "\"requests.memory\",\"divisor\":\"1m\"}}"),
		   "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "
		   "Invalid value: \"1m\": only divisor's values 1, 1k, 1M, 1G, 1T, "
		   "1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the "
		   "memory resource");
	expect_err(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		       "\"limits.memory\",\"containerName\":\"other\"}}"),
		   "spec.containers[0].env[0].valueFrom.resourceFieldRef."
		   "containerName: Invalid value: \"other\": must be the name of a "
		   "container in this pod");
	expect_err(CTR(",\"envFrom\":[{\"configMapRef\":{\"name\":\"x\"}}]"),
		   "spec.containers[0].envFrom: not supported: podvm has no "
		   "ConfigMaps or Secrets");
	/* divisors Kubernetes accepts: canonical forms included */
	pod = expect_ok(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
			    "\"limits.cpu\",\"divisor\":\"1000m\"}}"));
	assert_int_equal(pod->containers[0].env[0].divisor, 1000);
	pod_free(pod);
	pod = expect_ok(ENV(",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
			    "\"requests.memory\",\"divisor\":\"1Ei\"}}"));
	assert_int_equal(pod->containers[0].env[0].divisor, (int64_t)1 << 60);
	pod_free(pod);
	/* repeated names: the last definition wins, of any kind */
	pod = expect_ok(CTR(",\"env\":[{\"name\":\"A\",\"valueFrom\":{\"fieldRef\":"
			    "{\"fieldPath\":\"metadata.name\"}}},{\"name\":\"A\","
			    "\"value\":\"v\"}]"));
	assert_int_equal(pod->containers[0].n_env, 1);
	assert_int_equal(pod->containers[0].env[0].source, POD_ENV_VALUE);
	assert_null(pod->containers[0].env[0].field_path);
	assert_string_equal(pod->containers[0].env[0].value, "v");
	pod_free(pod);
}

static void test_spec_fields(void **state)
{
	expect_err_r(SPEC(",\"activeDeadlineSeconds\":0"),
		     "spec.activeDeadlineSeconds: Invalid value: 0: must be "
		     "between 1 and 2147483647, inclusive", "FieldValueInvalid");
	expect_err(SPEC(",\"nodeName\":\"Node_1\""),
		   "spec.nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123 "
		   "subdomain must consist of lower case alphanumeric characters, "
		   "'-' or '.', and must start and end with an alphanumeric "
		   "character");
	expect_err(SPEC(",\"serviceAccountName\":\"-sa\""),
		   "spec.serviceAccountName: Invalid value: \"-sa\": a lowercase "
		   "RFC 1123 subdomain must consist of lower case alphanumeric "
		   "characters, '-' or '.', and must start and end with an "
		   "alphanumeric character");
	expect_err(SPEC(",\"shareProcessNamespace\":true"),
		   "spec.shareProcessNamespace: not supported: each container has "
		   "its own PID namespace");
	expect_err_r(SPEC(",\"hostPID\":true"),
		     "spec.hostPID: Forbidden: not supported: pods run in their "
		     "own microVM", "FieldValueForbidden");
	expect_err(SPEC(",\"hostIPC\":true"),
		   "spec.hostIPC: Forbidden: not supported: pods run in their own "
		   "microVM");
	expect_err(SPEC(",\"tolerations\":{}"),
		   "spec.tolerations: expected array of objects");
	expect_err(SPEC(",\"nodeSelector\":{\"a\":1}"),
		   "spec.nodeSelector: expected map of string to string");
	expect_err(SPEC(",\"priority\":\"high\""), "spec.priority: expected integer");
	expect_err(SPEC(",\"ephemeralContainers\":[]"),
		   "spec.ephemeralContainers: unknown field");
	expect_err(CTR(",\"terminationMessagePath\":\"rel\""),
		   "spec.containers[0].terminationMessagePath: Invalid value: "
		   "\"rel\": must be an absolute path without '..'");
	expect_err(CTR(",\"terminationMessagePolicy\":\"Logs\""),
		   "spec.containers[0].terminationMessagePolicy: Unsupported value: "
		   "\"Logs\": supported values: \"File\", \"FallbackToLogsOnError\"");
}

/* Every problem is reported, each with its path. */
static void test_many_causes(void **state)
{
	struct pod *pod = NULL;
	struct pod_causes c;
	struct pv_err err = { 0 };

	assert_int_equal(decode(CTR(",\"ports\":[{\"containerPort\":1,\"hostPort\":2}],"
				    "\"securityContext\":{\"privileged\":true}"),
				&pod, &c, &err), -EINVAL);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.items[0].field, "spec.containers[0].ports[0].hostPort");
	assert_string_equal(c.items[1].field,
			    "spec.containers[0].securityContext.privileged");
	assert_string_equal(c.items[1].reason, "FieldValueForbidden");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_env_sources),
		cmocka_unit_test(test_env_resources),
		cmocka_unit_test(test_spec_fields),
		cmocka_unit_test(test_many_causes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

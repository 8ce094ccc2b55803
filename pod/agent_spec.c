/* AGENT_POD_SPEC, host -> guest: {"pod": <Pod>, "runtime": <runtime>}.
 * Both ends of the message: the host (host/follow.c) encodes the decoded
 * Pod and its resolved runtime; the guest decodes it as hostile input, on
 * the same strict JSON parser as every other agent message. */
#include "pod/agent_msg.h"
#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/agent.h"
#include "pod/agent_json.h"

int agent_msg_pod_spec(const struct pod *pod, const struct pod_runtime *rt,
		       char **out, size_t *len, struct pv_err *err)
{
	struct json_object *root = json_object_new_object();
	bool ok = root && util_json_add(root, "pod", pod_to_json(pod)) &&
		  util_json_add(root, "runtime", runtime_to_json(rt));

	*out = agent_json_finish(root, ok);
	if (!*out)
		return pv_err_set(err, ENOMEM, "out of memory");
	*len = strlen(*out);
	if (*len > AGENT_MAX_PAYLOAD) {
		free(*out);
		*out = NULL;
		return pv_err_set(err, EMSGSIZE, "pod spec too large for the agent "
				  "(%zu bytes)", *len);
	}
	return 0;
}

int agent_parse_pod_spec(const uint8_t *p, size_t n, struct pod **pod,
			 struct pod_runtime *rt, struct pv_err *err)
{
	static const char *const keys[] = { "pod", "runtime", NULL };
	struct json_object *root = NULL, *pod_o, *rt_o;
	int rc;

	*pod = NULL;
	memset(rt, 0, sizeof(*rt));
	rc = agent_json_parse_depth(p, n, "POD_SPEC", AGENT_SPEC_DEPTH, &root, err);
	if (rc < 0)
		return rc;
	if (agent_json_keys(root, "POD_SPEC", keys, err) < 0 ||
	    !json_object_object_get_ex(root, "pod", &pod_o) ||
	    !json_object_object_get_ex(root, "runtime", &rt_o)) {
		rc = pv_err_set(err, EBADMSG, "POD_SPEC: want exactly \"pod\" and \"runtime\"");
		goto out;
	}
	rc = pod_decode(pod_o, pod, NULL, err);
	if (rc < 0) {
		pv_err_prefix(err, "POD_SPEC pod");
		goto out;
	}
	rc = runtime_from_json(rt_o, rt, err);
	if (rc < 0) {
		pv_err_prefix(err, "POD_SPEC runtime");
		goto out;
	}
	if (rt->n_containers != (*pod)->n_containers ||
	    rt->n_init_containers != (*pod)->n_init_containers ||
	    rt->n_containers == 0 || rt->n_containers > POD_MAX_CONTAINERS) {
		rc = pv_err_set(err, EINVAL, "POD_SPEC: %zu+%zu runtime containers for "
				"%zu+%zu in the pod", rt->n_init_containers,
				rt->n_containers, (*pod)->n_init_containers,
				(*pod)->n_containers);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		pod_free(*pod);
		*pod = NULL;
		runtime_free(rt);
	}
	json_object_put(root);
	return rc;
}

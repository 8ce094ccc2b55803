/* Discovery (/api, /api/v1, /apis), /version, health and the OpenAPI
 * endpoints kubectl probes. Static JSON: only what kubectl needs to find
 * pods and pods/log. */
#include <stdio.h>
#include <string.h>

#include "api/api_priv.h"

/* kubectl warns when the server is more than one minor version away;
 * claim the core/v1 level podvmd follows. */
#define API_K8S_MAJOR "1"
#define API_K8S_MINOR "32"
#define API_GIT_VERSION "v1.32.0-podvm"

enum MHD_Result api_h_api(struct api_req *r)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
		 "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\","
		 "\"serverAddress\":\"%s\"}]}",
		 r->srv->addr[0] ? r->srv->addr : "localhost");
	return api_reply_json(r, 200, buf);
}

enum MHD_Result api_h_api_v1(struct api_req *r)
{
	static const char body[] =
		"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
		"\"groupVersion\":\"v1\",\"resources\":["
		"{\"name\":\"pods\",\"singularName\":\"pod\",\"namespaced\":true,"
		"\"kind\":\"Pod\",\"verbs\":[\"create\",\"delete\",\"get\","
		"\"list\",\"watch\"],\"shortNames\":[\"po\"],"
		"\"categories\":[\"all\"]},"
		"{\"name\":\"pods/log\",\"singularName\":\"\",\"namespaced\":true,"
		"\"kind\":\"Pod\",\"verbs\":[\"get\"]}]}";

	return api_reply_json(r, 200, body);
}

enum MHD_Result api_h_apis(struct api_req *r)
{
	static const char body[] =
		"{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":["
		API_PODVM_GROUP "]}";

	return api_reply_json(r, 200, body);
}

enum MHD_Result api_h_version(struct api_req *r)
{
	static const char body[] =
		"{\"major\":\"" API_K8S_MAJOR "\",\"minor\":\"" API_K8S_MINOR "\","
		"\"gitVersion\":\"" API_GIT_VERSION "\",\"gitCommit\":\"\","
		"\"gitTreeState\":\"clean\",\"buildDate\":\"" __DATE__ "\","
		"\"goVersion\":\"\",\"compiler\":\"gcc\","
		"\"platform\":\"linux/amd64\"}";

	return api_reply_json(r, 200, body);
}

enum MHD_Result api_h_health(struct api_req *r)
{
	return api_reply(r, 200, "text/plain; charset=utf-8", "ok", 2);
}

enum MHD_Result api_h_openapi(struct api_req *r)
{
	/* No OpenAPI documents: kubectl falls back (use --validate=false). */
	return api_reply_status(r, 404, "NotFound",
				"the server does not serve OpenAPI documents");
}

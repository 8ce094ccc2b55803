/* VPC endpoints (issue 5): /apis/podvm.io/v1/vpcs[/{name}] and the
 * podvm.io group's discovery documents.  Each handler checks the request
 * and calls the VPC service (daemon/vpcsvc.h), which owns decoding,
 * validation, storage and the network. */
#include <stdlib.h>
#include <string.h>

#include "api/api_priv.h"
#include "daemon/vpcsvc.h"

enum MHD_Result api_h_podvm_group(struct api_req *r)
{
	static const char body[] =
		"{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\","
		"\"name\":\"podvm.io\",\"versions\":[{\"groupVersion\":"
		"\"podvm.io/v1\",\"version\":\"v1\"}],\"preferredVersion\":"
		"{\"groupVersion\":\"podvm.io/v1\",\"version\":\"v1\"}}";

	return api_reply_json(r, 200, body);
}

enum MHD_Result api_h_podvm_v1(struct api_req *r)
{
	static const char body[] =
		"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
		"\"groupVersion\":\"podvm.io/v1\",\"resources\":["
		"{\"name\":\"vpcs\",\"singularName\":\"vpc\",\"namespaced\":false,"
		"\"kind\":\"VPC\",\"verbs\":[\"create\",\"delete\",\"get\","
		"\"list\"]}]}";

	return api_reply_json(r, 200, body);
}

/* podsvc_status is several KiB: on the heap. */
static struct podsvc_status *api_vpc_st(void)
{
	return calloc(1, sizeof(struct podsvc_status));
}

/* The service's answer: the JSON text with code, or its Status. */
static enum MHD_Result api_vpc_reply(struct api_req *r, int rc, int code,
				     char *out, struct podsvc_status *st)
{
	enum MHD_Result ret = rc < 0 ? api_reply_podsvc(r, st)
				     : api_reply_json(r, code, out);

	free(out);
	free(st);
	return ret;
}

static bool api_vpc_enabled(struct api_req *r)
{
	return r->srv->vpcs != NULL;
}

enum MHD_Result api_h_vpcs_list(struct api_req *r)
{
	struct podsvc_status *st;
	char *out = NULL;
	int rc;

	if (!api_vpc_enabled(r))
		return api_reply_status(r, 404, "NotFound", "VPCs are not served here");
	st = api_vpc_st();
	if (!st)
		return MHD_NO;
	rc = vpcsvc_list(r->srv->vpcs, &out, st);
	return api_vpc_reply(r, rc, 200, out, st);
}

enum MHD_Result api_h_vpcs_create(struct api_req *r)
{
	struct podsvc_status *st;
	const char *ctype;
	char *out = NULL;
	int rc;

	if (!api_vpc_enabled(r))
		return api_reply_status(r, 404, "NotFound", "VPCs are not served here");
	st = api_vpc_st();
	if (!st)
		return MHD_NO;
	ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_TYPE);
	rc = api_body_check(ctype, r->body ? r->body : "", r->body_len, st);
	if (rc == 0)
		rc = vpcsvc_create(r->srv->vpcs, r->body, r->body_len, &out, st);
	return api_vpc_reply(r, rc, 201, out, st);
}

enum MHD_Result api_h_vpc_get(struct api_req *r)
{
	const char *name = api_param(r, "name");
	struct podsvc_status *st;
	char *out = NULL;
	int rc;

	if (!api_vpc_enabled(r) || !name)
		return api_reply_status(r, 404, "NotFound", "VPCs are not served here");
	st = api_vpc_st();
	if (!st)
		return MHD_NO;
	rc = vpcsvc_get(r->srv->vpcs, name, &out, st);
	return api_vpc_reply(r, rc, 200, out, st);
}

enum MHD_Result api_h_vpc_delete(struct api_req *r)
{
	const char *name = api_param(r, "name");
	struct podsvc_status *st;
	char *out = NULL;
	int rc;

	if (!api_vpc_enabled(r) || !name)
		return api_reply_status(r, 404, "NotFound", "VPCs are not served here");
	st = api_vpc_st();
	if (!st)
		return MHD_NO;
	rc = vpcsvc_delete(r->srv->vpcs, name, &out, st);
	return api_vpc_reply(r, rc, 200, out, st);
}

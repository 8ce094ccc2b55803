/* Shared by the pod field tests (cmocka): JSON builders and expectations. */
#ifndef PODVM_TESTS_POD_FIELDS_H
#define PODVM_TESTS_POD_FIELDS_H

#define POD_HEAD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
/* One container with extra fields X. */
#define CTR(X) POD_HEAD "\"spec\":{\"containers\":[{\"name\":\"c\"," \
	"\"image\":\"busybox\"" X "}]}}"
/* Extra spec fields S beside one plain container. */
#define SPEC(S) POD_HEAD "\"spec\":{\"containers\":[{\"name\":\"c\"," \
	"\"image\":\"busybox\"}]" S "}}"
/* An init container with fields X. */
#define INIT(X) SPEC(",\"initContainers\":[{\"name\":\"i\",\"image\":\"x\"" X "}]")

static inline int decode(const char *json, struct pod **pod, struct pod_causes *c,
		  struct pv_err *err)
{
	return pod_decode_json(json, strlen(json), pod, c, err);
}

/* Decoding must fail with exactly msg as the first error, with reason. */
static inline void expect_err_r(const char *json, const char *msg, const char *reason)
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
	if (reason)
		assert_string_equal(c.items[0].reason, reason);
}

static inline void expect_err(const char *json, const char *msg)
{
	expect_err_r(json, msg, NULL);
}

static inline struct pod *expect_ok(const char *json)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	if (decode(json, &pod, NULL, &err) < 0)
		fail_msg("decode %s: %s", json, err.msg);
	return pod;
}

#endif

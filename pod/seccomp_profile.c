/* OCI seccomp profiles: strict decoder and canonical encoder. The
 * syscall names are only checked for their shape here: whether this
 * kernel has them is the guest's business (libseccomp resolves them; an
 * unknown name is skipped, as runc does). */
#include "pod/seccomp_profile.h"
#include "util/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define SCP_JSON_DEPTH 16
#define SCP_TRACE_MAX  65535   /* SECCOMP_RET_DATA */
#define SCP_PATH       128     /* field paths in messages */

struct scp_name { const char *name; unsigned v; };

static const struct scp_name scp_actions[] = {
	{ "SCMP_ACT_KILL", SCP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_THREAD", SCP_ACT_KILL_THREAD },
	{ "SCMP_ACT_KILL_PROCESS", SCP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_TRAP", SCP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", SCP_ACT_ERRNO },
	{ "SCMP_ACT_TRACE", SCP_ACT_TRACE },
	{ "SCMP_ACT_ALLOW", SCP_ACT_ALLOW },
	{ "SCMP_ACT_LOG", SCP_ACT_LOG },
	{ NULL, 0 },
};

static const struct scp_name scp_ops[] = {
	{ "SCMP_CMP_NE", SCP_OP_NE }, { "SCMP_CMP_LT", SCP_OP_LT },
	{ "SCMP_CMP_LE", SCP_OP_LE }, { "SCMP_CMP_EQ", SCP_OP_EQ },
	{ "SCMP_CMP_GE", SCP_OP_GE }, { "SCMP_CMP_GT", SCP_OP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCP_OP_MASKED_EQ },
	{ NULL, 0 },
};

/* The runtime-spec's list; only the x86 family can occur in our VMs. */
static const struct scp_name scp_arches[] = {
	{ "SCMP_ARCH_X86_64", SCP_ARCH_X86_64 }, { "SCMP_ARCH_X86", SCP_ARCH_X86 },
	{ "SCMP_ARCH_X32", SCP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCP_ARCH_OTHER }, { "SCMP_ARCH_AARCH64", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_MIPS", SCP_ARCH_OTHER }, { "SCMP_ARCH_MIPS64", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_MIPS64N32", SCP_ARCH_OTHER }, { "SCMP_ARCH_MIPSEL", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_MIPSEL64", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_MIPSEL64N32", SCP_ARCH_OTHER }, { "SCMP_ARCH_PPC", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_PPC64", SCP_ARCH_OTHER }, { "SCMP_ARCH_PPC64LE", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_S390", SCP_ARCH_OTHER }, { "SCMP_ARCH_S390X", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_PARISC", SCP_ARCH_OTHER }, { "SCMP_ARCH_PARISC64", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_RISCV64", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_LOONGARCH64", SCP_ARCH_OTHER }, { "SCMP_ARCH_M68K", SCP_ARCH_OTHER },
	{ "SCMP_ARCH_SH", SCP_ARCH_OTHER }, { "SCMP_ARCH_SHEB", SCP_ARCH_OTHER },
	{ NULL, 0 },
};

static const struct scp_name scp_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SCP_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SCP_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCP_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCP_FLAG_WAIT_KILLABLE_RECV },
	{ NULL, 0 },
};

uint32_t seccomp_profile_errno(bool has, uint32_t v)
{
	return has ? v : EPERM;
}

const char *seccomp_profile_action_name(enum scp_action a)
{
	for (size_t i = 1; scp_actions[i].name; i++)
		if (scp_actions[i].v == (unsigned)a)
			return scp_actions[i].name;
	return "?";
}

static const char *scp_name_of(const struct scp_name *t, unsigned v)
{
	for (; t->name; t++)
		if (t->v == v)
			return t->name;
	return NULL;
}

/* A string from table t; what names the kind in the message. */
static int scp_enum(struct json_object *v, const char *path,
		    const struct scp_name *t, const char *what, unsigned *out,
		    struct pv_err *err)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return pv_err_set(err, EINVAL, "%s: expected a string", path);
	s = json_object_get_string(v);
	for (; t->name; t++) {
		if (strcmp(t->name, s) == 0) {
			*out = t->v;
			return 0;
		}
	}
	if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
		return pv_err_set(err, EINVAL, "%s: SCMP_ACT_NOTIFY is not supported "
				  "(podvm has no seccomp agent)", path);
	return pv_err_set(err, EINVAL, "%s: unknown %s \"%.64s\"", path, what, s);
}

static int scp_u64(struct json_object *v, const char *path, uint64_t max,
		   uint64_t *out, struct pv_err *err)
{
	if (!json_object_is_type(v, json_type_int))
		return pv_err_set(err, EINVAL, "%s: expected an integer", path);
	if (json_object_get_int64(v) < 0)
		return pv_err_set(err, EINVAL, "%s: must not be negative", path);
	*out = json_object_get_uint64(v);
	if (*out > max)
		return pv_err_set(err, EINVAL, "%s: must be at most %llu", path,
				  (unsigned long long)max);
	return 0;
}

static int scp_array(struct json_object *v, const char *path, size_t max,
		     size_t *n, struct pv_err *err)
{
	if (!json_object_is_type(v, json_type_array))
		return pv_err_set(err, EINVAL, "%s: expected an array", path);
	*n = json_object_array_length(v);
	if (*n > max)
		return pv_err_set(err, E2BIG, "%s: more than %zu entries", path, max);
	return 0;
}

static bool scp_is_null(struct json_object *v)
{
	return json_object_is_type(v, json_type_null);
}

static int scp_dec_arg(struct json_object *o, const char *path,
		       struct scp_arg *a, struct pv_err *err)
{
	char fp[SCP_PATH];
	bool have_index = false, have_value = false, have_op = false;
	uint64_t u;
	unsigned e;
	int rc = 0;

	if (!json_object_is_type(o, json_type_object))
		return pv_err_set(err, EINVAL, "%s: expected an object", path);
	json_object_object_foreach(o, key, v) {
		snprintf(fp, sizeof(fp), "%.80s.%.24s", path, key);
		if (scp_is_null(v))
			continue;
		if (strcmp(key, "index") == 0) {
			rc = scp_u64(v, fp, SCP_MAX_ARGS - 1, &u, err);
			a->index = (unsigned)u;
			have_index = true;
		} else if (strcmp(key, "value") == 0) {
			rc = scp_u64(v, fp, UINT64_MAX, &a->value, err);
			have_value = true;
		} else if (strcmp(key, "valueTwo") == 0) {
			rc = scp_u64(v, fp, UINT64_MAX, &a->value_two, err);
		} else if (strcmp(key, "op") == 0) {
			rc = scp_enum(v, fp, scp_ops, "operator", &e, err);
			a->op = (enum scp_op)e;
			have_op = true;
		} else {
			rc = pv_err_set(err, EINVAL, "%s: unknown field", fp);
		}
		if (rc < 0)
			return rc;
	}
	if (!have_index || !have_value || !have_op)
		return pv_err_set(err, EINVAL, "%s: index, value and op are required",
				  path);
	return 0;
}

static bool scp_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > SCP_NAME_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	return true;
}

static int scp_dec_names(struct json_object *v, const char *path,
			 struct scp_rule *r, size_t *budget, struct pv_err *err)
{
	char fp[SCP_PATH];
	char **names;
	size_t n;
	int rc;

	rc = scp_array(v, path, *budget, &n, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		return pv_err_set(err, EINVAL, "%s: must name at least one syscall", path);
	names = calloc(n, sizeof(*names));
	if (!names)
		return pv_err_set(err, ENOMEM, "out of memory");
	r->names = (const char *const *)names;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(v, i);

		snprintf(fp, sizeof(fp), "%.80s[%zu]", path, i);
		if (!json_object_is_type(s, json_type_string) ||
		    !scp_name_ok(json_object_get_string(s),
				 (size_t)json_object_get_string_len(s)))
			return pv_err_set(err, EINVAL, "%s: expected a syscall name "
					  "([a-z0-9_], at most %d characters)", fp,
					  SCP_NAME_MAX);
		names[i] = strdup(json_object_get_string(s));
		if (!names[i])
			return pv_err_set(err, ENOMEM, "out of memory");
		r->n_names++;
	}
	*budget -= n;
	return 0;
}

/* errnoRet belongs to ERRNO and TRACE only. */
static int scp_check_errno(enum scp_action act, bool has, uint32_t v,
			   const char *path, struct pv_err *err)
{
	if (!has)
		return 0;
	if (act != SCP_ACT_ERRNO && act != SCP_ACT_TRACE)
		return pv_err_set(err, EINVAL, "%s: only valid with SCMP_ACT_ERRNO "
				  "or SCMP_ACT_TRACE", path);
	if (act == SCP_ACT_ERRNO && v > SCP_ERRNO_MAX)
		return pv_err_set(err, EINVAL, "%s: must be at most %d for "
				  "SCMP_ACT_ERRNO", path, SCP_ERRNO_MAX);
	return 0;
}

static int scp_dec_rule(struct json_object *o, const char *path,
			struct scp_rule *r, size_t *budget, struct pv_err *err)
{
	char fp[SCP_PATH], ap[SCP_PATH];
	bool have_action = false;
	uint64_t u;
	unsigned e;
	size_t n;
	int rc = 0;

	if (!json_object_is_type(o, json_type_object))
		return pv_err_set(err, EINVAL, "%s: expected an object", path);
	json_object_object_foreach(o, key, v) {
		snprintf(fp, sizeof(fp), "%.80s.%.24s", path, key);
		if (scp_is_null(v))
			continue;
		if (strcmp(key, "names") == 0 && !r->names) {
			rc = scp_dec_names(v, fp, r, budget, err);
		} else if (strcmp(key, "action") == 0) {
			rc = scp_enum(v, fp, scp_actions, "action", &e, err);
			r->action = (enum scp_action)e;
			have_action = true;
		} else if (strcmp(key, "errnoRet") == 0) {
			rc = scp_u64(v, fp, SCP_TRACE_MAX, &u, err);
			r->errno_ret = (uint32_t)u;
			r->has_errno = true;
		} else if (strcmp(key, "args") == 0) {
			rc = scp_array(v, fp, SCP_MAX_ARGS, &n, err);
			for (size_t i = 0; rc == 0 && i < n; i++) {
				snprintf(ap, sizeof(ap), "%.80s[%zu]", fp, i);
				rc = scp_dec_arg(json_object_array_get_idx(v, i), ap,
						 &r->args[i], err);
				r->n_args = i + 1;
			}
		} else if (strcmp(key, "comment") == 0) {
			if (!json_object_is_type(v, json_type_string))
				rc = pv_err_set(err, EINVAL, "%s: expected a string", fp);
		} else if (strcmp(key, "includes") == 0 || strcmp(key, "excludes") == 0) {
			rc = pv_err_set(err, EINVAL, "%s: Docker's profile extension is "
					"not in the OCI format", fp);
		} else {
			rc = pv_err_set(err, EINVAL, "%s: unknown field", fp);
		}
		if (rc < 0)
			return rc;
	}
	if (!r->names || !have_action)
		return pv_err_set(err, EINVAL, "%s: names and action are required",
				  path);
	snprintf(fp, sizeof(fp), "%.80s.errnoRet", path);
	return scp_check_errno(r->action, r->has_errno, r->errno_ret, fp, err);
}

static int scp_dec_set(struct json_object *v, const char *path,
		       const struct scp_name *t, const char *what,
		       unsigned *bits, struct pv_err *err)
{
	char fp[SCP_PATH];
	size_t n;
	unsigned b;
	int rc;

	rc = scp_array(v, path, 64, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(fp, sizeof(fp), "%.80s[%zu]", path, i);
		rc = scp_enum(json_object_array_get_idx(v, i), fp, t, what, &b, err);
		*bits |= b;
	}
	return rc;
}

/* listenerPath / listenerMetadata: only empty (no seccomp agent). */
static int scp_dec_listener(struct json_object *v, const char *key,
			    struct pv_err *err)
{
	if (!json_object_is_type(v, json_type_string))
		return pv_err_set(err, EINVAL, "%s: expected a string", key);
	if (json_object_get_string_len(v) > 0)
		return pv_err_set(err, EINVAL, "%s: not supported (podvm has no "
				  "seccomp agent)", key);
	return 0;
}

static int scp_dec_top(struct json_object *obj, struct seccomp_profile *p,
		       struct pv_err *err)
{
	bool have_default = false;
	size_t budget = SCP_MAX_NAMES, n;
	char fp[SCP_PATH];
	uint64_t u;
	unsigned e;
	int rc = 0;

	json_object_object_foreach(obj, key, v) {
		if (scp_is_null(v))
			continue;
		if (strcmp(key, "defaultAction") == 0) {
			rc = scp_enum(v, key, scp_actions, "action", &e, err);
			p->default_action = (enum scp_action)e;
			have_default = true;
		} else if (strcmp(key, "defaultErrnoRet") == 0) {
			rc = scp_u64(v, key, SCP_TRACE_MAX, &u, err);
			p->default_errno = (uint32_t)u;
			p->has_default_errno = true;
		} else if (strcmp(key, "architectures") == 0) {
			rc = scp_dec_set(v, key, scp_arches, "architecture",
					 &p->arches, err);
		} else if (strcmp(key, "flags") == 0) {
			rc = scp_dec_set(v, key, scp_flags, "flag", &p->flags, err);
		} else if (strcmp(key, "listenerPath") == 0 ||
			   strcmp(key, "listenerMetadata") == 0) {
			rc = scp_dec_listener(v, key, err);
		} else if (strcmp(key, "syscalls") == 0 && !p->rules) {
			rc = scp_array(v, key, SCP_MAX_RULES, &n, err);
			if (rc == 0 && n) {
				p->rules = calloc(n, sizeof(*p->rules));
				if (!p->rules)
					return pv_err_set(err, ENOMEM, "out of memory");
			}
			for (size_t i = 0; rc == 0 && i < n; i++) {
				snprintf(fp, sizeof(fp), "syscalls[%zu]", i);
				p->n_rules = i + 1;
				rc = scp_dec_rule(json_object_array_get_idx(v, i), fp,
						  &p->rules[i], &budget, err);
			}
		} else if (strcmp(key, "archMap") == 0) {
			rc = pv_err_set(err, EINVAL, "archMap: Docker's profile format "
					"is not supported; use \"architectures\" (OCI)");
		} else {
			rc = pv_err_set(err, EINVAL, "%.32s: unknown field", key);
		}
		if (rc < 0)
			return rc;
	}
	if (!have_default)
		return pv_err_set(err, EINVAL, "defaultAction: required");
	return scp_check_errno(p->default_action, p->has_default_errno,
			       p->default_errno, "defaultErrnoRet", err);
}

int seccomp_profile_from_json(struct json_object *obj,
			      struct seccomp_profile **out, struct pv_err *err)
{
	struct seccomp_profile *p;
	int rc;

	*out = NULL;
	if (!json_object_is_type(obj, json_type_object))
		return pv_err_set(err, EINVAL, "expected a JSON object");
	p = calloc(1, sizeof(*p));
	if (!p)
		return pv_err_set(err, ENOMEM, "out of memory");
	p->owned = true;
	rc = scp_dec_top(obj, p, err);
	if (rc < 0) {
		seccomp_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int seccomp_profile_parse(const char *text, size_t len,
			  struct seccomp_profile **out, struct pv_err *err)
{
	struct util_json_parse jp = { .depth = SCP_JSON_DEPTH,
				      .flags = UTIL_JSON_NOT_NULL };
	struct json_object *obj;
	int rc;

	*out = NULL;
	if (len > SCP_FILE_MAX)
		return pv_err_set(err, E2BIG, "larger than %u bytes", SCP_FILE_MAX);
	if (len > INT32_MAX || memchr(text, '\0', len))
		return pv_err_set(err, EINVAL, "invalid JSON: NUL byte");
	switch (util_json_parse(&jp, text, len, &obj)) {
	case UTIL_JSON_OK:
		break;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "out of memory");
	case UTIL_JSON_TRUNCATED:
		return pv_err_set(err, EINVAL, "invalid JSON: unexpected end");
	case UTIL_JSON_TRAILING:
		return pv_err_set(err, EINVAL, "invalid JSON at offset %zu: data "
				  "after the profile", jp.end);
	default:
		return pv_err_set(err, EINVAL, "invalid JSON at offset %zu: %s",
				  jp.end, jp.detail);
	}
	rc = seccomp_profile_from_json(obj, out, err);
	json_object_put(obj);
	return rc;
}

/* ---- encoding ---- */

static struct json_object *scp_set_json(const struct scp_name *t, unsigned bits)
{
	struct json_object *a = json_object_new_array();

	/* one name per bit; OTHER stands for all foreign arches */
	for (unsigned b = 1; a && b && b <= bits; b <<= 1) {
		if (!(bits & b))
			continue;
		if (!util_json_push(a, json_object_new_string(scp_name_of(t, b)))) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *scp_arg_json(const struct scp_arg *a)
{
	struct json_object *o = json_object_new_object();

	if (o && util_json_add(o, "index", json_object_new_int(a->index)) &&
	    util_json_add(o, "value", json_object_new_uint64(a->value)) &&
	    (!a->value_two ||
	     util_json_add(o, "valueTwo", json_object_new_uint64(a->value_two))) &&
	    util_json_add(o, "op", json_object_new_string(scp_name_of(scp_ops, a->op))))
		return o;
	json_object_put(o);
	return NULL;
}

static struct json_object *scp_rule_json(const struct scp_rule *r)
{
	struct json_object *o = json_object_new_object(), *names, *args;

	names = json_object_new_array();
	if (!o || !util_json_add(o, "names", names))
		goto fail;
	for (size_t i = 0; i < r->n_names; i++)
		if (!util_json_push(names, json_object_new_string(r->names[i])))
			goto fail;
	if (!util_json_add(o, "action", json_object_new_string(
			     seccomp_profile_action_name(r->action))))
		goto fail;
	if (r->has_errno &&
	    !util_json_add(o, "errnoRet", json_object_new_int64(r->errno_ret)))
		goto fail;
	if (r->n_args) {
		args = json_object_new_array();
		if (!util_json_add(o, "args", args))
			goto fail;
		for (size_t i = 0; i < r->n_args; i++)
			if (!util_json_push(args, scp_arg_json(&r->args[i])))
				goto fail;
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

struct json_object *seccomp_profile_to_json(const struct seccomp_profile *p)
{
	struct json_object *o = json_object_new_object(), *rules;

	if (!o || !util_json_add(o, "defaultAction", json_object_new_string(
				   seccomp_profile_action_name(p->default_action))))
		goto fail;
	if (p->has_default_errno &&
	    !util_json_add(o, "defaultErrnoRet", json_object_new_int64(p->default_errno)))
		goto fail;
	if (p->arches && !util_json_add(o, "architectures", scp_set_json(scp_arches, p->arches)))
		goto fail;
	if (p->flags && !util_json_add(o, "flags", scp_set_json(scp_flags, p->flags)))
		goto fail;
	if (p->n_rules) {
		rules = json_object_new_array();
		if (!util_json_add(o, "syscalls", rules))
			goto fail;
		for (size_t i = 0; i < p->n_rules; i++)
			if (!util_json_push(rules, scp_rule_json(&p->rules[i])))
				goto fail;
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

void seccomp_profile_free(struct seccomp_profile *p)
{
	if (!p)
		return;
	if (p->owned) {
		for (size_t i = 0; i < p->n_rules; i++) {
			const struct scp_rule *r = &p->rules[i];

			for (size_t j = 0; r->names && j < r->n_names; j++)
				free((char *)r->names[j]);
			free((char **)r->names);
		}
		free(p->rules);
	}
	free(p);
}

/* Kubernetes' $(VAR) expansion (k8s.io/kubernetes/third_party/forked/
 * golang/expansion), byte for byte:
 *
 *   $(NAME)  the value of NAME when defined, else "$(NAME)" unchanged
 *   $$       a single "$"
 *   $x       unchanged (an operator that starts no expression)
 *   "$(" without a closing ")" and a trailing "$" stay as they are. */
#include "host/runtime_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct exp_buf {
	char *p;
	size_t len, cap, max;
};

static int exp_put(struct exp_buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (n > b->max - b->len)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int runtime_expand(const char *in, runtime_lookup_fn lookup, void *arg,
		   size_t max, char **out)
{
	struct exp_buf b = { .max = max };
	const char *cur = in, *close, *val;
	int ret;

	*out = NULL;
	ret = exp_put(&b, "", 0);
	while (ret == 0 && *cur) {
		const char *dollar = strchr(cur, '$');

		if (!dollar || dollar[1] == '\0') {
			ret = exp_put(&b, cur, strlen(cur));
			break;
		}
		ret = exp_put(&b, cur, (size_t)(dollar - cur));
		if (ret < 0)
			break;
		if (dollar[1] == '$') {
			ret = exp_put(&b, "$", 1);
			cur = dollar + 2;
		} else if (dollar[1] == '(' &&
			   (close = strchr(dollar + 2, ')')) != NULL) {
			size_t nlen = (size_t)(close - dollar - 2);

			val = lookup(arg, dollar + 2, nlen);
			if (val)
				ret = exp_put(&b, val, strlen(val));
			else
				ret = exp_put(&b, dollar, nlen + 3);
			cur = close + 1;
		} else {
			/* "$x" or an unclosed "$(": keep "$" and the byte */
			ret = exp_put(&b, dollar, 2);
			cur = dollar + 2;
		}
	}
	if (ret < 0) {
		free(b.p);
		return ret;
	}
	*out = b.p;
	return 0;
}

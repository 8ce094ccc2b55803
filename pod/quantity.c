/* Kubernetes resource.Quantity parsing and formatting, exact and
 * overflow-checked:
 *
 *   quantity ::= sign? number suffix
 *   number   ::= digits | digits "." digits? | "." digits
 *   suffix   ::= "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei
 *              | (e|E) sign? digits
 *
 * Like Kubernetes, the value is rounded up to the unit asked for (a
 * millicore, a byte). The arithmetic is done on the decimal digits so that
 * "0.1" or "1.5Gi" never go through a binary float. */
#include "pod/pod.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pod/pod_priv.h"

#define QTY_MAX_LEN    64     /* longer texts are refused */
#define QTY_MAX_DIGITS (QTY_MAX_LEN + 20)  /* digits times 2^60 */
#define QTY_EXP_CLAMP  10000  /* |exponent| beyond this is the same */

struct qty_num {
	char dig[QTY_MAX_DIGITS];  /* significant digits, most significant first */
	size_t n;
	int exp10;                 /* value = dig * 10^exp10 * 2^exp2 */
	int exp2;
	bool neg;
};

/* Suffix after the number: SI, binary SI or a decimal exponent. */
static int qty_suffix(const char *s, struct qty_num *q)
{
	static const struct { const char *sfx; int e10, e2; } tab[] = {
		{ "", 0, 0 }, { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 },
		{ "k", 3, 0 }, { "M", 6, 0 }, { "G", 9, 0 }, { "T", 12, 0 },
		{ "P", 15, 0 }, { "E", 18, 0 },
		{ "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 },
		{ "Ti", 0, 40 }, { "Pi", 0, 50 }, { "Ei", 0, 60 },
	};
	long e = 0;
	bool eneg = false;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(s, tab[i].sfx) == 0) {
			q->exp10 += tab[i].e10;
			q->exp2 = tab[i].e2;
			return 0;
		}
	}
	if (*s != 'e' && *s != 'E')
		return -EINVAL;
	s++;
	if (*s == '+' || *s == '-')
		eneg = *s++ == '-';
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (e < QTY_EXP_CLAMP)
			e = e * 10 + (*s - '0');
	}
	q->exp10 += (int)(eneg ? -e : e);
	return 0;
}

static int qty_lex(const char *s, struct qty_num *q)
{
	bool seen_dot = false, any = false;

	memset(q, 0, sizeof(*q));
	if (!s || strlen(s) > QTY_MAX_LEN)
		return -EINVAL;
	if (*s == '+' || *s == '-')
		q->neg = *s++ == '-';
	for (;; s++) {
		if (*s == '.' && !seen_dot) {
			seen_dot = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		any = true;
		if (q->n == 0 && *s == '0') {
			/* leading zero: only its place after the dot counts */
			if (seen_dot)
				q->exp10--;
			continue;
		}
		q->dig[q->n++] = *s;
		if (seen_dot)
			q->exp10--;
	}
	if (!any)
		return -EINVAL;
	return qty_suffix(s, q);
}

/* dig *= 2, in place (decimal big number). */
static void qty_double(struct qty_num *q)
{
	int carry = 0;

	for (size_t i = q->n; i-- > 0;) {
		int v = (q->dig[i] - '0') * 2 + carry;

		q->dig[i] = (char)('0' + v % 10);
		carry = v / 10;
	}
	if (carry) {
		memmove(q->dig + 1, q->dig, q->n);
		q->dig[0] = (char)('0' + carry);
		q->n++;
	}
}

/* Parse s and scale by 10^unit10 (3: millis), rounding up. *exact tells
 * whether no rounding happened. -EINVAL: syntax; -ERANGE: negative or too
 * large for int64. */
int pod_quantity_parse(const char *s, int unit10, int64_t *out, bool *exact)
{
	struct qty_num q;
	uint64_t v = 0;
	bool rest = false;
	size_t int_len;
	long shift;
	int ret;

	*out = 0;
	if (exact)
		*exact = true;
	ret = qty_lex(s, &q);
	if (ret < 0)
		return ret;
	if (q.n == 0)
		return 0;               /* zero, "-0" included */
	if (q.neg)
		return -ERANGE;
	for (int i = 0; i < q.exp2; i++)
		qty_double(&q);         /* n grows by at most 19 digits */
	shift = (long)q.exp10 + unit10;
	if (shift >= 0) {
		if ((long)q.n + shift > 19)
			return -ERANGE;
		int_len = q.n;
	} else if ((long)q.n + shift <= 0) {
		int_len = 0;
		rest = true;            /* a non-zero value below one unit */
	} else {
		int_len = q.n - (size_t)(-shift);
		for (size_t i = int_len; i < q.n; i++)
			if (q.dig[i] != '0')
				rest = true;
		shift = 0;
	}
	if (int_len > 19)
		return -ERANGE;
	for (size_t i = 0; i < int_len; i++)
		v = v * 10 + (uint64_t)(q.dig[i] - '0');
	for (long i = 0; i < shift; i++)
		if (__builtin_mul_overflow(v, 10, &v))
			return -ERANGE;
	if (rest) {
		v++;
		if (exact)
			*exact = false;
	}
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

int pod_parse_cpu(const char *s, int64_t *millicores)
{
	return pod_quantity_parse(s, 3, millicores, NULL);
}

int pod_parse_memory(const char *s, int64_t *bytes)
{
	return pod_quantity_parse(s, 0, bytes, NULL);
}

void pod_format_cpu(char *buf, size_t n, int64_t m)
{
	if (m % 1000 == 0)
		snprintf(buf, n, "%" PRId64, m / 1000);
	else
		snprintf(buf, n, "%" PRId64 "m", m);
}

/* The largest suffix that keeps the value whole: binary first ("3Gi"),
 * then decimal ("1G"), else plain bytes. */
void pod_format_memory(char *buf, size_t n, int64_t b)
{
	static const char *const bin[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	static const char *const dec[] = { "k", "M", "G", "T", "P", "E" };
	int64_t p;
	int k;

	if (b == 0) {
		snprintf(buf, n, "0");
		return;
	}
	for (k = 6; k > 0; k--)
		if (b % ((int64_t)1 << (10 * k)) == 0)
			break;
	if (k > 0) {
		snprintf(buf, n, "%" PRId64 "%s", b >> (10 * k), bin[k - 1]);
		return;
	}
	for (k = 6; k > 0; k--) {
		p = 1;
		for (int i = 0; i < k; i++)
			p *= 1000;
		if (b % p == 0)
			break;
	}
	if (k > 0) {
		p = 1;
		for (int i = 0; i < k; i++)
			p *= 1000;
		snprintf(buf, n, "%" PRId64 "%s", b / p, dec[k - 1]);
		return;
	}
	snprintf(buf, n, "%" PRId64, b);
}

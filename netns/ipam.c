/* The per-VPC IPAM: leases, next-fit allocation, and its state file.
 *
 * STATE_DIR/NAME.ipam is a small text file rewritten whole on every change
 * (temp file, fsync, rename, fsync of the directory), so a crash leaves
 * either the old or the new version, never a mix:
 *
 *   podvm-vpc 1
 *   name blue
 *   cidr 10.0.0.0/24
 *   dns 10.0.0.1
 *   lease 6f1c...-uid 10.0.0.2
 */
#include "netns/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

#define IPAM_MAGIC "podvm-vpc 1"
#define IPAM_FILE_MAX (16u << 20)

struct ipam_lease {
	char uid[NETNS_UID_MAX + 1];
	uint32_t off;               /* address - network address */
};

struct netns_ipam {
	char path[4096];
	char tmp[4096];
	char dir[4096];
	struct netns_vpc_info info;
	uint32_t size;              /* 2^(32 - prefix) */
	uint8_t *used;              /* bitmap by offset */
	struct ipam_lease *leases;
	size_t n, cap;
	uint32_t cursor;            /* next-fit: last offset handed out */
	pthread_mutex_t lock;
};

/* ---- state --------------------------------------------------------------- */

static bool used_get(const struct netns_ipam *p, uint32_t off)
{
	return p->used[off / 8] & (1u << (off % 8));
}

static void used_set(struct netns_ipam *p, uint32_t off, bool on)
{
	if (on)
		p->used[off / 8] |= (uint8_t)(1u << (off % 8));
	else
		p->used[off / 8] &= (uint8_t)~(1u << (off % 8));
}

static void ipam_free(struct netns_ipam *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->used);
	free(p->leases);
	free(p);
}

static int ipam_new(const char *dir, const char *vpc, struct netns_ipam **out,
		    struct pv_err *err)
{
	struct netns_ipam *p;
	int ret;

	*out = NULL;
	ret = netns_valid_vpc_name(vpc, err);
	if (ret < 0)
		return ret;
	if (!dir || dir[0] != '/')
		return pv_err_set(err, EINVAL, "state dir \"%s\" is not an absolute path",
				  dir ? dir : "");
	p = calloc(1, sizeof(*p));
	if (!p)
		return pv_err_set(err, ENOMEM, "vpc %s: out of memory", vpc);
	pthread_mutex_init(&p->lock, NULL);
	if (util_fmt(p->dir, sizeof(p->dir), "%s", dir) < 0 ||
	    util_fmt(p->path, sizeof(p->path), "%s/%s.ipam", dir, vpc) < 0 ||
	    util_fmt(p->tmp, sizeof(p->tmp), "%s/%s.ipam.tmp", dir, vpc) < 0) {
		ipam_free(p);
		return pv_err_set(err, ENAMETOOLONG, "state dir path too long");
	}
	memcpy(p->info.name, vpc, strlen(vpc) + 1);
	*out = p;
	return 0;
}

/* Size the bitmap once the CIDR is known; network, gateway and broadcast
 * are marked used so that no scan can ever return them. */
static int ipam_set_cidr(struct netns_ipam *p, const struct netns_cidr *c,
			 struct pv_err *err)
{
	p->info.cidr = *c;
	p->size = netns_cidr_size(c);
	p->used = calloc(p->size / 8 + 1, 1);
	if (!p->used)
		return pv_err_set(err, ENOMEM, "vpc %s: out of memory", p->info.name);
	used_set(p, 0, true);
	used_set(p, 1, true);
	used_set(p, p->size - 1, true);
	p->cursor = 1;
	return 0;
}

static int lease_push(struct netns_ipam *p, const char *uid, uint32_t off,
		      struct pv_err *err)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct ipam_lease *nl = realloc(p->leases, ncap * sizeof(*nl));

		if (!nl)
			return pv_err_set(err, ENOMEM, "vpc %s: out of memory", p->info.name);
		p->leases = nl;
		p->cap = ncap;
	}
	memcpy(p->leases[p->n].uid, uid, strlen(uid) + 1);
	p->leases[p->n].off = off;
	p->n++;
	used_set(p, off, true);
	return 0;
}

static void lease_drop(struct netns_ipam *p, size_t i)
{
	used_set(p, p->leases[i].off, false);
	p->leases[i] = p->leases[p->n - 1];
	p->n--;
}

static ssize_t lease_find(const struct netns_ipam *p, const char *uid)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->leases[i].uid, uid))
			return (ssize_t)i;
	return -1;
}

/* Render the whole file. */
static int ipam_render(const struct netns_ipam *p, char **out, size_t *len,
		       struct pv_err *err)
{
	size_t cap = 256 + p->n * (NETNS_UID_MAX + 32);
	char *buf = malloc(cap), cidr[NETNS_CIDR_STRLEN], a[INET_ADDRSTRLEN];
	size_t n = 0;

	if (!buf)
		return pv_err_set(err, ENOMEM, "vpc %s: out of memory", p->info.name);
	netns_cidr_format(&p->info.cidr, cidr, sizeof(cidr));
	n += (size_t)snprintf(buf + n, cap - n, "%s\nname %s\ncidr %s\n", IPAM_MAGIC,
			      p->info.name, cidr);
	for (size_t i = 0; i < p->info.ndns; i++) {
		inet_ntop(AF_INET, &p->info.dns[i], a, sizeof(a));
		n += (size_t)snprintf(buf + n, cap - n, "dns %s\n", a);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct in_addr ad = netns_cidr_at(&p->info.cidr, p->leases[i].off);

		inet_ntop(AF_INET, &ad, a, sizeof(a));
		n += (size_t)snprintf(buf + n, cap - n, "lease %s %s\n", p->leases[i].uid, a);
	}
	/* cap covers the longest lines; a short buffer would be a bug */
	if (n >= cap) {
		free(buf);
		return pv_err_set(err, EOVERFLOW, "vpc %s: state too large", p->info.name);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Write the temp file; exclusive: link() it into place (fails when the
 * file exists), else rename() over the old version. */
static int ipam_save(struct netns_ipam *p, bool exclusive, struct pv_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, dfd = -1, ret;

	ret = NETNS_STEP("write state", err);
	if (ret < 0)
		return ret;
	ret = ipam_render(p, &buf, &len, err);
	if (ret < 0)
		return ret;
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "%s", p->tmp);
		goto out;
	}
	if (util_write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		ret = pv_err_sys(err, errno, "write %s", p->tmp);
		goto out;
	}
	if (exclusive) {
		if (link(p->tmp, p->path) < 0) {
			ret = errno == EEXIST
				? pv_err_set(err, EEXIST, "vpc %s: state file %s exists",
					     p->info.name, p->path)
				: pv_err_sys(err, errno, "link %s", p->path);
			goto out;
		}
		unlink(p->tmp);
	} else if (rename(p->tmp, p->path) < 0) {
		ret = pv_err_sys(err, errno, "rename %s", p->path);
		goto out;
	}
	/* the rename/link is durable only once the directory is synced */
	dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		ret = pv_err_sys(err, errno, "fsync %s", p->dir);
		goto out;
	}
out:
	if (ret < 0 && fd >= 0)
		unlink(p->tmp);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return ret;
}

int netns_ipam_create(const char *state_dir, const struct netns_vpc_info *info,
		      struct netns_ipam **out, struct pv_err *err)
{
	struct netns_ipam *p = NULL;
	int ret;

	*out = NULL;
	if (info->ndns > NETNS_DNS_MAX)
		return pv_err_set(err, EINVAL, "vpc %s: at most %d DNS servers", info->name,
				  NETNS_DNS_MAX);
	if (info->cidr.prefix < NETNS_PREFIX_MIN || info->cidr.prefix > NETNS_PREFIX_MAX ||
	    (ntohl(info->cidr.net.s_addr) & ~(~0u << (32 - info->cidr.prefix))))
		return pv_err_set(err, EINVAL, "vpc %s: bad cidr (parse it with netns_cidr_parse)",
				  info->name);
	ret = ipam_new(state_dir, info->name, &p, err);
	if (ret < 0)
		return ret;
	ret = util_mkdir_p(state_dir, 0700, err);
	if (ret < 0)
		goto out;
	ret = ipam_set_cidr(p, &info->cidr, err);
	if (ret < 0)
		goto out;
	memcpy(p->info.dns, info->dns, sizeof(p->info.dns));
	p->info.ndns = info->ndns;
	ret = ipam_save(p, true, err);
out:
	if (ret < 0)
		ipam_free(p);
	else
		*out = p;
	return ret;
}

/* One line of the state file; line is NUL-terminated, no newline. */
static int ipam_parse_line(struct netns_ipam *p, char *line, bool *have_cidr,
			   struct pv_err *err)
{
	char *key = line, *val = strchr(line, ' ');
	struct in_addr a;

	if (!val)
		return pv_err_set(err, EBADMSG, "no value");
	*val++ = '\0';
	if (!strcmp(key, "name")) {
		if (strcmp(val, p->info.name))
			return pv_err_set(err, EBADMSG, "names vpc \"%.32s\"", val);
	} else if (!strcmp(key, "cidr")) {
		struct netns_cidr c;

		if (*have_cidr)
			return pv_err_set(err, EBADMSG, "second cidr");
		if (netns_cidr_parse(val, &c, err) < 0)
			return -EBADMSG;
		if (ipam_set_cidr(p, &c, err) < 0)
			return -ENOMEM;
		*have_cidr = true;
	} else if (!strcmp(key, "dns")) {
		if (p->info.ndns == NETNS_DNS_MAX)
			return pv_err_set(err, EBADMSG, "more than %d dns lines", NETNS_DNS_MAX);
		if (netns_ipv4_parse(val, &a) < 0)
			return pv_err_set(err, EBADMSG, "bad dns address");
		p->info.dns[p->info.ndns++] = a;
	} else if (!strcmp(key, "lease")) {
		char *addr = strchr(val, ' ');
		uint32_t off;

		if (!*have_cidr)
			return pv_err_set(err, EBADMSG, "lease before cidr");
		if (!addr)
			return pv_err_set(err, EBADMSG, "lease without address");
		*addr++ = '\0';
		if (netns_valid_uid(val, NULL) < 0)
			return pv_err_set(err, EBADMSG, "bad pod uid");
		if (netns_ipv4_parse(addr, &a) < 0 || !netns_cidr_is_pod_addr(&p->info.cidr, a))
			return pv_err_set(err, EBADMSG, "\"%.20s\" is not a pod address", addr);
		off = netns_cidr_offset(&p->info.cidr, a);
		if (used_get(p, off) || lease_find(p, val) >= 0)
			return pv_err_set(err, EBADMSG, "duplicate lease");
		return lease_push(p, val, off, err) < 0 ? -ENOMEM : 0;
	} else {
		return pv_err_set(err, EBADMSG, "unknown keyword \"%.16s\"", key);
	}
	return 0;
}

int netns_ipam_open(const char *state_dir, const char *vpc, struct netns_ipam **out,
		    struct pv_err *err)
{
	struct netns_ipam *p = NULL;
	char *buf = NULL, *line, *next;
	size_t len;
	bool have_cidr = false;
	int ret, lineno = 0;

	*out = NULL;
	ret = ipam_new(state_dir, vpc, &p, err);
	if (ret < 0)
		return ret;
	ret = util_read_file(p->path, IPAM_FILE_MAX, &buf, &len, err);
	if (ret < 0)
		goto out;
	if (strlen(buf) != len) {
		ret = pv_err_set(err, EBADMSG, "%s: corrupt state file (NUL byte)", p->path);
		goto out;
	}
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			/* every write ends with '\n'; a cut line means damage */
			ret = pv_err_set(err, EBADMSG, "%s:%d: corrupt state file (truncated)",
					 p->path, lineno + 1);
			goto out;
		}
		*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, IPAM_MAGIC)) {
				ret = pv_err_set(err, EBADMSG, "%s: not a podvm VPC state file",
						 p->path);
				goto out;
			}
			continue;
		}
		ret = ipam_parse_line(p, line, &have_cidr, err);
		if (ret < 0) {
			pv_err_prefix(err, "%s:%d: corrupt state file", p->path, lineno);
			goto out;
		}
	}
	if (lineno == 0 || !have_cidr) {
		ret = pv_err_set(err, EBADMSG, "%s: corrupt state file (no cidr)", p->path);
		goto out;
	}
	unlink(p->tmp);   /* a leftover from a crash mid-write */
out:
	free(buf);
	if (ret < 0)
		ipam_free(p);
	else
		*out = p;
	return ret;
}

void netns_ipam_close(struct netns_ipam *ipam)
{
	ipam_free(ipam);
}

int netns_ipam_remove(struct netns_ipam *ipam, struct pv_err *err)
{
	int ret = 0;

	if (!ipam)
		return 0;
	if (unlink(ipam->path) < 0 && errno != ENOENT)
		ret = pv_err_sys(err, errno, "unlink %s", ipam->path);
	unlink(ipam->tmp);
	ipam_free(ipam);
	return ret;
}

const struct netns_vpc_info *netns_ipam_info(const struct netns_ipam *ipam)
{
	return &ipam->info;
}

static int ipam_take(struct netns_ipam *p, const char *uid, uint32_t off,
		     struct pv_err *err)
{
	int ret = lease_push(p, uid, off, err);

	if (ret < 0)
		return ret;
	ret = ipam_save(p, false, err);
	if (ret < 0) {
		lease_drop(p, p->n - 1);   /* memory matches disk again */
		return ret;
	}
	p->cursor = off;
	return 0;
}

int netns_ipam_alloc(struct netns_ipam *p, const char *uid, struct in_addr *out,
		     struct pv_err *err)
{
	uint32_t off = 0;
	ssize_t i;
	int ret = netns_valid_uid(uid, err);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&p->lock);
	i = lease_find(p, uid);
	if (i >= 0) {
		*out = netns_cidr_at(&p->info.cidr, p->leases[i].off);
		goto out;
	}
	/* next-fit from the cursor; the reserved offsets are marked used */
	for (uint32_t k = 1; k <= p->size; k++) {
		uint32_t o = (p->cursor + k) % p->size;

		if (!used_get(p, o)) {
			off = o;
			break;
		}
	}
	if (!off) {
		char c[NETNS_CIDR_STRLEN];

		netns_cidr_format(&p->info.cidr, c, sizeof(c));
		ret = pv_err_set(err, ENOSPC, "vpc %s: no free address in %s", p->info.name, c);
		goto out;
	}
	ret = ipam_take(p, uid, off, err);
	if (ret == 0)
		*out = netns_cidr_at(&p->info.cidr, off);
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int netns_ipam_alloc_addr(struct netns_ipam *p, const char *uid, struct in_addr want,
			  struct pv_err *err)
{
	char a[INET_ADDRSTRLEN];
	uint32_t off;
	ssize_t i;
	int ret = netns_valid_uid(uid, err);

	if (ret < 0)
		return ret;
	inet_ntop(AF_INET, &want, a, sizeof(a));
	if (!netns_cidr_is_pod_addr(&p->info.cidr, want)) {
		char c[NETNS_CIDR_STRLEN];

		netns_cidr_format(&p->info.cidr, c, sizeof(c));
		return pv_err_set(err, EINVAL, "vpc %s: %s is not a pod address of %s",
				  p->info.name, a, c);
	}
	off = netns_cidr_offset(&p->info.cidr, want);
	pthread_mutex_lock(&p->lock);
	i = lease_find(p, uid);
	if (i >= 0) {
		if (p->leases[i].off != off)
			ret = pv_err_set(err, EEXIST, "vpc %s: pod %s already has another address",
					 p->info.name, uid);
		goto out;
	}
	if (used_get(p, off)) {
		ret = pv_err_set(err, EADDRINUSE, "vpc %s: %s is in use", p->info.name, a);
		goto out;
	}
	ret = ipam_take(p, uid, off, err);
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int netns_ipam_release(struct netns_ipam *p, const char *uid, struct pv_err *err)
{
	struct ipam_lease saved;
	ssize_t i;
	int ret = netns_valid_uid(uid, err);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&p->lock);
	i = lease_find(p, uid);
	if (i < 0)
		goto out;
	saved = p->leases[i];
	lease_drop(p, (size_t)i);
	ret = ipam_save(p, false, err);
	if (ret < 0)   /* keep memory equal to disk: the lease stays */
		lease_push(p, saved.uid, saved.off, NULL);
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int netns_ipam_lookup(struct netns_ipam *p, const char *uid, struct in_addr *out)
{
	ssize_t i;

	pthread_mutex_lock(&p->lock);
	i = lease_find(p, uid);
	if (i >= 0)
		*out = netns_cidr_at(&p->info.cidr, p->leases[i].off);
	pthread_mutex_unlock(&p->lock);
	return i >= 0 ? 0 : -ENOENT;
}

size_t netns_ipam_count(const struct netns_ipam *p)
{
	return p->n;
}

const char *netns_ipam_lease(const struct netns_ipam *p, size_t i, struct in_addr *addr)
{
	if (i >= p->n)
		return NULL;
	if (addr)
		*addr = netns_cidr_at(&p->info.cidr, p->leases[i].off);
	return p->leases[i].uid;
}

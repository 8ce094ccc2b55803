/* Localhost seccomp profiles: the host reads and validates the file
 * beneath the profile root; the profile travels to the guest in the
 * runtime. */
#include "host/seccomp_local.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pod/pod.h"
#include "pod/runtime.h"

/* Read ROOT/rel without leaving ROOT (symlinks inside it are fine). */
static int seccomp_local_read(const char *root, const char *rel, char **buf,
			      size_t *len, struct pv_err *err)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int dfd, fd = -1, rc;
	ssize_t n;

	*buf = NULL;
	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pv_err_sys(err, errno, "profile root");
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	rc = fd < 0 ? -errno : 0;
	close(dfd);
	if (rc < 0)
		return pv_err_sys(err, -rc, "open");
	if (fstat(fd, &st) < 0) {
		rc = pv_err_sys(err, errno, "stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = pv_err_set(err, EINVAL, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)SCP_FILE_MAX) {
		rc = pv_err_set(err, E2BIG, "larger than %u bytes", SCP_FILE_MAX);
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		rc = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	*len = 0;
	/* one byte more than allowed: a file that grew is refused too */
	while (*len <= SCP_FILE_MAX && *len < (size_t)st.st_size + 1) {
		n = read(fd, *buf + *len, (size_t)st.st_size + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pv_err_sys(err, errno, "read");
			goto out;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	rc = 0;
out:
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return rc;
}

static int seccomp_local_one(const char *root, const char *rel,
			     struct seccomp_profile **out, struct pv_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = seccomp_local_read(root, rel, &buf, &len, err);
	if (rc == 0)
		rc = seccomp_profile_parse(buf, len, out, err);
	free(buf);
	if (rc < 0)
		pv_err_prefix(err, "%s/%s", root, rel);
	return rc;
}

int seccomp_local_load(const struct pod *pod, const char *root,
		       struct pod_runtime *rt, struct pv_err *err)
{
	size_t n_init = pod->n_init_containers;

	for (size_t i = 0; i < pod_n_all_containers(pod); i++) {
		const struct pod_container *c = pod_container_at(pod, i);
		const struct pod_security *s = &pod->security;
		struct seccomp_profile *p = NULL;
		char field[128];
		int rc;

		/* the container's seccompProfile wins over the pod's */
		if (c->has_security && c->security.seccomp != POD_SECCOMP_DEFAULT) {
			s = &c->security;
			snprintf(field, sizeof(field), "spec.%s[%zu].securityContext",
				 i < n_init ? "initContainers" : "containers",
				 i < n_init ? i : i - n_init);
		} else {
			snprintf(field, sizeof(field), "spec.securityContext");
		}
		if (s->seccomp != POD_SECCOMP_LOCALHOST || !s->localhost_profile)
			continue;
		if (!root || !*root)
			rc = pv_err_set(err, EINVAL, "no seccomp profile root");
		else
			rc = seccomp_local_one(root, s->localhost_profile, &p, err);
		if (rc < 0) {
			pv_err_prefix(err, "%s.seccompProfile.localhostProfile: "
				      "Invalid value: \"%.128s\"", field,
				      s->localhost_profile);
			return rc;
		}
		if (!rt) {
			seccomp_profile_free(p);
			continue;
		}
		if (i < n_init && i < rt->n_init_containers)
			rt->init_containers[i].seccomp = p;
		else if (i >= n_init && i - n_init < rt->n_containers)
			rt->containers[i - n_init].seccomp = p;
		else
			seccomp_profile_free(p);
	}
	return 0;
}

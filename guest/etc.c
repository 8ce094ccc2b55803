/* /etc/hosts, /etc/hostname and /etc/resolv.conf of every container:
 * written once under GUEST_ETC_DIR and bind-mounted over the image's
 * files (as the kubelet does), so all containers of the pod agree. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int guest_etc_hosts_text(const char *hostname, const char *pod_ip, char *buf,
			 size_t len)
{
	int n;

	n = snprintf(buf, len, "# Kubernetes-managed hosts file (podvm).\n"
		     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (pod_ip && *pod_ip && hostname && *hostname) {
		int k = snprintf(buf + n, len - (size_t)n, "%s\t%s\n", pod_ip, hostname);

		if (k < 0 || (size_t)k >= len - (size_t)n)
			return -ENAMETOOLONG;
		n += k;
	}
	return n;
}

static int guest_etc_file(const char *name, const char *text, struct pv_err *err)
{
	char path[256];
	size_t len = strlen(text), off = 0;
	int fd, n, rc = 0;

	n = snprintf(path, sizeof(path), GUEST_ETC_DIR "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_err_set(err, ENAMETOOLONG, "path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pv_err_sys(err, errno, "create %s", path);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pv_err_sys(err, errno, "write %s", path);
			break;
		}
		off += (size_t)w;
	}
	close(fd);
	return rc;
}

int guest_etc_write(const char *hostname, const char *pod_ip,
		    const char *resolv_conf, struct pv_err *err)
{
	char buf[1024];
	int rc;

	rc = guest_mkdir_p(GUEST_ETC_DIR, 0755);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", GUEST_ETC_DIR);
	rc = guest_etc_hosts_text(hostname, pod_ip, buf, sizeof(buf));
	if (rc < 0)
		return pv_err_set(err, -rc, "hosts file too long");
	rc = guest_etc_file("hosts", buf, err);
	if (rc < 0)
		return rc;
	snprintf(buf, sizeof(buf), "%s\n", hostname && *hostname ? hostname : "podvm");
	rc = guest_etc_file("hostname", buf, err);
	if (rc < 0)
		return rc;
	return guest_etc_file("resolv.conf",
			      resolv_conf && *resolv_conf ? resolv_conf
							  : "# no DNS configured\n", err);
}

int guest_etc_mount(const char *rootfs, struct pv_err *err)
{
	static const char *const files[] = { "hosts", "hostname", "resolv.conf" };
	int root = -1, src = -1, dst = -1, rc = 0;
	size_t i;

	root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return pv_err_sys(err, errno, "open %s", rootfs);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char src_path[256], dst_path[64];

		snprintf(src_path, sizeof(src_path), GUEST_ETC_DIR "/%s", files[i]);
		snprintf(dst_path, sizeof(dst_path), "etc/%s", files[i]);
		src = open(src_path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (src < 0) {
			rc = pv_err_sys(err, errno, "open %s", src_path);
			goto out;
		}
		dst = guest_path_in_root(root, dst_path, true, true, 0644, err);
		if (dst < 0) {
			rc = dst;
			goto out;
		}
		rc = guest_bind_fds(src, dst, false, err);
		if (rc < 0)
			goto out;
		close(src);
		close(dst);
		src = dst = -1;
	}
out:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	close(root);
	return rc;
}

/* The agent port: a virtio-serial port named "podvm.agent". Without udev
 * its name is only in /sys/class/virtio-ports/vportNpM/name; devtmpfs
 * creates /dev/vportNpM. The virtio-mmio probe is asynchronous, so the
 * port appears some time after the modules are loaded. */
#include "guest/guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GUEST_VPORTS "/sys/class/virtio-ports"

static void guest_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read a small sysfs attribute, strip the trailing newline. */
static int guest_read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int guest_port_scan(const char *name, char *dev, size_t devlen)
{
	DIR *d = opendir(GUEST_VPORTS);
	struct dirent *de;
	int rc = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		char path[512], val[128];
		struct stat st;
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), GUEST_VPORTS "/%s/name", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (guest_read_attr(path, val, sizeof(val)) < 0 || strcmp(val, name) != 0)
			continue;
		n = snprintf(dev, devlen, "/dev/%s", de->d_name);
		if (n < 0 || (size_t)n >= devlen) {
			rc = -ENAMETOOLONG;
			break;
		}
		/* devtmpfs may lag the sysfs entry by a moment. */
		rc = stat(dev, &st) == 0 && S_ISCHR(st.st_mode) ? 0 : -EAGAIN;
		break;
	}
	closedir(d);
	return rc;
}

int guest_port_find(const char *name, char *dev, size_t devlen,
		    int timeout_ms, struct pv_err *err)
{
	int64_t deadline = guest_now_ms() + timeout_ms;
	int rc;

	for (;;) {
		rc = guest_port_scan(name, dev, devlen);
		if (rc == 0 || rc == -ENAMETOOLONG)
			break;
		if (guest_now_ms() >= deadline)
			return pv_err_set(err, ENODEV,
					  "no virtio-serial port named \"%s\" after %d ms",
					  name, timeout_ms);
		guest_sleep_ms(5);
	}
	if (rc < 0)
		return pv_err_set(err, -rc, "port device path too long");
	return 0;
}

int guest_port_open(const char *dev, int *fd, struct pv_err *err)
{
	*fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0)
		return pv_err_sys(err, errno, "open %s", dev);
	return 0;
}

bool guest_port_host_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return false;
	return !(p.revents & POLLHUP);
}

/* virtio-serial reports POLLHUP while nobody holds the host end; poll()
 * does not wake on connect, so look again every 5 ms. */
int guest_port_wait_host(int fd, int timeout_ms, struct pv_err *err)
{
	int64_t deadline = guest_now_ms() + timeout_ms;

	while (!guest_port_host_connected(fd)) {
		if (guest_now_ms() >= deadline)
			return pv_err_set(err, ETIMEDOUT,
					  "host did not connect to the agent port within %d ms",
					  timeout_ms);
		guest_sleep_ms(5);
	}
	return 0;
}

int guest_port_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;
	int64_t deadline = guest_now_ms() + timeout_ms;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int64_t left = deadline - guest_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return -errno;
			if (!(pfd.revents & POLLOUT) && (pfd.revents & POLLHUP))
				return -EPIPE;
		}
	}
	return 0;
}

/* Tap devices through /dev/net/tun. */
#include "netns/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tap_ifreq(const char *name, short flags, struct ifreq *ifr, struct pv_err *err)
{
	size_t n = strlen(name);

	if (n >= sizeof(ifr->ifr_name))
		return pv_err_set(err, ENAMETOOLONG, "tap name \"%s\" too long", name);
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, n + 1);
	ifr->ifr_flags = flags;
	return 0;
}

int netns_tap_create_persistent(const char *name, struct pv_err *err)
{
	struct ifreq ifr;
	int fd = -1, ret;

	ret = netns_valid_ifname(name, err);
	if (ret < 0)
		return ret;
	ret = NETNS_STEP("create tap", err);
	if (ret < 0)
		return ret;
	/* IFF_TUN_EXCL: fail instead of attaching to an existing device
	 * (another pod's tap, or a leftover). */
	ret = tap_ifreq(name, (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL), &ifr, err);
	if (ret < 0)
		return ret;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "open /dev/net/tun");
		goto out;
	}
	/* Privileged (CAP_NET_ADMIN): create the device. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = errno == EBUSY
			? pv_err_set(err, EBUSY, "tap %s exists already", name)
			: pv_err_sys(err, errno, "create tap %s", name);
		goto out;
	}
	/* Owner root: only root (libvirt, which opens unmanaged taps for
	 * QEMU) may attach to it. */
	if (ioctl(fd, TUNSETOWNER, 0) < 0) {
		ret = pv_err_sys(err, errno, "tap %s: set owner", name);
		goto out;
	}
	/* Persistent: the device outlives this fd, so QEMU can open it by
	 * name; until this succeeds, close() below deletes it again. */
	if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		ret = pv_err_sys(err, errno, "tap %s: make persistent", name);
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int netns_tap_open(const char *name, int vnet_hdr, int *out, struct pv_err *err)
{
	struct ifreq ifr;
	int fd = -1, ret;

	*out = -1;
	ret = tap_ifreq(name, (short)(IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0)),
			&ifr, err);
	if (ret < 0)
		return ret;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "open /dev/net/tun");
	/* Privileged (CAP_NET_ADMIN or the tap's owner): attach to, or create
	 * (non-persistent), the device. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = pv_err_sys(err, errno, "open tap %s", name);
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

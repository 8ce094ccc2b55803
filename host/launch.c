#include "host/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


#include "pod/agent.h"
#include "host/seccomp_local.h"

/* Kernel command line: quiet keeps the emulated UART (slow under TCG) out
 * of the boot path; panic=-1 + reboot=k turn a guest crash into a reboot,
 * which the VMM turns into the VM's end. */
#define LAUNCH_CMDLINE "console=ttyS0 reboot=k panic=-1 quiet rdinit=/init"

void launch_init(struct launch *l, const struct launch_opts *opts,
		 struct pod *pod)
{
	memset(l, 0, sizeof(*l));
	l->opts = *opts;
	l->pod = pod;
	l->agent_fd = -1;
	for (size_t i = 0; i < VMM_MAX_DISKS; i++)
		l->image_hold[i] = -1;
	l->t[LAUNCH_T_BEGIN] = util_mono_ms();
}

/* A file in the run dir that says the guest's agent answered once. A
 * restarted daemon that finds the VM gone uses it to tell a pod whose
 * guest never ran (boot it anew) from one that was lost while running. */
#define LAUNCH_READY_MARK "agent-ready"

void launch_mark(struct launch *l, enum launch_stage st)
{
	char path[LAUNCH_PATH_MAX];
	int fd;

	if (st >= LAUNCH_T_COUNT || l->t[st])
		return;
	l->t[st] = util_mono_ms();
	if (st != LAUNCH_T_AGENT || !l->dir_created ||
	    util_fmt(path, sizeof(path), "%s/" LAUNCH_READY_MARK, l->dir) < 0)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
}

static bool launch_ever_ready(const struct launch *l)
{
	char path[LAUNCH_PATH_MAX];

	return util_fmt(path, sizeof(path), "%s/" LAUNCH_READY_MARK, l->dir) == 0 &&
	       access(path, F_OK) == 0;
}

/* Paths and names follow from the uid, so a restarted daemon finds them. */
static int set_identity(struct launch *l, const char *uid, struct pv_err *err)
{
	size_t n = strlen(uid);

	if (n != UUID_STR_LEN - 1 || strspn(uid, "0123456789abcdef-") != n)
		return pv_err_set(err, EINVAL, "invalid pod uid \"%s\"", uid);
	memcpy(l->uid, uid, n + 1);
	if (util_fmt(l->vm_name, sizeof(l->vm_name), "podvm-%s", l->uid) < 0 ||
	    util_fmt(l->dir, sizeof(l->dir), "%s/%.*s", l->opts.run_dir,
		     LAUNCH_SHORT_ID, l->uid) < 0 ||
	    util_fmt(l->agent_sock, sizeof(l->agent_sock), "%s/agent.sock", l->dir) < 0 ||
	    util_fmt(l->console_log, sizeof(l->console_log), "%s/console.log", l->dir) < 0 ||
	    strlen(l->agent_sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return pv_err_set(err, ENAMETOOLONG, "run dir path too long: %s",
				  l->opts.run_dir);
	return 0;
}

/* Each container's image resolved and converted: one erofs disk per
 * distinct image, shared by its containers; cfgs[i] and serials[i] for
 * runtime_build. */
static int launch_images(struct launch *l, struct image **imgs,
			 const struct image_config **cfgs, const char **serials,
			 struct pv_err *err)
{
	const struct pod *pod = l->pod;
	size_t disk_of[POD_MAX_CONTAINERS] = { 0 };
	size_t n_all = pod_n_all_containers(pod);
	int ret;

	/* Agent index order: [initContainers..., containers...]. */
	for (size_t i = 0; i < n_all; i++) {
		const struct pod_container *c = pod_container_at(pod, i);
		const char *list = i < pod->n_init_containers ? "initContainers" : "containers";
		size_t pos = i < pod->n_init_containers ? i : i - pod->n_init_containers;
		size_t d;

		ret = image_store_resolve(l->store, c->image, &imgs[i], err);
		if (ret < 0) {
			pv_err_prefix(err, "spec.%s[%zu].image", list, pos);
			return ret;
		}
		/* One disk per distinct image, shared by its containers. */
		for (d = 0; d < i; d++)
			if (!strcmp(imgs[d]->manifest_digest, imgs[i]->manifest_digest))
				break;
		if (d < i) {
			disk_of[i] = disk_of[d];
		} else {
			size_t n = l->n_disks;

			if (n >= VMM_MAX_DISKS)
				return pv_err_set(err, E2BIG, "too many distinct images");
			/* Held for the pod's life: prune and GC leave it. */
			ret = image_store_hold(l->store, imgs[i]->manifest_digest,
					       &l->image_hold[n], err);
			if (ret == 0)
				ret = image_store_erofs(l->store, imgs[i], l->disk_path[n],
							sizeof(l->disk_path[n]), err);
			if (ret < 0) {
				pv_err_prefix(err, "spec.%s[%zu].image", list, pos);
				return ret;
			}
			snprintf(l->disk_serial[n], sizeof(l->disk_serial[n]),
				 "podvm-img%zu", n);
			disk_of[i] = n;
			l->n_disks++;
		}
		cfgs[i] = &imgs[i]->config;
		serials[i] = l->disk_serial[disk_of[i]];
	}
	return 0;
}

int launch_prepare(struct launch *l, struct pv_err *err)
{
	const struct pod *pod = l->pod;
	const struct image_config *cfgs[POD_MAX_CONTAINERS] = { 0 };
	const char *serials[POD_MAX_CONTAINERS] = { 0 };
	struct image *imgs[POD_MAX_CONTAINERS] = { 0 };
	size_t n_all = pod_n_all_containers(pod);
	struct runtime_env_ctx ctx = { 0 };
	char fresh[UUID_STR_LEN];
	int ret;

	if (n_all > POD_MAX_CONTAINERS)
		return pv_err_set(err, E2BIG, "too many containers");

	/* The pod's identity: Kubernetes assigns metadata.uid on creation;
	 * the daemon has done so already, `podvm run` has not. */
	if (!pod->uid) {
		ret = util_uuid4(fresh, err);
		if (ret < 0)
			return ret;
		l->pod->uid = strdup(fresh);
		if (!l->pod->uid)
			return pv_err_set(err, ENOMEM, "out of memory");
	}
	ret = set_identity(l, pod->uid, err);
	if (ret < 0)
		return ret;

	ret = image_store_open(l->opts.state_dir, &l->store, err);
	if (ret < 0)
		goto out;

	ret = launch_images(l, imgs, cfgs, serials, err);
	if (ret < 0)
		goto out;

	/* The VM's size follows Fargate's rule; the same size is what
	 * resourceFieldRef limits default to. */
	ret = pod_fargate_size(pod, &l->size, err);
	if (ret < 0)
		goto out;
	ctx.pod_ip = l->opts.pod_ip ? l->opts.pod_ip
				    : l->opts.net ? l->opts.net->addr_text : NULL;
	ctx.net = l->opts.net;
	ctx.host_ip = l->opts.host_ip;
	ctx.node_name = l->opts.node_name;
	ret = runtime_build(pod, cfgs, serials, &ctx, &l->rt, err);
	if (ret < 0)
		goto out;
	l->rt_built = true;
	ret = seccomp_local_load(pod, l->opts.seccomp_root, &l->rt, err);
	if (ret < 0)
		goto out;
	launch_mark(l, LAUNCH_T_IMAGES);
out:
	for (size_t i = 0; i < POD_MAX_CONTAINERS; i++)
		image_free(imgs[i]);
	return ret;
}

/* Under TCG the kernel may hang calibrating the TSC on a busy host: hand it
 * the host's frequency. */
static unsigned long host_tsc_khz(void)
{
	char *buf = NULL, *p;
	unsigned long khz = 2000000;
	double mhz;

	if (util_read_file("/proc/cpuinfo", 4u << 20, &buf, NULL, NULL) < 0)
		return khz;
	p = strstr(buf, "cpu MHz");
	if (p && (p = strchr(p, ':')) && sscanf(p + 1, "%lf", &mhz) == 1 &&
	    mhz > 100 && mhz < 100000)
		khz = (unsigned long)(mhz * 1000);
	free(buf);
	return khz;
}

static int check_readable(const char *what, const char *path,
			  struct pv_err *err)
{
	if (access(path, R_OK) < 0)
		return pv_err_sys(err, errno,
				  "missing %s %s (build it with `make guest-image` "
				  "or set PODVM_GUEST_DIR)", what, path);
	return 0;
}

/* The machine description of the pod's VM. */
static void launch_machine(struct launch *l, const char *cmdline,
			   struct vmm_machine *m)
{
	m->name = l->vm_name;
	m->uuid = l->uid;
	m->vcpus = l->size.vcpus ? l->size.vcpus : 1;
	m->memory_mib = l->size.mem_mib ? (uint64_t)l->size.mem_mib
					: LAUNCH_DEFAULT_MEMORY_MIB;
	m->kernel = l->kernel;
	m->initramfs = l->initramfs;
	m->cmdline = cmdline;
	for (size_t i = 0; i < l->n_disks; i++) {
		m->disks[i].path = l->disk_path[i];
		m->disks[i].serial = l->disk_serial[i];
		m->disks[i].readonly = true;
	}
	m->n_disks = l->n_disks;
	if (l->opts.tap && l->opts.net) {
		/* QEMU opens the tap by name in our namespace (managed='no') */
		m->nics[0].tap = l->opts.tap;
		memcpy(m->nics[0].mac, l->opts.net->mac, sizeof(m->nics[0].mac));
		m->n_nics = 1;
	}
	m->agent_socket = l->agent_sock;
	m->agent_port = AGENT_PORT_NAME;
	m->console_log = l->console_log;
}

int launch_boot(struct launch *l, struct pv_err *err)
{
	const struct vmm_ops *ops = vmm_backend(NULL);
	struct vmm_config cfg = { 0 };
	struct vmm_machine m = { 0 };
	char cmdline[512], lvroot[LAUNCH_PATH_MAX], cache_dir[LAUNCH_PATH_MAX];
	int ret;

	if (util_fmt(l->kernel, sizeof(l->kernel), "%s/vmlinuz", l->opts.guest_dir) < 0 ||
	    util_fmt(l->initramfs, sizeof(l->initramfs), "%s/initramfs.img",
		     l->opts.guest_dir) < 0)
		return pv_err_set(err, ENAMETOOLONG, "guest dir path too long");
	ret = check_readable("kernel", l->kernel, err);
	if (ret < 0)
		return ret;
	ret = check_readable("initramfs", l->initramfs, err);
	if (ret < 0)
		return ret;

	/* Short paths: unix socket paths are limited to 108 bytes, and
	 * libvirt puts its monitor socket below the embed root. */
	if (util_fmt(lvroot, sizeof(lvroot), "%s/lv", l->dir) < 0 ||
	    util_fmt(cache_dir, sizeof(cache_dir), "%s/cache", l->opts.state_dir) < 0)
		return pv_err_set(err, ENAMETOOLONG, "run dir path too long: %s",
				  l->opts.run_dir);

	ret = util_mkdir_p(l->opts.run_dir, 0755, err);
	if (ret < 0)
		return ret;
	/* World-searchable so that the unprivileged QEMU user can reach the
	 * socket and log it is given; nothing in it is secret. */
	if (mkdir(l->dir, 0755) < 0)
		return pv_err_sys(err, errno, "mkdir %s", l->dir);
	l->dir_created = true;

	if (l->opts.vmm) {
		l->vmm = l->opts.vmm;
	} else {
		cfg = (struct vmm_config){
			.uri = l->opts.libvirt_uri, .state_dir = lvroot,
			.cache_dir = cache_dir, .accel = VMM_ACCEL_AUTO,
			.quiet = l->opts.quiet,
		};
		ret = ops->open(&cfg, &l->vmm, err);
		if (ret < 0)
			return ret;
		l->vmm_owned = true;
	}

	if (ops->accel(l->vmm) == VMM_ACCEL_TCG)
		ret = util_fmt(cmdline, sizeof(cmdline), "%s tsc_early_khz=%lu",
			       LAUNCH_CMDLINE, host_tsc_khz());
	else
		ret = util_fmt(cmdline, sizeof(cmdline), "%s", LAUNCH_CMDLINE);
	if (ret < 0)
		return pv_err_set(err, ENAMETOOLONG, "kernel command line too long");

	launch_machine(l, cmdline, &m);
	ret = vmm_boot(l->vmm, &m, &l->vm, err);
	if (ret < 0)
		return ret;
	launch_mark(l, LAUNCH_T_VM);
	return 0;
}

int launch_attach(struct launch *l, const char *uid, struct pv_err *err)
{
	enum vmm_state st;
	int ret;

	if (!l->opts.vmm)
		return pv_err_set(err, EINVAL, "attach needs a shared VMM connection");
	l->vmm = l->opts.vmm;
	ret = set_identity(l, uid, err);
	if (ret < 0)
		return ret;
	l->dir_created = access(l->dir, F_OK) == 0;
	ret = l->vmm->ops->attach(l->vmm, l->vm_name, &l->vm, err);
	/* gone before its guest ever answered (the backend drops a VM it was
	 * still starting when it reconnects): nothing ran, boot it anew */
	if (ret == -ENOENT && l->dir_created && !launch_ever_ready(l))
		return pv_err_set(err, EAGAIN, "VM %s was still starting", l->vm_name);
	if (ret < 0)
		return ret;
	/* podvm never pauses a VM: a paused one is one the backend was still
	 * starting (QEMU waits paused for its set-up) when the daemon died. Its
	 * guest never ran, and the backend kills such a VM when it reconnects;
	 * the caller boots the pod anew. */
	if (l->vm->ops->state(l->vm, &st, NULL) == 0 && st == VMM_STATE_PAUSED) {
		struct pv_err derr;

		vmm_destroy(l->vm, &derr);
		vmm_release(l->vm);
		l->vm = NULL;
		return pv_err_set(err, EAGAIN, "VM %s was still starting", l->vm_name);
	}
	launch_mark(l, LAUNCH_T_VM);
	return 0;
}

int launch_connect(struct launch *l, int timeout_ms, struct pv_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = util_mono_ms() + timeout_ms;
	int fd = -1, ret;

	memcpy(sa.sun_path, l->agent_sock, strlen(l->agent_sock) + 1);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return pv_err_sys(err, errno, "socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		ret = errno;
		close(fd);
		fd = -1;
		if ((ret != ENOENT && ret != ECONNREFUSED) ||
		    util_mono_ms() >= deadline)
			return pv_err_sys(err, ret, "connect to agent socket %s",
					  l->agent_sock);
		usleep(5000);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		ret = pv_err_sys(err, errno, "fcntl");
		close(fd);
		return ret;
	}
	l->agent_fd = fd;
	return 0;
}

char *launch_console_tail(const struct launch *l, int lines)
{
	char *buf = NULL, *p;
	size_t len = 0;
	int seen = 0;

	if (!l->console_log[0] ||
	    util_read_file(l->console_log, 8u << 20, &buf, &len, NULL) < 0)
		return NULL;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (p = buf + len; p > buf; p--) {
		if (p[-1] == '\n' && ++seen >= lines)
			break;
	}
	memmove(buf, p, strlen(p) + 1);
	return buf;
}

void launch_release(struct launch *l)
{
	if (l->agent_fd >= 0) {
		close(l->agent_fd);
		l->agent_fd = -1;
	}
	vmm_release(l->vm);
	l->vm = NULL;
	l->dir_created = false;   /* keep it: the VM still uses it */
	launch_teardown(l);
}

void launch_teardown(struct launch *l)
{
	struct pv_err err;

	launch_follow_free(&l->f);
	if (l->agent_fd >= 0) {
		close(l->agent_fd);
		l->agent_fd = -1;
	}
	if (l->vm) {
		if (vmm_destroy(l->vm, &err) < 0)
			fprintf(stderr, "podvm: destroy VM %s: %s\n", l->vm_name, err.msg);
		vmm_release(l->vm);
		l->vm = NULL;
	}
	if (l->vmm_owned)
		vmm_close(l->vmm);
	l->vmm = NULL;
	l->vmm_owned = false;
	if (l->dir_created) {
		if (util_rm_rf(l->dir, &err) < 0)
			fprintf(stderr, "podvm: remove %s: %s\n", l->dir, err.msg);
		l->dir_created = false;
	}
	if (l->rt_built) {
		runtime_free(&l->rt);
		l->rt_built = false;
	}
	for (size_t i = 0; i < VMM_MAX_DISKS; i++) {
		if (l->image_hold[i] >= 0)
			close(l->image_hold[i]);
		l->image_hold[i] = -1;
	}
	image_store_close(l->store);
	l->store = NULL;
}

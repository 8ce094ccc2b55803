/* libvirt backend: VM operations. VMs are transient domains created with
 * virDomainCreateXML(flags 0): never VIR_DOMAIN_START_AUTODESTROY, the VM
 * must outlive this process; a stopped VM leaves no libvirt config behind. */
#include "vmm/libvirt/lv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vmm/libvirt/domxml.h"

/* The lifecycle callback owns its own dup of the VM's eventfd, freed by
 * libvirt (lv_watch_free) once the callback can no longer run: a callback
 * racing with lv_release() never touches freed handle memory. */
struct lv_watch {
	int efd;
};

static void lv_efd_signal(int efd)
{
	uint64_t one = 1;
	ssize_t w;

	do
		w = write(efd, &one, sizeof(one));
	while (w < 0 && errno == EINTR);
	/* EAGAIN: counter saturated, already readable. */
}

static void lv_watch_free(void *opaque)
{
	struct lv_watch *w = opaque;

	if (w->efd >= 0)
		close(w->efd);
	free(w);
}

static int lv_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event,
			   int detail, void *opaque)
{
	struct lv_watch *w = opaque;

	(void)conn;
	(void)dom;
	(void)detail;
	if (event == VIR_DOMAIN_EVENT_STOPPED)
		lv_efd_signal(w->efd);
	return 0;
}

static enum vmm_state lv_map_state(int s)
{
	switch (s) {
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return VMM_STATE_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		return VMM_STATE_SHUTDOWN;
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_CRASHED:
		return VMM_STATE_STOPPED;
	default:
		return VMM_STATE_RUNNING;  /* running, blocked, nostate */
	}
}

int lv_state(struct vmm_vm *vm, enum vmm_state *st, struct pv_err *err)
{
	struct lv_vm *h = (struct lv_vm *)vm;
	int s = 0, reason = 0;

	if (virDomainGetState(h->dom, &s, &reason, 0) < 0) {
		if (lv_last_code() == VIR_ERR_NO_DOMAIN) {
			*st = VMM_STATE_STOPPED;  /* transient domain is gone */
			return 0;
		}
		return lv_err(err, EIO, "VM %s: state", vm->name);
	}
	*st = lv_map_state(s);
	return 0;
}

/* Wrap a domain into a handle with an exit eventfd; takes over dom. */
static int lv_vm_new(struct lv_conn *c, virDomainPtr dom, const char *name,
		     struct vmm_vm **out, struct pv_err *err)
{
	struct lv_vm *h = NULL;
	struct lv_watch *w = NULL;
	enum vmm_state st;
	int rc = 0, n;

	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = pv_err_sys(err, ENOMEM, "VM %s: handle", name);
		goto out;
	}
	h->base.ops = &vmm_libvirt_ops;
	h->c = c;
	h->dom = dom;
	dom = NULL;
	h->exit_fd = -1;
	h->cb_id = -1;
	n = snprintf(h->base.name, sizeof(h->base.name), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(h->base.name)) {
		rc = pv_err_set(err, EINVAL, "VM name too long");
		goto out;
	}
	h->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->exit_fd < 0) {
		rc = pv_err_sys(err, errno, "VM %s: eventfd", name);
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		rc = pv_err_sys(err, ENOMEM, "VM %s: watch", name);
		goto out;
	}
	w->efd = fcntl(h->exit_fd, F_DUPFD_CLOEXEC, 0);
	if (w->efd < 0) {
		rc = pv_err_sys(err, errno, "VM %s: dup eventfd", name);
		goto out;
	}
	h->cb_id = virConnectDomainEventRegisterAny(c->conn, h->dom,
			VIR_DOMAIN_EVENT_ID_LIFECYCLE,
			VIR_DOMAIN_EVENT_CALLBACK(lv_lifecycle_cb), w, lv_watch_free);
	if (h->cb_id < 0) {
		rc = lv_err(err, EIO, "VM %s: register lifecycle events", name);
		goto out;
	}
	w = NULL;  /* libvirt owns it now */
	/* The VM may have stopped before the callback existed. */
	rc = lv_state(&h->base, &st, err);
	if (rc < 0)
		goto out;
	if (st == VMM_STATE_STOPPED)
		lv_efd_signal(h->exit_fd);
	*out = &h->base;
	h = NULL;
out:
	if (w)
		lv_watch_free(w);
	if (dom)
		virDomainFree(dom);
	lv_release(h ? &h->base : NULL);
	return rc;
}

int lv_boot(struct vmm *v, const struct vmm_machine *m, struct vmm_vm **out,
	    struct pv_err *err)
{
	struct lv_conn *c = (struct lv_conn *)v;
	virDomainPtr dom = NULL;
	char *xml = NULL;
	int rc;

	*out = NULL;
	rc = lv_domxml_build(m, c->accel, c->cpu_disable, &xml, err);
	if (rc < 0)
		goto out;
	dom = virDomainCreateXML(c->conn, xml, 0);
	if (!dom) {
		rc = lv_err(err, EIO, "VM %s: start", m->name);
		goto out;
	}
	rc = lv_vm_new(c, dom, m->name, out, err);
	dom = NULL;
	/* A handle failure leaves a VM nobody tracks: kill it. */
	if (rc < 0) {
		dom = virDomainLookupByName(c->conn, m->name);
		if (dom)
			virDomainDestroy(dom);
	}
out:
	if (dom)
		virDomainFree(dom);
	free(xml);
	return rc;
}

int lv_attach(struct vmm *v, const char *name, struct vmm_vm **out,
	      struct pv_err *err)
{
	struct lv_conn *c = (struct lv_conn *)v;
	virDomainPtr dom;

	*out = NULL;
	if (!vmm_name_valid(name))
		return pv_err_set(err, EINVAL, "invalid VM name");
	dom = virDomainLookupByName(c->conn, name);
	if (!dom)
		return lv_err(err, 0, "VM %s: attach", name);
	return lv_vm_new(c, dom, name, out, err);
}

int lv_list(struct vmm *v, char ***names, size_t *n, struct pv_err *err)
{
	struct lv_conn *c = (struct lv_conn *)v;
	virDomainPtr *doms = NULL;
	char **res = NULL;
	size_t k = 0;
	int nd, i, rc = 0;

	*names = NULL;
	*n = 0;
	nd = virConnectListAllDomains(c->conn, &doms,
				      VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (nd < 0)
		return lv_err(err, EIO, "list VMs");
	res = calloc((size_t)nd + 1, sizeof(*res));
	if (!res) {
		rc = pv_err_sys(err, ENOMEM, "list VMs");
		goto out;
	}
	for (i = 0; i < nd; i++) {
		const char *dn = virDomainGetName(doms[i]);

		if (!dn || strncmp(dn, LV_NAME_PREFIX, strlen(LV_NAME_PREFIX)) != 0)
			continue;
		res[k] = strdup(dn);
		if (!res[k]) {
			rc = pv_err_sys(err, ENOMEM, "list VMs");
			goto out;
		}
		k++;
	}
	*names = res;
	*n = k;
	res = NULL;
out:
	if (res) {
		for (i = 0; i < (int)k; i++)
			free(res[i]);
		free(res);
	}
	for (i = 0; i < nd; i++)
		virDomainFree(doms[i]);
	free(doms);
	return rc;
}

int lv_shutdown(struct vmm_vm *vm, struct pv_err *err)
{
	struct lv_vm *h = (struct lv_vm *)vm;

	if (virDomainShutdownFlags(h->dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
		return lv_err(err, 0, "VM %s: shutdown", vm->name);
	return 0;
}

int lv_destroy(struct vmm_vm *vm, struct pv_err *err)
{
	struct lv_vm *h = (struct lv_vm *)vm;
	int code;

	if (virDomainDestroy(h->dom) < 0) {
		code = lv_last_code();
		/* Already gone or not running: that is what we wanted. */
		if (code != VIR_ERR_NO_DOMAIN && code != VIR_ERR_OPERATION_INVALID)
			return lv_err(err, EIO, "VM %s: destroy", vm->name);
	}
	/* Our domains are transient; undefine one somebody made persistent. */
	if (virDomainIsPersistent(h->dom) == 1 && virDomainUndefine(h->dom) < 0 &&
	    lv_last_code() != VIR_ERR_NO_DOMAIN)
		return lv_err(err, EIO, "VM %s: undefine", vm->name);
	lv_efd_signal(h->exit_fd);  /* do not wait for the event */
	return 0;
}

int lv_exit_fd(struct vmm_vm *vm)
{
	return ((struct lv_vm *)vm)->exit_fd;
}

/* The embedded driver keeps QEMU's pid in ROOT/run/qemu/NAME.pid (the
 * system driver in /run/libvirt/qemu); QEMU itself holds a lock on it. */
int lv_pid(struct vmm_vm *vm)
{
	struct lv_vm *h = (struct lv_vm *)vm;
	char path[VMM_PATH_MAX + VMM_NAME_MAX + 8], buf[32];
	enum vmm_state st;
	ssize_t r;
	long pid;
	char *end;
	int fd = -1, n, ret = -1;

	if (!h->c->pid_dir[0])
		return -1;
	if (lv_state(vm, &st, NULL) < 0 || st == VMM_STATE_STOPPED)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s.pid", h->c->pid_dir, vm->name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		goto out;
	r = read(fd, buf, sizeof(buf) - 1);
	if (r <= 0)
		goto out;
	buf[r] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || pid <= 1 ||
	    pid > INT32_MAX)
		goto out;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		goto out;
	ret = (int)pid;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static uint64_t lv_rss_bytes(int pid)
{
	char path[64], line[256];
	unsigned long long kib = 0;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024;
}

int lv_stats(struct vmm_vm *vm, struct vmm_stats *st, struct pv_err *err)
{
	struct lv_vm *h = (struct lv_vm *)vm;
	virDomainInfo info;

	memset(st, 0, sizeof(*st));
	if (virDomainGetInfo(h->dom, &info) < 0)
		return lv_err(err, 0, "VM %s: stats", vm->name);
	st->cpu_ns = info.cpuTime;
	st->mem_bytes = (uint64_t)info.maxMem * 1024;
	st->rss_bytes = lv_rss_bytes(lv_pid(vm));
	return 0;
}

void lv_release(struct vmm_vm *vm)
{
	struct lv_vm *h = (struct lv_vm *)vm;

	if (!h)
		return;
	if (h->cb_id >= 0)
		virConnectDomainEventDeregisterAny(h->c->conn, h->cb_id);
	if (h->dom)
		virDomainFree(h->dom);
	if (h->exit_fd >= 0)
		close(h->exit_fd);
	free(h);
}

/* Domain XML builder for QEMU's microvm machine (see domxml.h).
 *
 * Every value that reaches the XML is validated first (names, serials,
 * paths, taps, cmdline) and escaped as well, so that a validation gap
 * still cannot inject markup. */
#include "vmm/libvirt/domxml.h"


#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ------------------------------------------------------------ */

static int lv_buf_reserve(struct lv_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return -b->err;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->err = EOVERFLOW;
		return -b->err;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = ENOMEM;
		return -b->err;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void lv_buf_putn(struct lv_buf *b, const char *s, size_t n)
{
	if (lv_buf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void lv_buf_puts(struct lv_buf *b, const char *s)
{
	lv_buf_putn(b, s, strlen(s));
}

void lv_buf_printf(struct lv_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = EINVAL;
		return;
	}
	if (lv_buf_reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void lv_buf_escape(struct lv_buf *b, const char *s)
{
	for (; *s && !b->err; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': lv_buf_puts(b, "&amp;"); break;
		case '<': lv_buf_puts(b, "&lt;"); break;
		case '>': lv_buf_puts(b, "&gt;"); break;
		case '\'': lv_buf_puts(b, "&apos;"); break;
		case '"': lv_buf_puts(b, "&quot;"); break;
		default:
			if (c < 0x20 || c >= 0x7f) {
				b->err = EINVAL;
				return;
			}
			lv_buf_putn(b, s, 1);
		}
	}
}

int lv_buf_finish(struct lv_buf *b, char **out)
{
	int e = b->err;

	if (!e && !b->p && lv_buf_reserve(b, 0) == 0)
		b->p[0] = '\0';  /* empty result is "" */
	e = b->err;
	if (e) {
		lv_buf_free(b);
		return -e;
	}
	*out = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

void lv_buf_free(struct lv_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *lv_xml_escape(const char *s)
{
	struct lv_buf b = { 0 };
	char *out = NULL;
	int rc;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	lv_buf_escape(&b, s);
	rc = lv_buf_finish(&b, &out);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return out;
}

/* ---- validation -------------------------------------------------------- */

bool lv_tap_valid(const char *tap)
{
	size_t i;

	if (!tap || !tap[0] || strcmp(tap, ".") == 0 || strcmp(tap, "..") == 0)
		return false;
	for (i = 0; tap[i]; i++) {
		char c = tap[i];

		if (i >= LV_TAP_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool lv_uuid_valid(const char *uuid)
{
	size_t i;

	if (!uuid || strlen(uuid) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		char c = uuid[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* Printable ASCII only: the kernel command line has no quoting for
 * newlines and QEMU passes it through verbatim. */
bool lv_cmdline_valid(const char *cmdline)
{
	size_t i;

	if (!cmdline)
		return false;
	for (i = 0; cmdline[i]; i++) {
		unsigned char c = (unsigned char)cmdline[i];

		if (i >= LV_CMDLINE_MAX || c < 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

int lv_machine_validate(const struct vmm_machine *m, struct pv_err *err)
{
	size_t i, j;

	if (!m)
		return pv_err_set(err, EINVAL, "no machine description");
	if (!vmm_name_valid(m->name))
		return pv_err_set(err, EINVAL, "invalid VM name (want [A-Za-z0-9_-], "
				  "alphanumeric first, at most %d chars)", VMM_NAME_MAX);
	if (m->uuid && !lv_uuid_valid(m->uuid))
		return pv_err_set(err, EINVAL, "VM %s: invalid uuid", m->name);
	if (m->vcpus < 1 || m->vcpus > 255)
		return pv_err_set(err, EINVAL, "VM %s: vcpus %u out of range 1..255",
				  m->name, m->vcpus);
	if (m->memory_mib < 64 || m->memory_mib > (UINT64_C(1) << 20))
		return pv_err_set(err, EINVAL, "VM %s: memory %" PRIu64
				  " MiB out of range 64..1048576", m->name, m->memory_mib);
	if (!vmm_path_valid(m->kernel))
		return pv_err_set(err, EINVAL, "VM %s: invalid kernel path", m->name);
	if (m->initramfs && !vmm_path_valid(m->initramfs))
		return pv_err_set(err, EINVAL, "VM %s: invalid initramfs path", m->name);
	if (m->cmdline && !lv_cmdline_valid(m->cmdline))
		return pv_err_set(err, EINVAL, "VM %s: kernel command line has control "
				  "or non-ASCII characters or exceeds %d chars",
				  m->name, LV_CMDLINE_MAX);
	if (m->n_disks > VMM_MAX_DISKS)
		return pv_err_set(err, EINVAL, "VM %s: %zu disks, at most %d",
				  m->name, m->n_disks, VMM_MAX_DISKS);
	for (i = 0; i < m->n_disks; i++) {
		if (!vmm_path_valid(m->disks[i].path))
			return pv_err_set(err, EINVAL, "VM %s: disk %zu: invalid path",
					  m->name, i);
		if (m->disks[i].serial && !vmm_serial_valid(m->disks[i].serial))
			return pv_err_set(err, EINVAL, "VM %s: disk %zu: invalid serial "
					  "(want [A-Za-z0-9_.-], at most %d chars)",
					  m->name, i, VMM_SERIAL_MAX);
	}
	if (m->n_nics > VMM_MAX_NICS)
		return pv_err_set(err, EINVAL, "VM %s: %zu nics, at most %d",
				  m->name, m->n_nics, VMM_MAX_NICS);
	for (i = 0; i < m->n_nics; i++) {
		if (!lv_tap_valid(m->nics[i].tap))
			return pv_err_set(err, EINVAL, "VM %s: nic %zu: invalid tap name",
					  m->name, i);
		if (m->nics[i].mac[0] & 1)
			return pv_err_set(err, EINVAL, "VM %s: nic %zu: multicast MAC",
					  m->name, i);
		for (j = 0; j < i; j++)
			if (strcmp(m->nics[i].tap, m->nics[j].tap) == 0)
				return pv_err_set(err, EINVAL, "VM %s: tap %s used twice",
						  m->name, m->nics[i].tap);
	}
	if (!vmm_path_valid(m->agent_socket) ||
	    strlen(m->agent_socket) > LV_SUN_PATH_MAX)
		return pv_err_set(err, EINVAL, "VM %s: invalid agent socket path "
				  "(absolute, at most %d chars)", m->name, LV_SUN_PATH_MAX);
	/* a port name has a serial's alphabet and length */
	if (!vmm_serial_valid(m->agent_port))
		return pv_err_set(err, EINVAL, "VM %s: invalid agent port name", m->name);
	if (!vmm_path_valid(m->console_log))
		return pv_err_set(err, EINVAL, "VM %s: invalid console log path", m->name);
	return 0;
}

/* ---- builder ----------------------------------------------------------- */

static void lv_elem(struct lv_buf *b, const char *indent, const char *tag,
		    const char *value)
{
	lv_buf_printf(b, "%s<%s>", indent, tag);
	lv_buf_escape(b, value);
	lv_buf_printf(b, "</%s>\n", tag);
}

static void lv_domxml_disks(struct lv_buf *b, const struct vmm_machine *m)
{
	size_t i;

	for (i = 0; i < m->n_disks; i++) {
		const struct vmm_disk *d = &m->disks[i];

		lv_buf_puts(b, "    <disk type='file' device='disk'>\n"
			       "      <driver name='qemu' type='raw'/>\n"
			       "      <source file='");
		lv_buf_escape(b, d->path);
		/* vda..vdp: VMM_MAX_DISKS is 16 */
		lv_buf_printf(b, "'/>\n      <target dev='vd%c' bus='virtio'/>\n",
			      (char)('a' + i));
		if (d->readonly)
			lv_buf_puts(b, "      <readonly/>\n");
		if (d->serial)
			lv_elem(b, "      ", "serial", d->serial);
		lv_buf_puts(b, "      <address type='virtio-mmio'/>\n"
			       "    </disk>\n");
	}
}

static void lv_domxml_nics(struct lv_buf *b, const struct vmm_machine *m)
{
	size_t i;

	for (i = 0; i < m->n_nics; i++) {
		const struct vmm_nic *n = &m->nics[i];

		lv_buf_puts(b, "    <interface type='ethernet'>\n"
			       "      <target dev='");
		lv_buf_escape(b, n->tap);
		lv_buf_printf(b, "' managed='no'/>\n"
			      "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n"
			      "      <model type='virtio'/>\n"
			      "      <address type='virtio-mmio'/>\n"
			      "    </interface>\n",
			      n->mac[0], n->mac[1], n->mac[2], n->mac[3],
			      n->mac[4], n->mac[5]);
	}
}

/* The accelerator-dependent CPU model. TCG: libvirt 9.0's CPU map has no
 * "max" model; mode='maximum' gives QEMU's -cpu max. KVM: the host's CPU,
 * without the features whose MSRs this host's KVM refuses to take back
 * (QEMU would abort setting them; vmm/kvm_probe.c finds them). The clock
 * needs nothing here: under KVM the guest finds kvm-clock by itself. */
static void lv_domxml_cpu(struct lv_buf *b, enum vmm_accel accel,
			  const char *const *disable)
{
	size_t i;

	if (accel != VMM_ACCEL_KVM) {
		lv_buf_puts(b, "  <cpu mode='maximum' migratable='off'/>\n");
		return;
	}
	if (!disable || !disable[0]) {
		lv_buf_puts(b, "  <cpu mode='host-passthrough' migratable='off'/>\n");
		return;
	}
	lv_buf_puts(b, "  <cpu mode='host-passthrough' migratable='off'>\n");
	for (i = 0; disable[i] && i < LV_CPU_DISABLE_MAX; i++) {
		lv_buf_puts(b, "    <feature policy='disable' name='");
		lv_buf_escape(b, disable[i]);
		lv_buf_puts(b, "'/>\n");
	}
	lv_buf_puts(b, "  </cpu>\n");
}

int lv_domxml_build(const struct vmm_machine *m, enum vmm_accel accel,
		    const char *const *cpu_disable, char **xml,
		    struct pv_err *err)
{
	struct lv_buf b = { 0 };
	int rc;

	rc = lv_machine_validate(m, err);
	if (rc < 0)
		return rc;
	if (accel != VMM_ACCEL_KVM && accel != VMM_ACCEL_TCG)
		return pv_err_set(err, EINVAL, "VM %s: accelerator must be KVM or TCG",
				  m->name);

	lv_buf_printf(&b, "<domain type='%s'>\n",
		      accel == VMM_ACCEL_KVM ? "kvm" : "qemu");
	lv_elem(&b, "  ", "name", m->name);
	if (m->uuid)
		lv_elem(&b, "  ", "uuid", m->uuid);
	lv_buf_printf(&b, "  <memory unit='MiB'>%" PRIu64 "</memory>\n"
		      "  <vcpu>%u</vcpu>\n", m->memory_mib, m->vcpus);
	lv_buf_puts(&b, "  <os>\n"
		       "    <type arch='x86_64' machine='microvm'>hvm</type>\n");
	lv_elem(&b, "    ", "kernel", m->kernel);
	if (m->initramfs)
		lv_elem(&b, "    ", "initrd", m->initramfs);
	if (m->cmdline)
		lv_elem(&b, "    ", "cmdline", m->cmdline);
	/* ACPI is how the guest kernel finds the virtio-mmio devices. Under
	 * KVM no vPMU (as Kata's pmu=off): a pod has no use for it, and the
	 * guest kernel's writes to the counter MSRs would trap to the host. */
	lv_buf_puts(&b, "  </os>\n");
	lv_buf_puts(&b, accel == VMM_ACCEL_KVM ?
		    "  <features><acpi/><pmu state='off'/></features>\n" :
		    "  <features><acpi/></features>\n");
	lv_domxml_cpu(&b, accel, cpu_disable);
	/* A pod VM never reboots: any end is the end. */
	lv_buf_puts(&b, "  <on_poweroff>destroy</on_poweroff>\n"
		       "  <on_reboot>destroy</on_reboot>\n"
		       "  <on_crash>destroy</on_crash>\n"
		       "  <devices>\n");
	lv_domxml_disks(&b, m);
	lv_domxml_nics(&b, m);
	lv_buf_puts(&b, "    <controller type='virtio-serial' index='0'>\n"
		       "      <address type='virtio-mmio'/>\n"
		       "    </controller>\n"
		       "    <channel type='unix'>\n"
		       "      <source mode='bind' path='");
	lv_buf_escape(&b, m->agent_socket);
	lv_buf_puts(&b, "'/>\n"
		       "      <target type='virtio' name='");
	lv_buf_escape(&b, m->agent_port);
	lv_buf_puts(&b, "'/>\n"
		       "    </channel>\n"
		       "    <serial type='file'>\n"
		       "      <source path='");
	lv_buf_escape(&b, m->console_log);
	lv_buf_puts(&b, "'/>\n"
		       "      <target port='0'/>\n"
		       "    </serial>\n"
		       "    <console type='file'>\n"
		       "      <source path='");
	lv_buf_escape(&b, m->console_log);
	/* Without usb model='none' libvirt adds a USB controller, which needs
	 * a PCI bus microvm does not have ("No PCI buses available"). */
	lv_buf_puts(&b, "'/>\n"
		       "      <target type='serial' port='0'/>\n"
		       "    </console>\n"
		       "    <controller type='usb' model='none'/>\n"
		       "    <memballoon model='none'/>\n"
		       "  </devices>\n"
		       "</domain>\n");

	rc = lv_buf_finish(&b, xml);
	if (rc < 0)
		return pv_err_sys(err, -rc, "VM %s: building domain XML", m->name);
	return 0;
}

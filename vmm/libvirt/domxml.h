/* Domain XML for a podvm microVM: a pure builder (no libvirt headers), so
 * that it can be unit-tested with hostile input. */
#ifndef PODVM_VMM_LIBVIRT_DOMXML_H
#define PODVM_VMM_LIBVIRT_DOMXML_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "vmm/vmm.h"

#define LV_CMDLINE_MAX 4096
#define LV_TAP_MAX     15      /* IFNAMSIZ - 1 */
#define LV_SUN_PATH_MAX 107    /* sizeof(sun_path) - 1 */

/* Growable string with a sticky error: appends after a failure are no-ops,
 * the first error is reported once by lv_buf_finish(). */
struct lv_buf {
	char *p;
	size_t len, cap;
	int err;                /* 0 or positive errno */
};

void lv_buf_puts(struct lv_buf *b, const char *s);
void lv_buf_printf(struct lv_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s escaped for XML text and attribute values. Control characters
 * and non-ASCII bytes set EINVAL: nothing we generate needs them. */
void lv_buf_escape(struct lv_buf *b, const char *s);
/* Returns 0 and hands over the string, or -errno (buffer freed). */
int lv_buf_finish(struct lv_buf *b, char **out);
void lv_buf_free(struct lv_buf *b);

/* Escape into a new malloc'd string; NULL with errno set on bad input. */
char *lv_xml_escape(const char *s);

bool lv_tap_valid(const char *tap);
bool lv_uuid_valid(const char *uuid);
bool lv_cmdline_valid(const char *cmdline);

/* Check every field of m; fills err naming the bad field. */
int lv_machine_validate(const struct vmm_machine *m, struct pv_err *err);

/* Build the domain XML (validates first). accel is KVM or TCG; under KVM,
 * cpu_disable (NULL-terminated, may be NULL) lists host CPU features to
 * turn off (vmm_kvm_report()->cpu_disable). */
#define LV_CPU_DISABLE_MAX 8
int lv_domxml_build(const struct vmm_machine *m, enum vmm_accel accel,
		    const char *const *cpu_disable,
		    char **xml, struct pv_err *err);

#endif

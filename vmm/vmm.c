/* Backend table and validation shared by backends (the KVM usability probe
 * is in kvm_probe.c). */
#include "vmm/vmm.h"

#include <string.h>

extern const struct vmm_ops vmm_libvirt_ops;

static const struct vmm_ops *const vmm_backends[] = {
	&vmm_libvirt_ops,       /* first entry is the default */
};

const struct vmm_ops *vmm_backend(const char *name)
{
	size_t i;

	if (!name || !*name)
		return vmm_backends[0];
	for (i = 0; i < sizeof(vmm_backends) / sizeof(vmm_backends[0]); i++)
		if (strcmp(vmm_backends[i]->name, name) == 0)
			return vmm_backends[i];
	return NULL;
}

static bool vmm_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool vmm_name_valid(const char *name)
{
	size_t i;

	if (!name || !vmm_is_alnum(name[0]))
		return false;
	for (i = 0; name[i]; i++) {
		if (i >= VMM_NAME_MAX)
			return false;
		if (!vmm_is_alnum(name[i]) && name[i] != '_' && name[i] != '-')
			return false;
	}
	return true;
}

bool vmm_serial_valid(const char *serial)
{
	size_t i;

	if (!serial || !serial[0])
		return false;
	for (i = 0; serial[i]; i++) {
		if (i >= VMM_SERIAL_MAX)
			return false;
		if (!vmm_is_alnum(serial[i]) && serial[i] != '_' &&
		    serial[i] != '-' && serial[i] != '.')
			return false;
	}
	return true;
}

/* Absolute, printable ASCII only (generated configuration and QEMU option
 * strings stay unambiguous), no "." or ".." components, < VMM_PATH_MAX. */
bool vmm_path_valid(const char *path)
{
	const char *p, *comp;
	size_t len;

	if (!path || path[0] != '/')
		return false;
	len = strnlen(path, VMM_PATH_MAX);
	if (len >= VMM_PATH_MAX)
		return false;
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	for (comp = path; *comp; ) {
		size_t n;

		while (*comp == '/')
			comp++;
		n = strcspn(comp, "/");
		if ((n == 1 && comp[0] == '.') ||
		    (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		comp += n;
	}
	return true;
}

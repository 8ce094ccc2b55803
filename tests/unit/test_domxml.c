/* Domain XML builder and VMM validation: hostile names and paths are
 * rejected or escaped; a sample machine gets the expected devices. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/libvirt/domxml.h"
#include "vmm/vmm.h"

static void sample(struct vmm_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->name = "podvm-abc123";
	m->vcpus = 2;
	m->memory_mib = 256;
	m->kernel = "/var/lib/podvm/guest/vmlinuz";
	m->initramfs = "/var/lib/podvm/guest/initramfs.cpio.gz";
	m->cmdline = "console=ttyS0 reboot=k panic=-1";
	m->disks[0].path = "/var/lib/podvm/images/sha256-aa.erofs";
	m->disks[0].serial = "img0";
	m->disks[0].readonly = true;
	m->disks[1].path = "/run/podvm/pods/u1/scratch.img";
	m->disks[1].serial = "scratch";
	m->n_disks = 2;
	m->nics[0].tap = "pvtap0";
	memcpy(m->nics[0].mac, "\x02\x00\x0a\x00\x00\x05", 6);
	m->n_nics = 1;
	m->agent_socket = "/run/podvm/pods/u1/agent.sock";
	m->agent_port = "podvm.agent";
	m->console_log = "/run/podvm/pods/u1/console.log";
}

static char *build(const struct vmm_machine *m, enum vmm_accel a, int *rc)
{
	struct pv_err err = { 0 };
	char *xml = NULL;

	*rc = lv_domxml_build(m, a, NULL, &xml, &err);
	if (*rc < 0) {
		assert_null(xml);
		assert_true(err.msg[0] != '\0');
	}
	return xml;
}

/* KVM: host-passthrough minus the features the probe found KVM refuses;
 * TCG ignores the list. */
static void test_cpu_model(void **state)
{
	static const char *const off[] = { "arch-capabilities", "pdcm", NULL };
	static const char *const none[] = { NULL };
	static const char *const bad[] = { "x'/><evil", NULL };
	struct pv_err err = { 0 };
	struct vmm_machine m;
	char *xml = NULL;

	(void)state;
	sample(&m);
	assert_int_equal(lv_domxml_build(&m, VMM_ACCEL_KVM, off, &xml, &err), 0);
	assert_non_null(strstr(xml, "<cpu mode='host-passthrough' migratable='off'>\n"
			       "    <feature policy='disable' name='arch-capabilities'/>\n"
			       "    <feature policy='disable' name='pdcm'/>\n"
			       "  </cpu>\n"));
	free(xml);
	assert_int_equal(lv_domxml_build(&m, VMM_ACCEL_KVM, none, &xml, &err), 0);
	assert_non_null(strstr(xml, "<cpu mode='host-passthrough' migratable='off'/>"));
	assert_null(strstr(xml, "<feature policy"));
	free(xml);
	assert_int_equal(lv_domxml_build(&m, VMM_ACCEL_TCG, off, &xml, &err), 0);
	assert_non_null(strstr(xml, "<cpu mode='maximum' migratable='off'/>"));
	assert_null(strstr(xml, "<feature policy"));
	free(xml);
	/* escaped like every other value */
	assert_int_equal(lv_domxml_build(&m, VMM_ACCEL_KVM, bad, &xml, &err), 0);
	assert_non_null(strstr(xml, "name='x&apos;/&gt;&lt;evil'/>"));
	free(xml);
}

static void test_sample_devices(void **state)
{
	struct vmm_machine m;
	char *xml;
	int rc;

	(void)state;
	sample(&m);
	xml = build(&m, VMM_ACCEL_TCG, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(xml, "<domain type='qemu'>"));
	assert_non_null(strstr(xml, "<name>podvm-abc123</name>"));
	assert_non_null(strstr(xml, "<memory unit='MiB'>256</memory>"));
	assert_non_null(strstr(xml, "<vcpu>2</vcpu>"));
	assert_non_null(strstr(xml, "machine='microvm'>hvm</type>"));
	assert_non_null(strstr(xml, "<kernel>/var/lib/podvm/guest/vmlinuz</kernel>"));
	assert_non_null(strstr(xml, "<initrd>/var/lib/podvm/guest/initramfs.cpio.gz</initrd>"));
	assert_non_null(strstr(xml, "<cmdline>console=ttyS0 reboot=k panic=-1</cmdline>"));
	assert_non_null(strstr(xml, "<features><acpi/></features>"));
	assert_non_null(strstr(xml, "<cpu mode='maximum' migratable='off'/>"));
	assert_non_null(strstr(xml, "<on_poweroff>destroy</on_poweroff>"));
	assert_non_null(strstr(xml, "<on_reboot>destroy</on_reboot>"));
	assert_non_null(strstr(xml, "<on_crash>destroy</on_crash>"));
	assert_non_null(strstr(xml, "<source file='/var/lib/podvm/images/sha256-aa.erofs'/>"));
	assert_non_null(strstr(xml, "<target dev='vda' bus='virtio'/>\n      <readonly/>"));
	assert_non_null(strstr(xml, "<serial>img0</serial>"));
	assert_non_null(strstr(xml, "<target dev='vdb' bus='virtio'/>\n      <serial>scratch"));
	assert_non_null(strstr(xml, "<interface type='ethernet'>"));
	assert_non_null(strstr(xml, "<target dev='pvtap0' managed='no'/>"));
	assert_non_null(strstr(xml, "<mac address='02:00:0a:00:00:05'/>"));
	assert_non_null(strstr(xml, "<model type='virtio'/>"));
	assert_non_null(strstr(xml, "<controller type='virtio-serial' index='0'>"));
	assert_non_null(strstr(xml, "<source mode='bind' path='/run/podvm/pods/u1/agent.sock'/>"));
	assert_non_null(strstr(xml, "<target type='virtio' name='podvm.agent'/>"));
	assert_non_null(strstr(xml, "<serial type='file'>\n      <source path='/run/podvm/pods/u1/console.log'/>"));
	assert_non_null(strstr(xml, "<console type='file'>"));
	assert_non_null(strstr(xml, "<controller type='usb' model='none'/>"));
	assert_non_null(strstr(xml, "<memballoon model='none'/>"));
	/* every device sits on virtio-mmio: disks(2) + nic(1) + virtio-serial */
	{
		const char *p = xml;
		int n = 0;

		while ((p = strstr(p, "<address type='virtio-mmio'/>"))) {
			n++;
			p++;
		}
		assert_int_equal(n, 4);
	}
	assert_null(strstr(xml, "pci"));
	assert_null(strstr(xml, "<uuid>"));
	free(xml);

	xml = build(&m, VMM_ACCEL_KVM, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(xml, "<domain type='kvm'>"));
	assert_non_null(strstr(xml, "<cpu mode='host-passthrough' migratable='off'/>"));
	assert_non_null(strstr(xml, "<features><acpi/><pmu state='off'/></features>"));
	free(xml);

	m.uuid = "0a1b2c3d-0000-4000-8000-00000000abcd";
	m.n_nics = 0;
	m.n_disks = 0;
	m.initramfs = NULL;
	xml = build(&m, VMM_ACCEL_TCG, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(xml, "<uuid>0a1b2c3d-0000-4000-8000-00000000abcd</uuid>"));
	assert_null(strstr(xml, "<interface"));
	assert_null(strstr(xml, "<disk"));
	assert_null(strstr(xml, "<initrd>"));
	free(xml);

	xml = build(&m, VMM_ACCEL_AUTO, &rc);  /* caller must resolve AUTO */
	assert_int_equal(rc, -EINVAL);
}

static void test_hostile_names(void **state)
{
	static const char *bad[] = {
		"", "-lead", "_lead", "a'b", "a\"b", "a<b", "a&b", "a>b", "a b",
		"a\nb", "a/b", "../x", "podvm-\xc3\xa9", "a.b",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	struct vmm_machine m;
	size_t i;
	int rc;

	(void)state;
	assert_true(vmm_name_valid("podvm-x_1"));
	assert_true(vmm_name_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
	assert_false(vmm_name_valid(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(vmm_name_valid(bad[i]));
		sample(&m);
		m.name = bad[i];
		assert_null(build(&m, VMM_ACCEL_TCG, &rc));
		assert_int_equal(rc, -EINVAL);
	}
}

static void test_hostile_paths(void **state)
{
	static const char *bad[] = {
		NULL, "", "relative/path", "/a/../etc/shadow", "/a/..", "/./a",
		"/a\nb", "/a\tb", "/a\x7f", "/caf\xc3\xa9", "/a\rb",
	};
	struct vmm_machine m;
	char longp[VMM_PATH_MAX + 8];
	size_t i, f;
	int rc;

	(void)state;
	assert_true(vmm_path_valid("/a/b..c/.d"));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[VMM_PATH_MAX] = '\0';  /* VMM_PATH_MAX chars: one too many */
	assert_false(vmm_path_valid(longp));
	longp[VMM_PATH_MAX - 1] = '\0';
	assert_true(vmm_path_valid(longp));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(vmm_path_valid(bad[i]));
		for (f = 0; f < 5; f++) {
			sample(&m);
			switch (f) {
			case 0: m.kernel = bad[i]; break;
			case 1: if (!bad[i]) continue; m.initramfs = bad[i]; break;
			case 2: m.disks[1].path = bad[i]; break;
			case 3: m.agent_socket = bad[i]; break;
			case 4: m.console_log = bad[i]; break;
			}
			assert_null(build(&m, VMM_ACCEL_TCG, &rc));
			assert_int_equal(rc, -EINVAL);
		}
	}
	/* agent socket longer than sun_path */
	sample(&m);
	longp[120] = '\0';
	m.agent_socket = longp;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	assert_int_equal(rc, -EINVAL);
}

/* Markup characters are legal in paths: they must come out escaped. */
static void test_escaping(void **state)
{
	struct vmm_machine m;
	char *xml, *e;
	int rc;

	(void)state;
	sample(&m);
	m.kernel = "/k/a'b\"c<d>&e";
	m.console_log = "/log/x'/><evil/>";
	m.cmdline = "console=ttyS0 x=\"<a&b>\" y='q'";
	xml = build(&m, VMM_ACCEL_TCG, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(xml, "<kernel>/k/a&apos;b&quot;c&lt;d&gt;&amp;e</kernel>"));
	assert_non_null(strstr(xml, "path='/log/x&apos;/&gt;&lt;evil/&gt;'/>"));
	assert_null(strstr(xml, "<evil/>"));
	assert_non_null(strstr(xml,
		"<cmdline>console=ttyS0 x=&quot;&lt;a&amp;b&gt;&quot; y=&apos;q&apos;</cmdline>"));
	free(xml);

	e = lv_xml_escape("a&<>'\"z");
	assert_non_null(e);
	assert_string_equal(e, "a&amp;&lt;&gt;&apos;&quot;z");
	free(e);
	e = lv_xml_escape("");
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);
	assert_null(lv_xml_escape("a\nb"));
	assert_null(lv_xml_escape("\xc3\xa9"));
	assert_null(lv_xml_escape(NULL));
}

static void test_cmdline_serial_tap_uuid(void **state)
{
	struct vmm_machine m;
	char longc[LV_CMDLINE_MAX + 2];
	int rc;

	(void)state;
	sample(&m);
	m.cmdline = "console=ttyS0\ninit=/bin/sh";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	assert_int_equal(rc, -EINVAL);
	m.cmdline = "quiet \x01";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	memset(longc, 'x', sizeof(longc));
	longc[LV_CMDLINE_MAX + 1] = '\0';
	m.cmdline = longc;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	assert_int_equal(rc, -EINVAL);

	assert_true(vmm_serial_valid("sha256.abc-def_01"));
	assert_true(vmm_serial_valid("12345678901234567890"));      /* 20 */
	assert_false(vmm_serial_valid("123456789012345678901"));    /* 21 */
	assert_false(vmm_serial_valid(""));
	assert_false(vmm_serial_valid("a<b"));
	assert_false(vmm_serial_valid("a b"));
	assert_false(vmm_serial_valid("a\n"));
	sample(&m);
	m.disks[0].serial = "x</serial><evil/>";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	assert_int_equal(rc, -EINVAL);

	assert_true(lv_tap_valid("tap-1.a_b"));
	assert_true(lv_tap_valid("123456789012345"));  /* 15 */
	assert_false(lv_tap_valid("1234567890123456"));
	assert_false(lv_tap_valid("tap/0"));
	assert_false(lv_tap_valid("tap'0"));
	assert_false(lv_tap_valid(".."));
	assert_false(lv_tap_valid(""));
	assert_false(lv_tap_valid(NULL));
	sample(&m);
	m.nics[0].tap = "t'/><evil/>";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	sample(&m);
	m.nics[0].mac[0] = 0x01;  /* multicast */
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));

	sample(&m);
	m.uuid = "0a1b2c3d-0000-4000-8000-00000000abc<";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	m.uuid = "not-a-uuid";
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));

	sample(&m);
	m.n_disks = VMM_MAX_DISKS + 1;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	sample(&m);
	m.n_nics = VMM_MAX_NICS + 1;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	sample(&m);
	m.vcpus = 0;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	sample(&m);
	m.memory_mib = 32;
	assert_null(build(&m, VMM_ACCEL_TCG, &rc));
	assert_int_equal(lv_machine_validate(NULL, NULL), -EINVAL);
}

static void test_backend_table(void **state)
{
	(void)state;
	assert_non_null(vmm_backend(NULL));
	assert_string_equal(vmm_backend(NULL)->name, "libvirt");
	assert_ptr_equal(vmm_backend("libvirt"), vmm_backend(NULL));
	assert_null(vmm_backend("firecracker"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_devices),
		cmocka_unit_test(test_cpu_model),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_cmdline_serial_tap_uuid),
		cmocka_unit_test(test_backend_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

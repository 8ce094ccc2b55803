# Sourced by the scripts that run inside the first-level VM (l1-test.sh,
# l1-bench.sh). The caller sets RESULT and defines ok() first.
SRC=/podvm
PODVM=$SRC/build/podvm
PODVMD=$SRC/build/podvmd
export PODVM_STATE_DIR=/var/lib/podvm PODVM_RUN_DIR=/run/podvm
unset PODVM_ACCEL   # podvm must pick KVM by itself

secs() { awk '{print $1}' /proc/uptime; }
# A problem that stops the run: one line for the host.
fatal() { echo "fatal: $*" >"$RESULT"; echo "fatal: $*"; exit 1; }

# The emulated CPU has SVM, kvm_amd turns it into /dev/kvm, and /dev/kvm
# is left as udev's rule leaves it on a host (group kvm may use it).
l1_kvm_setup() {
	local out
	grep -qw svm /proc/cpuinfo ||
		fatal "the emulated CPU has no SVM (first-level -cpu gives no 'svm' flag; use -cpu max or qemu64,+svm)"
	ok "the emulated CPU has SVM"
	if ! out=$(modprobe kvm_amd 2>&1); then
		fatal "kvm_amd refused to load: ${out:-modprobe failed}"
	fi
	ok "kvm_amd loaded (nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null))"
	[ -c /dev/kvm ] || fatal "kvm_amd loaded but there is no /dev/kvm"
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	ok "/dev/kvm is there"
}

# The sample images, in the first-level VM's own store.
l1_samples() {
	sh $SRC/images/mksample.sh "$PODVM" "$PODVM_STATE_DIR" >/tmp/mksample.log 2>&1 ||
		fatal "importing the sample images failed: $(tail -n1 /tmp/mksample.log)"
	ok "sample images imported"
}

# stage_lines ERRFILE: the stage timings `podvm run --verbose` printed
stage_lines() {
	grep -E '^podvm: (image ready|VM started|agent ready|containers started|pod done) ' "$1" |
		sed 's/^podvm: /  /'
}

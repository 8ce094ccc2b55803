#!/bin/sh
# PID 1 of the first-level VM of the nested KVM harness (installed in the
# image as /sbin/podvm-l1-init; tests/kvm/run.sh boots it). Mounts what a
# host has, finds the shared build tree and the result disk by their
# serials, runs the script the host named in /podvm/l1.env (KVM_SCRIPT,
# with the result file and KVM_ARGS as arguments), appends its exit status
# ("l1-exit: N") to the result file, copies that to the result disk and
# powers off. Kept small and stable: it is part of the cached image, the
# scripts it runs are not.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname podvm-l1
exec </dev/null >/dev/console 2>&1

disk() {
	for d in /sys/block/vd*; do
		[ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return 0
	done
	return 1
}

RESULT=/run/podvm-l1.result
modprobe erofs
mkdir -p /podvm
if share=$(disk podvm-share) && mount -t erofs -o ro "$share" /podvm &&
   [ -r /podvm/l1.env ]; then
	. /podvm/l1.env
	echo "podvm-l1: start $KVM_SCRIPT"
	# shellcheck disable=SC2086
	bash "/podvm/tests/kvm/$KVM_SCRIPT" "$RESULT" $KVM_ARGS
	echo "l1-exit: $?" >>"$RESULT"
else
	echo "fatal: the first-level VM cannot mount the shared build tree" >"$RESULT"
fi
if res=$(disk podvm-result); then
	head -c 1000000 "$RESULT" | dd of="$res" conv=notrunc,fsync status=none
fi
sync
busybox poweroff -f

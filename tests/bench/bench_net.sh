#!/bin/bash
# One pod's network set up and torn down through the library (netns/,
# timed in-process, as the daemon calls it) beside the same links made with
# `ip` commands (tap, move into the VPC namespace, enslave + MAC + up;
# delete), N times each, interleaved in one run.  Prints medians and the
# ratios library/ip, then the per-link deletion cost one RTM_DELLINK at a
# time vs one batched group deletion.  Runs inside its own network and
# mount namespaces; the IPAM state is on the real disk (fsync included).
#
#   N=20 LINKS=20 bash tests/bench/bench_net.sh
set -eu
cd "$(dirname "$0")/../.."
N=${N:-20}
LINKS=${LINKS:-20}
H=build/tests/netns_helper_bench

if [ "${NETNS_BENCH_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench_net: needs root"; exit 1; }
	mkdir -p build/tests
	cc -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter \
		-D_GNU_SOURCE -I. -fno-strict-aliasing $(pkg-config --cflags libnl-route-3.0) \
		-O2 -g -o $H tests/integration/netns_helper.c \
		tests/integration/netns_helper_faults.c netns/*.c util/err.c util/util.c \
		$(pkg-config --libs libnl-route-3.0) -lpthread
	NETNS_BENCH_INNER=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

D=$(mktemp -d /var/tmp/podvm-bench-net.XXXXXX)
export NETNS_DIR=$D/netns NETNS_STATE=$D/state
trap '$H vpc-destroy bench force >/dev/null 2>&1; umount -R "$NETNS_DIR" 2>/dev/null; rm -rf "$D"' EXIT
ip link set lo up
$H vpc-create bench 10.8.0.0/16 >/dev/null
NS=$NETNS_DIR/podvm-vpc-bench
now_us() { echo $(( $(date +%s%N) / 1000 )); }

ip_once() {
	local t0 t1 t2 tap=pvt-ipbench$1
	t0=$(now_us)
	ip tuntap add dev "$tap" mode tap vnet_hdr user 0
	ip link set "$tap" netns "$NS"
	nsenter --net="$NS" ip link set "$tap" master pvbr0 address fe:00:00:00:00:01 up
	t1=$(now_us)
	nsenter --net="$NS" ip link del "$tap"
	t2=$(now_us)
	echo "$((t1 - t0)) $((t2 - t1))"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

: >"$D/lib"; : >"$D/ip"
for i in $(seq 1 "$N"); do
	$H bench-once bench "bench-pod-$i" >>"$D/lib"
	ip_once $((i % 10)) >>"$D/ip"
done
ls=$(cut -d' ' -f1 "$D/lib" | median); lt=$(cut -d' ' -f2 "$D/lib" | median)
lf=$(cut -d' ' -f3 "$D/lib" | median)
lp=$(cut -d' ' -f4 "$D/lib" | median); la=$(cut -d' ' -f5 "$D/lib" | median)
is=$(cut -d' ' -f1 "$D/ip" | median); it=$(cut -d' ' -f2 "$D/ip" | median)
echo "runs: $N (interleaved); medians in microseconds"
printf '%-44s %8s\n' "library setup (lease+tap+move+enslave/up)" "$ls" \
	"  of which prepare (lease + persistent tap)" "$lp" \
	"  of which attach (move + enslave/up)" "$la" \
	"library teardown on the critical path" "$lt" \
	"library flush (off the critical path)" "$lf" \
	"ip setup (tuntap add, set netns, master/up)" "$is" \
	"ip teardown (ip link del)" "$it"
awk -v ls="$ls" -v lt="$lt" -v lf="$lf" -v is="$is" -v it="$it" 'BEGIN {
	printf "ratio library/ip, setup:                      %.3f\n", ls / is
	printf "ratio library/ip, setup + teardown:           %.3f\n", (ls + lt) / (is + it)
	printf "ratio library/ip, setup + teardown + flush:   %.3f\n", (ls + lt + lf) / (is + it)
}'
echo "per-link deletion, $LINKS taps enslaved to the bridge:"
$H bench-del bench "$LINKS" | sed 's/^/  /'

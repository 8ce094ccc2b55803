#!/bin/bash
# Image pulls from a loopback registry (Debian's docker-registry, in this
# benchmark's own network namespace), a ~100 MB image (busybox + 3 layers
# of random data, gzip):
#   1. `podvm image pull` into an empty store against `skopeo copy
#      docker://... oci:DIR` of the same image, interleaved, N rounds:
#      medians and the ratio podvm/skopeo (goal <= 1.0);
#   2. peak RSS of `podvm image pull` (goal <= 32 MiB);
#   3. `podvm run` to its first container running, cold (image not in the
#      store: pull + erofs conversion + boot) beside warm (boot only).
#
#   N=3 BIG_MB=100 bash tests/bench/bench_image_pull.sh
set -eu
cd "$(dirname "$0")/../.."
. tests/registry/registry_lib.sh
reg_netns "$@"
N=${N:-3}
export BIG_MB=${BIG_MB:-100}
PODVM=$(pwd)/${PODVM:-build/podvm}
TMP=$(mktemp -d /tmp/podvm-bench-pull.XXXXXX)
export PODVM_RUN_DIR=/run/podvm-bench-$$
trap 'set +e; reg_stop_all; rm -rf "$TMP" "$PODVM_RUN_DIR"' EXIT
REF=127.0.0.1:5000/bench/big:1

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

reg_images
reg_start bench 5000
reg_push big 5000 bench/big:1 --format v2s2
size=$(skopeo inspect --raw --tls-verify=false "docker://$REF" |
	python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]))')
echo "image: $REF, $((size / 1000000)) MB compressed in 4 layers"

: >"$TMP/podvm.ms"; : >"$TMP/skopeo.ms"; : >"$TMP/rss.kb"
for i in $(seq 1 "$N"); do
	rm -rf "$TMP/sk" "$TMP/state"
	sync
	t0=$(now_ms)
	skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$TMP/sk:big" >/dev/null
	echo $(( $(now_ms) - t0 )) >>"$TMP/skopeo.ms"
	sync
	t0=$(now_ms)
	/usr/bin/time -f %M -o "$TMP/rss.1" "$PODVM" --state-dir "$TMP/state" image pull -q "$REF" >/dev/null
	echo $(( $(now_ms) - t0 )) >>"$TMP/podvm.ms"
	cat "$TMP/rss.1" >>"$TMP/rss.kb"
done
p=$(median <"$TMP/podvm.ms"); s=$(median <"$TMP/skopeo.ms"); rss=$(sort -n "$TMP/rss.kb" | tail -1)
printf 'pull   podvm image pull: %s ms   skopeo copy: %s ms   ratio podvm/skopeo: %s   (median of %s; goal <= 1.0)\n' \
	"$p" "$s" "$(awk -v a="$p" -v b="$s" 'BEGIN {printf "%.2f", a / b}')" "$N"
printf 'rss    podvm image pull peak RSS: %.1f MiB   (max of %s; goal <= 32 MiB)\n' \
	"$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$N"

# Cold vs warm: from `podvm run` to "containers started" (--verbose).
cat >"$TMP/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: bench}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $REF
    command: ["true"]
Y
started_ms() {  # wall ms from exec to the first container running
	local t0 t1
	t0=$(now_ms)
	"$PODVM" --state-dir "$TMP/state" run --verbose "$TMP/pod.yaml" 2>&1 >/dev/null |
		while IFS= read -r line; do
			case $line in *"containers started"*) echo $(( $(now_ms) - t0 )) ;; esac
		done
}
: >"$TMP/cold.ms"; : >"$TMP/warm.ms"
for i in $(seq 1 "$N"); do
	rm -rf "$TMP/state"
	started_ms >>"$TMP/cold.ms"
	started_ms >>"$TMP/warm.ms"
done
c=$(median <"$TMP/cold.ms"); w=$(median <"$TMP/warm.ms")
printf 'run    to first container running: cold %s ms   warm %s ms   ratio cold/warm: %s   (median of %s)\n' \
	"$c" "$w" "$(awk -v a="$c" -v b="$w" 'BEGIN {printf "%.2f", a / b}')" "$N"

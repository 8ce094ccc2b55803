# Sourced by l1-test.sh inside the first-level VM: podvmd on a real
# /dev/kvm, driven with the podvm client (create, Running, logs, delete).
DSOCK=/run/podvmd-l1.sock
DLOG=$W/podvmd.log

# pv ARGS...: the podvm client, output in $W/pv.out and $W/pv.err, status in $RC
pv() {
	timeout 120 "$PODVM" "$@" >"$W/pv.out" 2>"$W/pv.err"
	RC=$?
}

daemon_checks() {
	local dpid phase="" t0
	"$PODVMD" --state-dir "$PODVM_STATE_DIR" --run-dir "$PODVM_RUN_DIR" \
		--socket "$DSOCK" --guest-dir $SRC/build/guest >"$DLOG" 2>&1 &
	dpid=$!
	for _ in $(seq 1 300); do
		[ -S "$DSOCK" ] && break
		kill -0 $dpid 2>/dev/null || break
		sleep 0.2
	done
	if [ ! -S "$DSOCK" ]; then
		fail "podvmd did not start: $(tail -n1 "$DLOG")"
		kill -9 $dpid 2>/dev/null; wait $dpid 2>/dev/null
		return
	fi
	ok "podvmd started"
	check "podvmd: picked KVM by itself" '"podvmd ready".*"accel": ?"kvm"' "$DLOG"
	export PODVM_SOCKET=$DSOCK
	t0=$(secs)
	pv apply -f $SRC/tests/kvm/serve.yaml
	[ $RC = 0 ] && ok "podvmd: pod created" || fail "podvmd: apply exited $RC: $(cat "$W/pv.err")"
	for _ in $(seq 1 600); do
		pv get pod serve -o json
		phase=$(sed -n 's/^ *"phase": *"\([A-Za-z]*\)".*/\1/p' "$W/pv.out" | head -n1)
		case $phase in Running|Succeeded|Failed) break ;; esac
		sleep 0.5
	done
	if [ "$phase" = Running ]; then
		ok "podvmd: pod Running after $(awk -v a="$t0" -v b="$(secs)" 'BEGIN {printf "%.1f", b - a}')s"
	else
		fail "podvmd: pod phase '$phase', want Running"
	fi
	for _ in $(seq 1 100); do
		pv logs serve
		grep -q '^serving on ' "$W/pv.out" && break
		sleep 0.2
	done
	check "podvmd: logs" '^serving on ' "$W/pv.out"
	pv delete pod serve
	[ $RC = 0 ] && ok "podvmd: pod deleted" || fail "podvmd: delete exited $RC: $(cat "$W/pv.err")"
	pv get pod serve
	[ $RC = 1 ] && ok "podvmd: deleted pod is gone" || fail "podvmd: get after delete exited $RC"
	unset PODVM_SOCKET
	kill -TERM $dpid 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 $dpid 2>/dev/null || break
		sleep 0.2
	done
	kill -9 $dpid 2>/dev/null
	wait $dpid 2>/dev/null
	rm -f "$DSOCK"
}

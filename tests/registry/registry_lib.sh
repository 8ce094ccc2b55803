# Registries for the tests (bash, sourced after tests/integration/lib.sh):
# Debian's docker-registry (distribution v2) on loopback inside the test's
# own network namespace, filled with skopeo from images the tests build
# (tests/registry/mkimages.sh). Nothing listens outside that namespace.
#
#   reg_netns "$@"             first line of a test: re-exec in a new netns
#   reg_images                 build the OCI layout once: $REG_LAYOUT
#   reg_start NAME PORT [basic|token]   a registry; $REG_USER/$REG_PASS
#   reg_push LAYOUT_TAG PORT REPO:TAG [skopeo copy options...]
#   reg_fake PORT              tests/registry/fake_registry.py on $REG_LAYOUT
#   reg_stop_all               (also on exit)
REG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REG_USER=podvm-test
REG_PASS=s3cret-pass-$$
REG_PIDS=()

# A private network namespace (only lo) and mount namespace, whose
# /etc/hosts also names reg.test (127.0.0.1): a registry that is not
# spelled as loopback, for --insecure-registry.
reg_netns() {
	if [ -z "${PODVM_TEST_NETNS:-}" ]; then
		exec env PODVM_TEST_NETNS=1 unshare -n -m --propagation private bash "$0" "$@"
	fi
	ip link set lo up
	local h
	h=$(mktemp /tmp/podvm-hosts.XXXXXX)
	printf '127.0.0.1 localhost reg.test\n::1 localhost\n' > "$h"
	mount --bind "$h" /etc/hosts
	rm -f "$h"   # the mount keeps it alive for this namespace only
}

reg_stop_all() {
	local p
	for p in "${REG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${REG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	REG_PIDS=()
}

reg_images() {
	REG_LAYOUT=$TMP/layout
	[ -d "$REG_LAYOUT" ] || bash "$REG_HERE/mkimages.sh" "$REG_LAYOUT" >"$TMP/mkimages.log" 2>&1 ||
		{ cat "$TMP/mkimages.log"; return 1; }
}

# Wait until http://127.0.0.1:PORT/ answers anything.
reg_wait() {
	local i
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "registry on port $1 did not start" >&2
	return 1
}

reg_start() {
	local name=$1 port=$2 mode=${3:-none} d=$TMP/reg-$1
	mkdir -p "$d/data"
	{
		printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
		printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$d/data"
		printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
	} > "$d/config.yml"
	case $mode in
	basic)
		python3 -W ignore -c 'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
			"$REG_USER" "$REG_PASS" > "$d/htpasswd"
		printf 'auth:\n  htpasswd:\n    realm: podvm-test\n    path: %s\n' "$d/htpasswd" >> "$d/config.yml"
		;;
	token)
		local tport=$((port + 1))
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/token.key" -out "$d/token.crt" \
			-days 1 -subj /CN=podvm-test-token 2>/dev/null
		printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: podvm-test\n    issuer: podvm-test-issuer\n    rootcertbundle: %s\n' \
			"$tport" "$d/token.crt" >> "$d/config.yml"
		python3 "$REG_HERE/token_server.py" "$tport" "$d/token.key" "$d/token.crt" \
			"$REG_USER" "$REG_PASS" podvm-test podvm-test-issuer 2>"$d/token.log" &
		REG_PIDS+=($!)
		reg_wait "$tport"
		;;
	esac
	docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 &
	REG_PIDS+=($!)
	reg_wait "$port"
}

reg_fake() {
	python3 "$REG_HERE/fake_registry.py" "$1" "$REG_LAYOUT" 2>"$TMP/fake-$1.log" &
	REG_PIDS+=($!)
	reg_wait "$1"
}

reg_push() {
	local tag=$1 port=$2 dest=$3; shift 3
	local creds=()
	[ -n "${REG_PUSH_AUTH:-}" ] && creds=(--dest-creds "$REG_USER:$REG_PASS")
	skopeo copy -q --dest-tls-verify=false "${creds[@]}" "$@" \
		"oci:$REG_LAYOUT:$tag" "docker://127.0.0.1:$port/$dest" >"$TMP/skopeo.log" 2>&1 ||
		{ echo "skopeo push of $tag to $dest failed:" >&2; cat "$TMP/skopeo.log" >&2; return 1; }
}

# The registry's own copy of a blob (for corrupting it on purpose).
reg_blob_file() {   # reg_blob_file NAME DIGEST
	local h=${2#sha256:}
	echo "$TMP/reg-$1/data/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data"
}

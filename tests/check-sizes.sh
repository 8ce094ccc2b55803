#!/bin/sh
# House sizes: no C source over 600 lines, no function over 80 lines.
# Split by responsibility when a file or function grows past them; only
# generated tables may be listed below, each with the reason.
#
# A function is measured from the first line of its signature (the
# unindented line above its opening brace) to its closing brace, both
# counted: the house style puts a function's '{' and '}' alone in column 0.
#   usage: check-sizes.sh [REPO_DIR]   (prints every offender, exits 1)
set -eu
cd "${1:-.}"
MAX_FILE=600
MAX_FUNC=80

# Allow-list: "path" or "path:function", generated tables only.
# (none today)
ALLOW=""

allowed() {
	for a in $ALLOW; do [ "$a" = "$1" ] && return 0; done
	return 1
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# tracked and new (not ignored) sources; without git, every C file
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null ||
	find . -name '*.[ch]' ! -path './build/*' | sed 's|^\./||')

for f in $files; do
	n=$(wc -l < "$f")
	if [ "$n" -gt "$MAX_FILE" ] && ! allowed "$f"; then
		echo "file $f: $n lines (max $MAX_FILE)" >> "$tmp"
	fi
	awk -v f="$f" -v max="$MAX_FUNC" '
		{ line[NR] = $0 }
		/^\{[ \t]*(\/[*\/].*)?$/ {
			s = NR - 1
			while (s > 1 && line[s] ~ /^[ \t]/) s--
			start = s; name = line[s]
			if (match(name, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
				name = substr(name, RSTART, RLENGTH)
				sub(/[ \t]*\($/, "", name)
			}
			infn = 1
		}
		infn && /^\}/ {
			len = NR - start + 1
			if (len > max) printf "%s:%s %d\n", f, name, len
			infn = 0
		}' "$f" | while read -r fn len; do
		allowed "$fn" && continue
		echo "function $fn: $len lines (max $MAX_FUNC)" >> "$tmp"
	done
done

if [ -s "$tmp" ]; then
	echo "sizes: over the house limits:" >&2
	sed 's/^/  /' "$tmp" >&2
	exit 1
fi
echo "sizes: no file over $MAX_FILE lines, no function over $MAX_FUNC"

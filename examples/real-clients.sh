#!/usr/bin/env bash
# Runs wschaos conform against every client in examples/ that has a
# conform.args file: real libraries from npm and the seeds' clients, each
# through its adapter, under its profile, with its known upstream bugs
# named by --expect-fail. Exits non-zero if any run does not end as
# expected. Runs JOBS clients at once (2 by default: each runs on the real
# clock, and a loaded machine makes timers late).
#
# conform.args holds conform's arguments, one per line, unquoted; lines
# starting with # are comments. The adapter is always DIR/adapter.js.
# A client whose profile some files of the scenario library are written
# for also has library.args: wschaos run's arguments for the library, its
# known bugs among the files named by --expect-fail.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${REPORTS:-conform-reports/real}
bin=$out/wschaos
jobs=${JOBS:-2}
mkdir -p "$out"
go build -o "$bin" ./cmd/wschaos || exit 2

run_one() {
	local dir=$1 name log start code
	name=$(basename "$dir")
	log=$out/$name.log
	start=$(date +%s)
	if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && npm run build --if-present) >"$log" 2>&1; then
		echo "$name: npm ci or build failed (see $log)"
		return 1
	fi
	local args=()
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		args+=("$line")
	done <"$dir/conform.args"
	"$bin" conform "${args[@]}" --adapter "node $dir/adapter.js" --report-dir "$out/$name" >>"$log" 2>&1
	code=$?
	printf '%-24s exit %d in %3ds: %s\n' "$name" "$code" "$(($(date +%s) - start))" "$(grep -E 'scenarios passed' "$log" | tail -1)"
	if [ -f "$dir/library.args" ]; then
		start=$(date +%s)
		args=()
		while IFS= read -r line; do
			case $line in '' | '#'*) continue ;; esac
			args+=("$line")
		done <"$dir/library.args"
		echo "== the scenario library:" >>"$log"
		# The files written for one profile: those for every profile are
		# conform's, run above.
		local files
		mapfile -t files < <(grep -l '^# profile:' scenarios/library/*.txt)
		"$bin" run "${files[@]}" "${args[@]}" --adapter "node $dir/adapter.js" --report-dir "$out/$name-library" >>"$log" 2>&1
		local lcode=$?
		printf '%-24s exit %d in %3ds: %s\n' "$name (library)" "$lcode" "$(($(date +%s) - start))" "$(grep -E 'scenarios passed' "$log" | tail -1)"
		[ "$code" = 0 ] && code=$lcode
	fi
	return "$code"
}

names=()
for args in examples/*/conform.args; do
	dir=$(dirname "$args")
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
	name=$(basename "$dir")
	names+=("$name")
	(run_one "$dir"; echo $? >"$out/$name.code") &
done
wait
failed=0
for name in "${names[@]}"; do
	if [ "$(cat "$out/$name.code" 2>/dev/null)" != 0 ]; then
		failed=$((failed + 1))
		echo "== $name did not end as expected; its log:"
		cat "$out/$name.log"
	fi
done
if [ "$failed" -gt 0 ]; then
	echo "$failed of ${#names[@]} clients did not end as expected"
	exit 1
fi
echo "all ${#names[@]} clients ended as expected (reports in $out)"

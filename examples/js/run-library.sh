#!/usr/bin/env bash
# The scenario library through the example client, under the queue profile:
# every file that applies passes, and each deliberate bug fails exactly the
# files about it (--expect-fail: any other failure, or an expected failure
# that passes, fails the run). The four runs go at once: each mostly waits
# on the real clock.
#
# usage: examples/js/run-library.sh WSCHAOS_BINARY REPORT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: run-library.sh WSCHAOS_BINARY REPORT_DIR}
reports=${2:?usage: run-library.sh WSCHAOS_BINARY REPORT_DIR}
mkdir -p "$reports"

# bug → the files about it, each "FILE: why it fails".
declare -A expect=(
	[none]=""
	[no-reset]="reset-on-open: the failure count is not reset on open"
	[queue-overtake]="send-overtakes-queue: the connected listeners send before the queue is flushed"
	[no-pong-check]="silent-server: an unanswered ping never closes the socket"
)

run() {
	local bug=$1 args=()
	[ -n "${expect[$bug]}" ] && args=(--expect-fail "${expect[$bug]}")
	local env=()
	[ "$bug" != none ] && env=(WSCHAOS_JS_BUG="$bug")
	env "${env[@]}" "$bin" run scenarios/library --profile queue --adapter "node examples/js/adapter.js" \
		--report-dir "$reports/library-$bug" "${args[@]}" >"$reports/library-$bug.log" 2>&1
}

declare -A pids
start=$(date +%s)
for bug in "${!expect[@]}"; do
	run "$bug" &
	pids[$bug]=$!
done
failed=0
for bug in none no-reset queue-overtake no-pong-check; do
	if wait "${pids[$bug]}"; then
		echo "== library, bug $bug: as expected ($(tail -n 1 "$reports/library-$bug.log" | tr -d '\n'))"
		grep -E "passed|failed as expected" "$reports/library-$bug.log" | tail -n 1
	else
		echo "== library, bug $bug: NOT as expected"
		cat "$reports/library-$bug.log"
		failed=1
	fi
done
echo "library through the example: $(( $(date +%s) - start )) s"
exit $failed

#!/usr/bin/env bash
# The scenario library through the example client, under the queue profile
# (and queue-policy.yaml for the bugs of the cap, the reset, fatal codes and
# the close code reported on the next connect):
# every file that applies passes, and each deliberate bug fails exactly the
# files about it (--expect-fail: any other failure, or an expected failure
# that passes, fails the run); a bug that kills the client must kill its
# adapter in exactly its file. JOBS runs go at once (8 by default): each
# mostly waits on the real clock, but all sixteen together load two cores
# enough to widen the calibrated late margins past a second, and a bug
# that only makes a wait late can then pass unseen.
#
# usage: [JOBS=N] examples/js/run-library.sh WSCHAOS_BINARY REPORT_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: run-library.sh WSCHAOS_BINARY REPORT_DIR}
reports=${2:?usage: run-library.sh WSCHAOS_BINARY REPORT_DIR}
mkdir -p "$reports"

# bug → the files about it, each "FILE: why it fails", separated by "|".
declare -A expect=(
	[none]=""
	[no-reset]="reset-on-open: the failure count is not reset on open|reset-on-open-counts-again: the failure count is not reset on open"
	[queue-overtake]="queue-order: the connected listeners send before the queue is flushed"
	[no-pong-check]="dead-link: an unanswered ping never closes the socket|dead-link-retry-window: the dead link is never noticed, so no retry comes|two-sockets-bound: the dead link is never noticed, so no second socket comes"
	[dead-link-no-wait]="dead-link-retry-window: a dead link is redialed at once"
	[dead-socket-open]="two-sockets-bound: the dead socket is left open beside the new one"
	[close-keeps-retry]="no-dial-after-close-waiting: close() leaves the retry armed"
	[close-reconnects]="no-dial-after-close-open: close() on an open socket is retried|close: close() on an open socket is retried"
	[close-only-open]="close-while-connecting: close() leaves the handshake running, and its timeout is retried"
	[no-connect-timeout]="stalled-handshake: a stalled handshake is waited for forever"
	[timeout-dies]=""
	[slow-growth]="queue-gives-up: the waits grow by 1.5, not 2|reset-on-open: the waits before the accept grow by 1.5, not 2|reset-on-open-counts-again: the waits grow by 1.5, not 2|backoff: the waits grow by 1.5, not 2"
	# Under queue-policy.yaml (a cap, a reset after uptime, fatal codes, the
	# close code reported on the next connect URL).
	[policy]=""
	[no-cap]="backoff: the waits grow past the cap|cap-held: the waits grow past the cap"
	[reset-before-uptime]="reset-after-uptime: the count starts over on an open that did not stay up"
	[retries-fatal]="fatal-close: a fatal close code is retried"
	[keeps-code-after-open]="error-code-after-refusal: an open does not forget the refusals' 1006"
	[reports-last-code]="error-code-first-since-open: the refusals' 1006 replaces the server's 1001, the first code since the open"
)
# bug → the profile its run plays, when not queue: the features these bugs
# break are queue-policy.yaml's. "policy" is the correct client under it.
policy=examples/profiles/queue-policy.yaml
declare -A profile_of=([policy]=$policy [no-cap]=$policy [reset-before-uptime]=$policy [retries-fatal]=$policy
	[keeps-code-after-open]=$policy [reports-last-code]=$policy)
# bug → the files whose adapter must die of it, separated by "|": the run
# exits 3 (the adapter failed), each of those files fails saying so, and
# every other file passes.
declare -A dies=(
	[timeout-dies]="stalled-handshake"
)
bugs=(none no-reset queue-overtake no-pong-check dead-link-no-wait dead-socket-open close-keeps-retry
	close-reconnects close-only-open no-connect-timeout timeout-dies slow-growth
	policy no-cap reset-before-uptime retries-fatal keeps-code-after-open reports-last-code)

run() {
	local bug=$1 args=()
	local files
	IFS='|' read -ra files <<<"${expect[$bug]:-}"
	for f in "${files[@]}"; do
		args+=(--expect-fail "$f")
	done
	local env=()
	[ "$bug" != none ] && [ "$bug" != policy ] && env=(WSCHAOS_JS_BUG="$bug")
	env "${env[@]}" "$bin" run scenarios/library --profile "${profile_of[$bug]:-queue}" --adapter "node examples/js/adapter.js" \
		--report-dir "$reports/library-$bug" "${args[@]}" >"$reports/library-$bug.log" 2>&1
	echo $? >"$reports/library-$bug.code"
}

jobs=${JOBS:-8}
start=$(date +%s)
for bug in "${bugs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	rm -f "$reports/library-$bug.code"
	run "$bug" &
done
wait
failed=0
recap=""
for bug in "${bugs[@]}"; do
	code=$(cat "$reports/library-$bug.code" 2>/dev/null || echo "none: the run did not end")
	log="$reports/library-$bug.log"
	if [ -n "${dies[$bug]:-}" ]; then
		# Exactly these files FAIL, each naming the death.
		want_dead=$(tr '|' '\n' <<<"${dies[$bug]}" | sort | tr '\n' ' ')
		got_dead=$(grep -E '^\[[0-9]+/[0-9]+\] \S+ +FAIL' "$log" | awk '{print $2}' | sort | tr '\n' ' ')
		if [ "$code" = 3 ] && [ "$got_dead" = "$want_dead" ] && grep -q "the client or its adapter died" "$log"; then
			echo "== library, bug $bug: as expected (the adapter died in ${dies[$bug]}, exit 3)"
		else
			echo "== library, bug $bug: NOT as expected (exit $code; want 3, with only ${dies[$bug]} failing, its adapter dead; failed: $got_dead)"
			cat "$log"
			failed=1
			recap+="== bug $bug, not as expected: $(grep -E '^wschaos:|INTERRUPTED' "$log")"$'\n'
		fi
		continue
	fi
	if [ "$code" = 0 ]; then
		echo "== library, bug $bug: as expected ($(tail -n 1 "$log" | tr -d '\n'))"
		grep -E "passed|failed as expected" "$log" | tail -n 1
	else
		echo "== library, bug $bug: NOT as expected"
		cat "$reports/library-$bug.log"
		failed=1
		# The files that went wrong, again at the end where a truncated
		# log still shows them.
		recap+="== bug $bug, not as expected:"$'\n'"$(grep -E -A3 '^\[[0-9]+/[0-9]+\] \S+ +(FAIL|XPASS|XFAIL)' "$log")"$'\n'
	fi
done
[ -n "$recap" ] && printf '%s' "$recap"
echo "library through the example: $(( $(date +%s) - start )) s"
exit $failed

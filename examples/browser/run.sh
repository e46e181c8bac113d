#!/usr/bin/env bash
# The browser example as CI runs it: install and build the page's client,
# test the adapter's protocol plumbing, then, in Debian's Chromium: wschaos conform must pass, and so must every
# file of the scenario library that applies; the deliberate bug no-reset
# must fail conform's reset-on-open and nothing else, queue-overtake the
# library's queue-order, and dead-socket-open its two-sockets-bound (--expect-fail: any other failure, or
# the expected one passing, fails the run). Needs Node.js 20 and chromium
# (or WSCHAOS_CHROMIUM).
#
# usage: examples/browser/run.sh WSCHAOS_BINARY REPORT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: run.sh WSCHAOS_BINARY REPORT_DIR}
reports=${2:?usage: run.sh WSCHAOS_BINARY REPORT_DIR}
mkdir -p "$reports"
start=$(date +%s)

(cd examples/browser && npm ci --no-audit --no-fund && npm run build && npm test)
adapter="node examples/browser/adapter.js"

echo "== conform, the client in Chromium:"
"$bin" conform --profile queue --adapter "$adapter" --report-dir "$reports/browser" | tee "$reports/browser.log"
# The page answers calibrate with its own timers and dials; a calibration
# that failed would fall back to the fixed margins without failing the run.
grep -q '(calibrated)' "$reports/browser.log" || { echo "the margins were not calibrated in the page"; exit 1; }

echo "== the scenario library through it: every file that applies passes:"
"$bin" run scenarios/library --profile queue --adapter "$adapter" --report-dir "$reports/browser-library"

echo "== the same client with a deliberate bug must fail reset-on-open, and only it:"
WSCHAOS_BROWSER_BUG=no-reset "$bin" conform --profile queue --adapter "$adapter" \
	--only reset-on-open,backoff,queue-order \
	--expect-fail "reset-on-open: the failure count is not reset on open (WSCHAOS_BROWSER_BUG=no-reset)" \
	--report-dir "$reports/browser-no-reset"

echo "== a second bug, in the scenario library's file about it:"
WSCHAOS_BROWSER_BUG=queue-overtake "$bin" run scenarios/library/queue-order.txt --profile queue --adapter "$adapter" \
	--expect-fail "queue-order: the connected listeners send before the queue is flushed (WSCHAOS_BROWSER_BUG=queue-overtake)" \
	--report-dir "$reports/browser-queue-overtake"

echo "== a socket the page cannot drop (no frame of its own) must fail the library's two-sockets-bound:"
WSCHAOS_BROWSER_BUG=dead-socket-open "$bin" run scenarios/library/two-sockets-bound.txt --profile queue --adapter "$adapter" \
	--expect-fail "two-sockets-bound: the dead socket is left open beside the new one (WSCHAOS_BROWSER_BUG=dead-socket-open)" \
	--report-dir "$reports/browser-dead-socket-open" | tee "$reports/browser-dead-socket-open.log"
# For the reason it is about, not another.
grep -q "sockets open at once" "$reports/browser-dead-socket-open.log" || { echo "two-sockets-bound failed, but not on two open sockets"; exit 1; }

echo "browser example: $(($(date +%s) - start)) s"

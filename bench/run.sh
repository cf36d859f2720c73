#!/usr/bin/env bash
# Load-test bin/wampgate with bin/wampbench on loopback and print a markdown
# summary table, then the Go micro-benchmarks of gateway/ and transports/.
#
# Usage: bench/run.sh [BIN_DIR]      (make bench: builds first, then runs this)
#
# It builds nothing. Each transport/serializer combination gets a fresh
# router on free loopback ports (log level warn); the idle scenario gets its
# own fresh router so that its RSS baseline is not inflated by earlier
# scenarios. The whole run is bounded by a watchdog (BENCH_LIMIT seconds,
# default 290) and every step by its own timeout; the router is stopped on
# any exit. Environment:
#   BENCH_QUICK=1     short durations (smoke test, figures not meaningful)
#   BENCH_SESSIONS=N  idle sessions (default 10000, capped by RLIMIT_NOFILE)
#   BENCH_NO_GO=1     skip the Go micro-benchmarks
#   BENCH_KEEP=DIR    keep raw outputs (router logs, JSON lines) in DIR
set -uo pipefail

if [ -z "${WAMPBENCH_WATCHDOG:-}" ]; then
	export WAMPBENCH_WATCHDOG=1
	# --foreground keeps us in the terminal's process group, so that Ctrl-C
	# reaches this script (and the router) directly.
	exec timeout --foreground -s TERM --kill-after=20 "${BENCH_LIMIT:-290}" "$0" "$@"
fi

BIN=$(cd "${1:-bin}" && pwd) || { echo "run.sh: no directory ${1:-bin}" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
for b in wampgate wampbench; do
	[ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b missing; run make build" >&2; exit 2; }
done

# Keep the original stdout and stderr: a trap runs with the redirections of
# whatever step it interrupted.
exec 3>&1 4>&2
OUT=$(mktemp -d "${TMPDIR:-/tmp}/wampbench.XXXXXX")
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
ROUTER_PID=""
CHILD=""
FAILED=0

stop_router() {
	[ -n "$ROUTER_PID" ] || return 0
	kill -TERM "$ROUTER_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$ROUTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$ROUTER_PID" 2>/dev/null
	wait "$ROUTER_PID" 2>/dev/null
	if [ -s "$OUT/router.err" ]; then
		echo "   router log (warn and above, last lines):"
		tail -n 5 "$OUT/router.err" | sed 's/^/   | /'
	fi
	ROUTER_PID=""
}

# shellcheck disable=SC2317 # runs from the EXIT trap
cleanup() {
	# Ignore further signals (Ctrl-C reaches us both from the terminal and
	# through timeout) so that cleanup always completes.
	trap '' INT TERM
	trap - EXIT
	exec 1>&3 2>&4
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	stop_router
	if [ -n "${BENCH_KEEP:-}" ]; then
		mkdir -p "$BENCH_KEEP" && cp -r "$OUT"/. "$BENCH_KEEP"/ && echo "raw outputs kept in $BENCH_KEEP"
	fi
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&4; exit 130' INT TERM

# run LIMIT CMD...: run a step in the background (so that signals reach the
# traps at once) under its own timeout.
run() {
	local limit=$1 rc=0
	shift
	timeout -s TERM --kill-after=5 "$limit" "$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	return $rc
}

# start_router: fresh router on free loopback ports; sets TCP_URL, WS_URL.
start_router() {
	: >"$OUT/router.out"
	: >"$OUT/router.err"
	"$BIN/wampgate" serve --tcp 127.0.0.1:0 --ws 127.0.0.1:0 --unix "" \
		--log-level warn --shutdown-timeout 2s >"$OUT/router.out" 2>"$OUT/router.err" &
	ROUTER_PID=$!
	TCP_URL="" WS_URL=""
	for _ in $(seq 100); do
		TCP_URL=$(sed -n 's/^ *rawsocket *\(tcp:\/\/[^ ]*\).*/\1/p' "$OUT/router.out")
		WS_URL=$(sed -n 's/^ *websocket *\(ws:\/\/[^ ]*\).*/\1/p' "$OUT/router.out")
		[ -n "$TCP_URL" ] && [ -n "$WS_URL" ] && return 0
		kill -0 "$ROUTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "run.sh: router did not start:" >&2
	cat "$OUT/router.out" "$OUT/router.err" >&2
	return 1
}

# bench LIMIT SCENARIO ARGS...: one wampbench run; the human line goes to
# stdout, the JSON line to $RESULTS.
bench() {
	local limit=$1 rc=0
	shift
	run "$limit" "$BIN/wampbench" "$@" --json >"$OUT/step.out" 2>"$OUT/step.err" || rc=$?
	grep -v '^{' "$OUT/step.out" | sed 's/^/   /'
	grep '^{' "$OUT/step.out" >>"$RESULTS"
	if [ $rc -ne 0 ]; then
		FAILED=1
		echo "   FAILED (exit $rc): $*"
		sed 's/^/   ! /' "$OUT/step.err"
	fi
	return 0
}

# set_common TRANSPORT SERIALIZER: the wampbench flags for the running router.
set_common() {
	local url=$TCP_URL
	[ "$1" = ws ] && url=$WS_URL
	echo "-- $url $2 (router pid $ROUTER_PID)"
	common=(--url "$url" --serializer "$2" --router-pid "$ROUTER_PID")
}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	D=1s; DF=1s; W=200ms; HOLD=1s; SESSIONS=${BENCH_SESSIONS:-1000}
else
	D=5s; DF=3s; W=1s; HOLD=5s; SESSIONS=${BENCH_SESSIONS:-10000}
fi
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$SESSIONS" -gt $((HARD - 200)) ]; then
	echo "note: RLIMIT_NOFILE hard limit $HARD; idle sessions reduced to $((HARD - 200))"
	SESSIONS=$((HARD - 200))
fi

echo "== wampbench: $("$BIN/wampgate" version) on $(nproc) CPUs, $(uname -sr), $(date -u +%FT%TZ)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
START=$(date +%s)

for combo in "tcp cbor" "ws json"; do
	read -r tr ser <<<"$combo"
	start_router || { FAILED=1; break; }
	set_common "$tr" "$ser"
	bench 40 rtt "${common[@]}" --duration "$D" --warmup "$W"
	bench 40 calls "${common[@]}" --duration "$D" --warmup "$W" --inflight 256
	for s in 1 100 1000; do
		bench 60 fanout "${common[@]}" --duration "$DF" --subscribers "$s"
	done
	bench 40 joins "${common[@]}" --duration "$DF" --concurrency 8
	stop_router

	start_router || { FAILED=1; break; }
	set_common "$tr" "$ser"
	bench 90 idle "${common[@]}" --sessions "$SESSIONS" --hold "$HOLD"
	stop_router
done

echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg); scenarios took $(($(date +%s) - START))s"
echo
echo "== Summary (markdown, for BENCHMARKS.md)"
echo
"$BIN/wampbench" table "$RESULTS"

if [ "${BENCH_NO_GO:-0}" != 1 ]; then
	echo
	echo "== Go micro-benchmarks: go test -run '^\$' -bench . -benchmem ./gateway/... ./transports/..."
	echo
	cd "$ROOT" || exit 2
	run 150 "$GO" test -run '^$' -bench . -benchmem ./gateway/... ./transports/... 2>&1 ||
		{ echo "run.sh: go benchmarks failed or timed out"; FAILED=1; }
fi
exit $FAILED

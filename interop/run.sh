#!/usr/bin/env bash
# Third-party client interop checks for wampgate: autobahn-js and wampy.js
# (Node) and autobahn-python (asyncio) against a router binary.
#
#   interop/run.sh BIN            e.g. interop/run.sh bin/wampgate (make interop)
#
# Installs Debian's python3-autobahn/cbor2/msgpack/nacl and the pinned npm
# packages of interop/js, starts BIN on free loopback ports (the default
# instance, realm1 and realm2 open to anonymous) and a second instance from
# a config file written here (realm "secure" with ticket, WAMP-CRA and
# cryptosign users), runs every check, stops the default router with SIGTERM
# last and checks that it exits 0. stdout gets one line per case,
# "PASS name", "FAIL name: reason" or "SKIP name: reason" (the client
# library cannot do it; not a failure), then "N skipped" when there were
# any and "N passed, N failed"; diagnostics go to stderr. Exits non-zero if
# any case failed. See interop/README.md.
#
# Environment:
#   WG_INTEROP_SKIP_INSTALL=1   skip apt-get and npm ci (packages already there)
#   WG_INTEROP_LOGS=DIR         copy the logs (router, every client) to DIR

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3 # Debian's python3-autobahn is installed for this one only
APT_PACKAGES=(python3-autobahn python3-cbor2 python3-msgpack python3-nacl)
PROGRAM_TIMEOUT=45  # seconds for one client program (its cases have their own deadlines)
TEST_BUDGET=240     # seconds for all client programs before the shutdown check
T0=$SECONDS

if [[ $# -ne 1 ]]; then
	echo "usage: $0 WAMPGATE_BINARY" >&2
	exit 2
fi
BIN=$1
[[ $BIN == */* ]] || BIN=./$BIN
if [[ ! -x $BIN ]]; then
	echo "interop: $1 is not an executable file" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

log() { echo "interop: $*" >&2; }

# elapsed START: seconds since START (an EPOCHREALTIME value), 1 decimal.
elapsed() {
	local now=${EPOCHREALTIME/[.,]/} start=${1/[.,]/} d
	d=$(((now - start) / 100000))
	echo "$((d / 10)).$((d % 10))"
}

PASSED=0
FAILED=0
SKIPPED=0
pass() {
	echo "PASS $1"
	PASSED=$((PASSED + 1))
}
fail() {
	echo "FAIL $1: $2"
	FAILED=$((FAILED + 1))
}
summary() {
	log "finished in $((SECONDS - T0)) s"
	[[ $SKIPPED -eq 0 ]] || echo "$SKIPPED skipped"
	echo "$PASSED passed, $FAILED failed"
	[[ $FAILED -eq 0 ]]
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wampgate-interop.XXXXXX")
ROUTER_PID=
SECURE_PID=
BG_PIDS=()

# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 3 s. Only
# processes this script started are passed in.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# stop_group PID: a router runs in its own process group (setsid), so a
# wrapper script given as BIN cannot leave a router behind either.
stop_group() {
	[[ -n $1 ]] || return 0
	stop_pid "$1"
	kill -KILL -- "-$1" 2>/dev/null
	return 0
}
stop_router() { stop_group "$ROUTER_PID"; }

cleanup() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		stop_pid "$pid"
	done
	stop_group "$SECURE_PID"
	stop_router
	wait 2>/dev/null
	if [[ -n ${WG_INTEROP_LOGS:-} ]]; then
		mkdir -p "$WG_INTEROP_LOGS" && cp -r "$WORK"/. "$WG_INTEROP_LOGS"/ && log "logs copied to $WG_INTEROP_LOGS"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# tail_to_stderr FILE LABEL: the end of a log, for a failure's context.
tail_to_stderr() {
	[[ -s $1 ]] || return 0
	echo "----- last lines of $2 -----" >&2
	tail -n 25 "$1" >&2
	echo "-----" >&2
}

# ---------------------------------------------------------------- setup

install_packages() {
	local sudo=() log=$WORK/install.log
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120)
	[[ $(id -u) -eq 0 ]] || sudo=(sudo)
	log "apt-get install ${APT_PACKAGES[*]}"
	if ! timeout 300 "${sudo[@]}" "${apt[@]}" install -y "${APT_PACKAGES[@]}" >"$log" 2>&1; then
		log "apt-get install failed; running apt-get update and trying again"
		if ! { timeout 300 "${sudo[@]}" "${apt[@]}" update &&
			timeout 300 "${sudo[@]}" "${apt[@]}" install -y "${APT_PACKAGES[@]}"; } >>"$log" 2>&1; then
			tail_to_stderr "$log" "apt-get"
			if "$PY" -s -c 'import autobahn, cbor2, msgpack, nacl' 2>/dev/null; then
				log "apt-get failed, but $PY already has the packages; going on"
			else
				fail setup/apt-packages "apt-get install ${APT_PACKAGES[*]} failed"
				return 1
			fi
		fi
	fi
	log "npm ci in interop/js"
	# --ignore-scripts: the native accelerators (bufferutil, cbor-extract,
	# msgpackr-extract, ...) are optional, and nothing needs compiling.
	if ! (cd "$HERE/js" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
		tail_to_stderr "$log" "npm ci"
		fail setup/npm-ci "npm ci in interop/js failed"
		return 1
	fi
}

check_toolchain() {
	local v
	if ! v=$("$PY" -s -c 'import autobahn, cbor2, msgpack, nacl; print(autobahn.__version__)' 2>&1); then
		fail setup/python-packages "$PY cannot import autobahn, cbor2, msgpack, nacl: $v"
		return 1
	fi
	log "autobahn-python $v ($PY)"
	# shellcheck disable=SC2016 # a JavaScript template literal, not a shell expansion
	if ! v=$(cd "$HERE/js" && node --input-type=module -e '
		import { readFileSync } from "node:fs";
		await import("autobahn");
		await import("wampy");
		const ver = (p) => JSON.parse(readFileSync(`node_modules/${p}/package.json`)).version;
		console.log(process.version, "autobahn-js", ver("autobahn"), "wampy", ver("wampy"));' 2>&1); then
		fail setup/node-packages "node cannot load autobahn and wampy from interop/js: $v"
		return 1
	fi
	log "node $v"
}

if [[ -z ${WG_INTEROP_SKIP_INSTALL:-} ]]; then
	install_packages || { summary; exit 1; }
fi
check_toolchain || { summary; exit 1; }

# ---------------------------------------------------------------- router

# free_ports N: N distinct free TCP ports on 127.0.0.1.
free_ports() {
	"$PY" -s - "$1" <<-'EOF'
		import socket, sys
		socks = []
		for _ in range(int(sys.argv[1])):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    socks.append(s)
		print(" ".join(str(s.getsockname()[1]) for s in socks))
	EOF
}

# wait_accepting SECONDS PID TARGET...: until every listener accepts
# connections (TARGET is tcp:PORT on 127.0.0.1 or unix:PATH), or PID exits.
wait_accepting() {
	"$PY" -s - "$@" <<-'EOF'
		import os, socket, sys, time
		limit, pid = float(sys.argv[1]), int(sys.argv[2])
		todo = {tuple(t.split(":", 1)) for t in sys.argv[3:]}
		deadline = time.monotonic() + limit
		while todo and time.monotonic() < deadline:
		    try:
		        os.kill(pid, 0)
		    except OSError:
		        sys.exit("router exited")
		    for kind, addr in list(todo):
		        s = socket.socket(socket.AF_INET if kind == "tcp" else socket.AF_UNIX)
		        s.settimeout(0.5)
		        try:
		            s.connect(("127.0.0.1", int(addr)) if kind == "tcp" else addr)
		            todo.discard((kind, addr))
		        except OSError:
		            pass
		        finally:
		            s.close()
		    if todo:
		        time.sleep(0.05)
		if todo:
		    sys.exit("not accepting after %gs: %s" % (limit, sorted(a for _, a in todo)))
	EOF
}

SOCK=$WORK/wampgate.sock
start_router() {
	local attempt why
	for attempt in 1 2 3; do
		read -r WS_PORT TCP_PORT < <(free_ports 2)
		rm -f "$SOCK"
		setsid "$BIN" serve --ws "127.0.0.1:$WS_PORT" --tcp "127.0.0.1:$TCP_PORT" --unix "$SOCK" \
			--realm realm1 --realm realm2 >"$WORK/router.out" 2>"$WORK/router.err" &
		ROUTER_PID=$!
		if why=$(wait_accepting 15 "$ROUTER_PID" "tcp:$WS_PORT" "tcp:$TCP_PORT" "unix:$SOCK" 2>&1); then
			log "router pid $ROUTER_PID: ws 127.0.0.1:$WS_PORT, tcp 127.0.0.1:$TCP_PORT, unix $SOCK"
			return 0
		fi
		log "router start attempt $attempt: $why"
		stop_router
		wait "$ROUTER_PID" 2>/dev/null
		ROUTER_PID=
	done
	tail_to_stderr "$WORK/router.err" "router stderr"
	fail router/start "the router did not accept connections on its three listeners: $why"
	return 1
}

start_router || { summary; exit 1; }
WS_URL="ws://127.0.0.1:$WS_PORT/ws"
TCP_ADDR="127.0.0.1:$TCP_PORT"

# The second instance: realm "secure" refuses anonymous sessions and has one
# user per authentication method, all with role backend, which may do
# everything except call and register under "admin.". The Ed25519 key pair
# for svc-key is made here; its seed goes to the client programs.
SECURE_CONF=$WORK/secure.yaml
start_secure_router() {
	local attempt why keys
	if ! keys=$("$PY" -s -c 'import nacl.signing
k = nacl.signing.SigningKey.generate()
print(k.encode().hex(), k.verify_key.encode().hex())' 2>&1); then
		fail router/secure-start "cannot make an Ed25519 key pair with python3-nacl: $keys"
		return 1
	fi
	read -r KEY_SEED KEY_PUB <<<"$keys"
	for attempt in 1 2 3; do
		read -r SEC_WS_PORT SEC_TCP_PORT < <(free_ports 2)
		cat >"$SECURE_CONF" <<-EOF
			# Written by interop/run.sh for the authentication checks.
			log_level: warn
			listen:
			  - {type: websocket, address: "127.0.0.1:$SEC_WS_PORT", path: /ws}
			  - {type: rawsocket, address: "127.0.0.1:$SEC_TCP_PORT"}
			realms:
			  - name: secure
			    roles:
			      backend:
			        - {uri: "", match: prefix, allow: [call, register, subscribe, publish]}
			        - {uri: "admin.", match: prefix, deny: [call, register]}
			    users:
			      - {authid: svc-ticket, role: backend, ticket: "s3cret"}
			      - {authid: svc-cra, role: backend, wampcra: {secret: "cra-secret"}}
			      - {authid: svc-salted, role: backend, wampcra: {secret: "salt-secret", salt: "salt123", iterations: 1000, keylen: 32}}
			      - {authid: svc-key, role: backend, cryptosign: {pubkeys: ["$KEY_PUB"]}}
		EOF
		if ! why=$("$BIN" check --config "$SECURE_CONF" 2>&1); then
			fail router/secure-config "wampgate check rejected the generated config: $why"
			return 1
		fi
		setsid "$BIN" serve --config "$SECURE_CONF" >"$WORK/secure-router.out" 2>"$WORK/secure-router.err" &
		SECURE_PID=$!
		if why=$(wait_accepting 15 "$SECURE_PID" "tcp:$SEC_WS_PORT" "tcp:$SEC_TCP_PORT" 2>&1); then
			log "secure router pid $SECURE_PID: ws 127.0.0.1:$SEC_WS_PORT, tcp 127.0.0.1:$SEC_TCP_PORT ($SECURE_CONF)"
			return 0
		fi
		log "secure router start attempt $attempt: $why"
		stop_group "$SECURE_PID"
		wait "$SECURE_PID" 2>/dev/null
		SECURE_PID=
	done
	tail_to_stderr "$WORK/secure-router.err" "secure router stderr"
	fail router/secure-start "the second router (--config) did not accept connections: $why"
	return 1
}
SECURE_OK=
start_secure_router && SECURE_OK=1

# ---------------------------------------------------------------- clients

# report LABEL OUT RC: forwards a program's PASS/FAIL/SKIP lines and fails
# every case it planned but did not report.
report() {
	local label=$1 out=$2 rc=$3 why line name planned=() reported=() bad=0
	why="exit code $rc"
	[[ $rc -eq 124 || $rc -eq 137 ]] && why="killed after the ${PROGRAM_TIMEOUT}s program timeout"
	while IFS= read -r line; do
		case $line in
		"PLAN "*) read -ra planned <<<"${line#PLAN }" ;;
		"PASS "*)
			name=${line#PASS }
			reported+=("$name")
			pass "$name"
			;;
		"FAIL "*)
			name=${line#FAIL }
			name=${name%%:*}
			reported+=("$name")
			echo "$line"
			FAILED=$((FAILED + 1))
			bad=1
			;;
		"SKIP "*)
			name=${line#SKIP }
			name=${name%%:*}
			reported+=("$name")
			echo "$line"
			SKIPPED=$((SKIPPED + 1))
			;;
		esac
	done <"$out"
	for name in "${planned[@]}"; do
		if [[ " ${reported[*]} " != *" $name "* ]]; then
			fail "$name" "no result ($label: $why)"
			bad=1
		fi
	done
	if [[ ${#planned[@]} -eq 0 ]]; then
		fail "$label" "the program reported no cases ($why)"
		bad=1
	elif [[ $rc -ne 0 && $bad -eq 0 ]]; then
		fail "$label" "all its cases passed but it ended with $why"
		bad=1
	fi
	return $bad
}

# run LABEL COMMAND...: one client program, bounded by PROGRAM_TIMEOUT and
# by what is left of TEST_BUDGET.
run() {
	local label=$1 slug left rc
	shift
	slug=${label//\//_}
	left=$((TEST_BUDGET - (SECONDS - T_TESTS)))
	if ((left <= 0)); then
		fail "$label" "not run: the ${TEST_BUDGET}s budget for the client programs is spent"
		return
	fi
	((left > PROGRAM_TIMEOUT)) && left=$PROGRAM_TIMEOUT
	local t=$EPOCHREALTIME
	timeout -k 3 "$left" "$@" >"$WORK/$slug.out" 2>"$WORK/$slug.err" </dev/null
	rc=$?
	log "$label: exit code $rc after $(elapsed "$t") s"
	if ! report "$label" "$WORK/$slug.out" "$rc"; then
		tail_to_stderr "$WORK/$slug.err" "$label stderr"
	fi
}

JS=(node)
PYTHON=(env -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 "$PY" -s)

T_TESTS=$SECONDS

run websocket "${JS[@]}" "$HERE/js/handshake.mjs" --ws "$WS_URL"

for ser in json msgpack cbor; do
	run "autobahn-js/ws-$ser" "${JS[@]}" "$HERE/js/autobahn-suite.mjs" --name "ws-$ser" --ws "$WS_URL" --serializer "$ser"
done
run autobahn-js/rs-tcp "${JS[@]}" "$HERE/js/autobahn-suite.mjs" --name rs-tcp --rawsocket "$TCP_ADDR"
run autobahn-js/rs-unix "${JS[@]}" "$HERE/js/autobahn-suite.mjs" --name rs-unix --unix "$SOCK"

for ser in json msgpack cbor; do
	run "wampy/ws-$ser" "${JS[@]}" "$HERE/js/wampy-suite.mjs" --name "ws-$ser" --ws "$WS_URL" --serializer "$ser"
done

run autobahn-python/ws "${PYTHON[@]}" "$HERE/py/suite.py" --name ws --ws "$WS_URL"
run autobahn-python/rs-tcp "${PYTHON[@]}" "$HERE/py/suite.py" --name rs-tcp --tcp "$TCP_ADDR"
run autobahn-python/rs-unix "${PYTHON[@]}" "$HERE/py/suite.py" --name rs-unix --unix "$SOCK"

# Advanced Profile features on the default instance (realm1; the session
# kill cases use realm2, which nothing else uses while they run).
run advanced/autobahn-js "${JS[@]}" "$HERE/js/advanced-autobahn.mjs" --ws "$WS_URL"
run advanced/wampy "${JS[@]}" "$HERE/js/advanced-wampy.mjs" --ws "$WS_URL"
run advanced/autobahn-python "${PYTHON[@]}" "$HERE/py/advanced.py" --ws "$WS_URL" --tcp "$TCP_ADDR"

# Cross-client: peer.py is an autobahn-python callee/publisher on CBOR
# RawSocket that the other clients call.
start_peer() {
	local i
	"${PYTHON[@]}" "$HERE/py/peer.py" --tcp "$TCP_ADDR" --lifetime $((TEST_BUDGET + 60)) >"$WORK/peer.out" 2>"$WORK/peer.err" </dev/null &
	PEER_PID=$!
	BG_PIDS+=("$PEER_PID")
	for ((i = 0; i < 150; i++)); do
		grep -q '^READY$' "$WORK/peer.out" 2>/dev/null && return 0
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
if start_peer; then
	pass cross/python-peer-ready
else
	tail_to_stderr "$WORK/peer.err" "peer.py stderr"
	fail cross/python-peer-ready "peer.py (autobahn-python, CBOR RawSocket) did not join and register within 15 s"
fi
run cross/js "${JS[@]}" "$HERE/js/cross.mjs" --ws "$WS_URL"
run cross/python "${PYTHON[@]}" "$HERE/py/cross.py" --ws "$WS_URL" --tcp "$TCP_ADDR"
stop_pid "$PEER_PID"
wait "$PEER_PID" 2>/dev/null

# Authentication, on the second instance.
if [[ -n $SECURE_OK ]]; then
	SEC_WS_URL="ws://127.0.0.1:$SEC_WS_PORT/ws"
	SEC_TCP_ADDR="127.0.0.1:$SEC_TCP_PORT"
	run auth/js "${JS[@]}" "$HERE/js/auth.mjs" --ws "$SEC_WS_URL" --rawsocket "$SEC_TCP_ADDR" --seed "$KEY_SEED"
	run auth/autobahn-python "${PYTHON[@]}" "$HERE/py/auth.py" --ws "$SEC_WS_URL" --tcp "$SEC_TCP_ADDR" --seed "$KEY_SEED"
	if ! kill -0 "$SECURE_PID" 2>/dev/null; then
		tail_to_stderr "$WORK/secure-router.err" "secure router stderr"
		fail router/secure-still-running "the second router exited during the authentication checks"
	fi
	stop_group "$SECURE_PID"
	wait "$SECURE_PID" 2>/dev/null
	SECURE_PID=
else
	fail auth/js "not run: the second router instance did not start"
	fail auth/autobahn-python "not run: the second router instance did not start"
fi

# ---------------------------------------------------------------- shutdown (last)

# An autobahn-python session on each transport waits for the router's
# GOODBYE; the router gets SIGTERM once they joined and must exit 0.
"${PYTHON[@]}" "$HERE/py/shutdown.py" --ws "$WS_URL" --tcp "$TCP_ADDR" --wait 20 >"$WORK/shutdown.out" 2>"$WORK/shutdown.err" </dev/null &
SHUT_PID=$!
BG_PIDS+=("$SHUT_PID")
for ((i = 0; i < 150; i++)); do
	grep -q '^READY$' "$WORK/shutdown.out" 2>/dev/null && break
	kill -0 "$SHUT_PID" 2>/dev/null || break
	sleep 0.1
done

router_exit=
if ! kill -0 "$ROUTER_PID" 2>/dev/null; then
	wait "$ROUTER_PID"
	router_exit="had already exited with code $? before SIGTERM"
else
	kill -TERM "$ROUTER_PID"
	t_term=$SECONDS
	for ((i = 0; i < 100; i++)); do # 10 s
		kill -0 "$ROUTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$ROUTER_PID" 2>/dev/null; then
		router_exit="still running 10 s after SIGTERM"
	else
		wait "$ROUTER_PID"
		rc=$?
		[[ $rc -eq 0 ]] || router_exit="exited with code $rc after SIGTERM"
		log "router exited $((SECONDS - t_term)) s after SIGTERM with code $rc"
	fi
fi
if [[ -z $router_exit ]]; then
	pass router/exits-0-on-sigterm
	ROUTER_PID=
else
	fail router/exits-0-on-sigterm "$router_exit"
fi

# shutdown.py gives up by itself 20 s after READY.
for ((i = 0; i < 250; i++)); do
	kill -0 "$SHUT_PID" 2>/dev/null || break
	sleep 0.1
done
stop_pid "$SHUT_PID"
wait "$SHUT_PID"
rc=$?
report shutdown "$WORK/shutdown.out" "$rc" || tail_to_stderr "$WORK/shutdown.err" "shutdown.py stderr"

if [[ $FAILED -ne 0 ]]; then
	tail_to_stderr "$WORK/router.err" "router stderr"
fi
summary

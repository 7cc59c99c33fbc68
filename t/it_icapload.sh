#!/bin/bash
# t/it_icapload.sh - bench/icapload against a real c-icap echo service on a free loopback port:
# REQMOD and RESPMOD (plain, with preview, without Allow 204 or with it as Squid sends it,
# multi-connection) must complete the requested count with no error and, for full echoes, get
# every body byte back; a closed port and a server that never answers must end as errors /
# timeouts within the time bound.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BL_DIR=$top_srcdir/bench
. "$BL_DIR/bench-lib.sh"

IL=$top_builddir/bench/icapload
[ -x "$IL" ] || { echo "FAIL: $IL not built"; exit 1; }
CICAP=${CICAP_BIN:-/usr/bin/c-icap}
[ -x "$CICAP" ] || { echo "SKIP: c-icap not installed"; exit 77; }
command -v c-icap-config >/dev/null || [ -r /usr/lib/x86_64-linux-gnu/c_icap/srv_echo.so ] ||
    { echo "SKIP: c-icap echo service not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-icapload.XXXXXX")
hang_pid=
cleanup() {
    [ -n "${BL_CICAP_PID:-}" ] && bl_stop_pid "$BL_CICAP_PID"
    [ -n "$hang_pid" ] && bl_stop_pid "$hang_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

port=$(bl_free_port)
bl_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/var" 16 || exit 1
bl_start_cicap "$tmp/c-icap.conf" "$tmp/var" "$port" || exit 1
head -c 70000 /dev/urandom >"$tmp/70k.bin"
head -c 500 /dev/urandom >"$tmp/500.bin"

# check NAME WANT_EXPR ICAPLOAD-ARGS...: runs icapload --json, then evaluates the Python
# expression WANT_EXPR over its JSON object j; prints input, got and want on failure.
check() {
    local name=$1 want=$2 out
    shift 2
    out=$(timeout 60 "$IL" "$@" --json 2>"$tmp/stderr")
    if ! printf '%s' "$out" | "$BL_PY" -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$want" 2>/dev/null; then
        fail "$name: icapload $* gave: $out $(cat "$tmp/stderr"); want: $want"
    else
        echo "ok: $name"
    fi
}

check "REQMOD 200 requests, all 204" \
    'j["requests"] == 200 and j["status"]["204"] == 200 and j["errors"] == 0' \
    -P "$port" -s echo -m reqmod -n 200 -c 4
check "RESPMOD full echo returns every byte" \
    'j["requests"] == 50 and j["status"]["200"] == 50 and j["body_bytes_received"] == 50 * 70000 and j["body_bytes_sent"] == 50 * 70000' \
    -P "$port" -s echo -f "$tmp/70k.bin" -n 50 -c 2
check "RESPMOD preview 1024: 100 Continue and 204 both complete" \
    'j["requests"] == 40 and j["status"]["other"] == 0 and j["errors"] == 0 and j["timeouts"] == 0' \
    -P "$port" -s echo -f "$tmp/70k.bin" -p 1024 -n 40
check "RESPMOD body inside the preview (ieof)" \
    'j["requests"] == 20 and j["status"]["other"] == 0 and j["errors"] == 0' \
    -P "$port" -s echo -f "$tmp/500.bin" -p 1024 -n 20
check "RESPMOD without Allow 204 echoes" \
    'j["requests"] == 20 and j["status"]["200"] == 20 and j["body_bytes_received"] == 20 * 70000' \
    -P "$port" -s echo -f "$tmp/70k.bin" -a off -n 20
# -F: a list of bodies, sent round-robin: each equally often, every byte echoed.
mkdir -p "$tmp/list"
head -c 2000 /dev/urandom >"$tmp/list/2k.bin"
printf '# comment\n%s application/octet-stream\n../500.bin text/plain\n\n2k.bin image/png http://img.example/a.png\n' \
    "$tmp/70k.bin" >"$tmp/list/bodies.txt"
check "RESPMOD -F list: round-robin, every body equally often, every byte echoed" \
    'j["requests"] == 30 and j["bodies"] == 3 and j["body_bytes"] == 72500 and j["status"]["200"] == 30 and j["body_bytes_sent"] == 10 * 72500 and j["body_bytes_received"] == 10 * 72500' \
    -P "$port" -s echo -F "$tmp/list/bodies.txt" -a off -n 30 -c 3
check "RESPMOD -F list with preview 1024" \
    'j["requests"] == 30 and j["status"]["other"] == 0 and j["errors"] == 0 and j["timeouts"] == 0' \
    -P "$port" -s echo -F "$tmp/list/bodies.txt" -p 1024 -n 30 -c 2
printf '2k.bin text/plain http://a.example/ extra\n' >"$tmp/list/extra.txt"
printf '# nothing\n' >"$tmp/list/empty.txt"
printf 'missing.bin\n' >"$tmp/list/missing.txt"
for args in "-F $tmp/list/extra.txt" "-F $tmp/list/empty.txt" "-F $tmp/list/missing.txt" \
    "-F $tmp/list/bodies.txt -f $tmp/500.bin" "-m reqmod -F $tmp/list/bodies.txt"; do
    # shellcheck disable=SC2086
    "$IL" -P "$port" -n 1 $args >/dev/null 2>&1
    rc=$?
    [ "$rc" = 2 ] || fail "icapload $args: exit status $rc, want 2"
done

check "unknown service counts as other status" \
    'j["requests"] == 5 and j["status"]["other"] == 5 and j["errors"] == 0' \
    -P "$port" -s no_such_service -m reqmod -n 5
check "duration mode reports a rate" \
    'j["requests"] > 0 and j["rps"] > 0 and 0.9 < j["elapsed_s"] < 1.5 and j["latency_ms"]["p50"] > 0' \
    -P "$port" -s echo -m reqmod -d 1

# Nothing listening: errors, exit status 1, ends with its 1 s duration.
closed=$(bl_free_port)
start=$(date +%s)
"$IL" -P "$closed" -d 1 -t 200 >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] || fail "closed port: exit status $rc, want 1"
[ $(($(date +%s) - start)) -le 5 ] || fail "closed port: took over 5 s"

# A server that accepts and never answers: timeouts, and the run still ends on time.
"$BL_PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
end = time.time() + 30
s.settimeout(0.2)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except OSError:
        pass' "$closed" &
hang_pid=$!
bl_wait_port "$closed" 10 "$hang_pid" || fail "hanging server did not start"
check "silent server: timeouts, no answers" \
    'j["requests"] == 0 and j["timeouts"] >= 2 and j["elapsed_s"] < 3' \
    -P "$closed" -m reqmod -c 2 -d 2 -t 300

# A block answer as c-icap sends it, with X-Violations-Found folded over continuation lines
# (RFC 3507 4.10.2 style): one complete 200 response each, not a protocol error.
folded=$(bl_free_port)
"$BL_PY" "$top_srcdir/t/icap_fake.py" "$folded" folded &
folded_pid=$!
bl_wait_port "$folded" 10 "$folded_pid" || fail "folded-header server did not start"
check "folded X-Violations-Found header: complete 200 answers" \
    'j["requests"] == 10 and j["status"]["200"] == 10 and j["errors"] == 0' \
    -P "$folded" -s webwarden_scan -f "$tmp/500.bin" -n 10
bl_stop_pid "$folded_pid"

# -a squid: "Allow: 204" only where Squid sends it (REQMOD, a body under 64 KiB). This server
# answers 204 to a request that allows it and a 200 page to one that does not.
allow=$(bl_free_port)
"$BL_PY" "$top_srcdir/t/icap_fake.py" "$allow" allow204 &
allow_pid=$!
bl_wait_port "$allow" 10 "$allow_pid" || fail "Allow-204 server did not start"
head -c 65535 /dev/urandom >"$tmp/65535.bin"
head -c 65536 /dev/urandom >"$tmp/65536.bin"
check "-a squid: a 65,535-byte body allows 204" \
    'j["allow204"] == "squid" and j["requests"] == 10 and j["status"]["204"] == 10' \
    -P "$allow" -s x -f "$tmp/65535.bin" -a squid -n 10
check "-a squid: a 65,536-byte body does not" \
    'j["requests"] == 10 and j["status"]["200"] == 10' \
    -P "$allow" -s x -f "$tmp/65536.bin" -a squid -n 10
check "-a on: the 65,536-byte body allows 204" \
    'j["requests"] == 10 and j["status"]["204"] == 10' \
    -P "$allow" -s x -f "$tmp/65536.bin" -a on -n 10
bl_stop_pid "$allow_pid"

# Bad usage is refused with status 2.
for args in "-c 0" "-c 257" "-d 601" "-i 192.0.2.1" "-m respmod" "-p 10" "-a maybe"; do
    # shellcheck disable=SC2086
    "$IL" $args >/dev/null 2>&1
    rc=$?
    [ "$rc" = 2 ] || fail "icapload $args: exit status $rc, want 2"
done

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all icapload checks passed"

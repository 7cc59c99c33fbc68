#!/bin/sh
# t/it_send.sh - body bytes written by webwarden_scan itself in ICAP chunks of any size
# (scan.direct_send, modules/ww_cicap.c ww_cicap_send_chunk) instead of c-icap's rounds of 4,064
# bytes, in batches while the body is read and all of the rest after it: every answer
# byte-identical and well framed on a kept-alive connection
# (t/icap_body.py), for bodies held whole, streamed, held by hold_all in memory and spooled past
# hold_memory (read back 256 KiB a chunk); a client that reads late, and one that goes away mid-body (the next connection
# is served). The largest chunk tells which path wrote: more than 4,064 bytes only with
# direct_send on; with direct_send = off every answer is c-icap's and the same bytes.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "${PYTHON3:-python3}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not installed"; exit 1; }
done
PY=${PYTHON3:-python3}

diag() {
    ww_it_tail "c-icap server.log" 30 "$tmp/var/log/server.log"
    ww_it_tail "c-icap access.log" 10 "$tmp/var/log/access.log"
}
ww_it_begin "" diag
mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var"
# One body signature, so the engine is loaded and every body is scanned.
echo "Webwarden.Test.Marker:0:*:5757444952454354" >"$tmp/patterns/test.ndb"

# conf DIRECT: webwarden.conf with scan.direct_send = DIRECT (on, off).
conf() {
    ww_deep_conf "$tmp/webwarden.conf" "$tmp"
    cat >>"$tmp/webwarden.conf" <<EOF
enabled = off
[scan]
hold_memory = 8M
direct_send = $1
EOF
}

# body ARGS...: t/icap_body.py against the running c-icap; its lines go to the test's output.
body() {
    "$PY" "$top_srcdir/t/icap_body.py" --port "$port" "$@" >"$tmp/body.out" 2>&1
    _b_rc=$?
    sed 's/^/    /' "$tmp/body.out"
    return $_b_rc
}

# DebugLevel 3: the info line for a connection that failed mid-body.
WW_DEBUG=3
export WW_DEBUG
start() {
    port=$(ww_free_port)
    ww_it_cicap "$tmp" "$port" || { fail "c-icap did not start"; ww_it_end; }
}

stop() {
    ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    rm -f "$tmp/var/c-icap.runpid"
}

# Sizes around c-icap's 4,064-byte rounds, hold_max (60K: held whole below, streamed above),
# Squid's 64 KiB, and a 1 MiB stream (the window and the kept tail after the body's end).
SIZES="--size 1 --size 4064 --size 4065 --size 12000 --size 61440 --size 61441 --size 65536 --size 90000 --size 1048576"

# --- direct_send = on (the default) ---------------------------------------------------------
conf on
"$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null || fail "webwardenctl init"
start
if body $SIZES --repeat 2 --max-chunk-over 4064; then
    ok "direct_send on: held and streamed bodies byte-identical, well framed, one chunk over 4,064 bytes"
else
    fail "direct_send on: held and streamed bodies"
fi
# A streamed MiB goes out while it is read in batches of 16 KiB (64 chunks and the rest), not in
# c-icap's 259 rounds of 4,064 bytes.
if body --size 1048576 --size 3000000 --repeat 2 --max-chunks 200 --max-chunk-over 16383; then
    ok "direct_send on: streamed bodies go out in batches while read, byte-identical"
else
    fail "direct_send on: streamed bodies in batches"
fi
if body --service 'webwarden_scan?hold_all=on' --size 900000 --size 300000 --max-chunk-over 65536; then
    ok "direct_send on: hold_all bodies in memory go out in chunks over 64 KiB, byte-identical"
else
    fail "direct_send on: hold_all bodies in memory"
fi
# Past hold_memory the body is in a file: read back 256 KiB at a time, each its own chunk.
if body --service 'webwarden_scan?hold_all=on' --size 9000000 --max-chunks 60 --max-chunk-over 65536; then
    ok "direct_send on: a body spooled past hold_memory goes out in 256 KiB chunks, byte-identical"
else
    fail "direct_send on: a spooled body"
fi
# A client that reads nothing for a second, with a small window: the write waits for room.
if body --service 'webwarden_scan?hold_all=on' --size 7000000 --size 90000 --read-delay 1 --max-chunk-over 65536; then
    ok "direct_send on: a client that reads late gets the whole body"
else
    fail "direct_send on: a client that reads late"
fi
# A client that goes away after 100,000 bytes of a 7,000,000-byte answer (more than the socket
# buffers hold: the write fails part way): the next connection is served.
if body --service 'webwarden_scan?hold_all=on' --size 90000 --size 7000000 --close-after 100000; then
    ok "direct_send on: a client gone mid-body; the next connection gets a whole answer"
else
    fail "direct_send on: a client gone mid-body"
fi
kill -0 "$(cat "$tmp/var/c-icap.runpid")" 2>/dev/null && ok "c-icap still running" || fail "c-icap died"
expect_no_grep "no child crashed" "$tmp/var/log/server.log" "rash"
grep -q "the connection failed while sending the body of http://dl.webwarden.test/body-" \
    "$tmp/var/log/server.log" 2>/dev/null &&
    ok "server log: the broken connection is logged with its URL" ||
    fail "server log: no line for the broken connection"
stop

# --- direct_send = off: c-icap writes everything, the same bytes ------------------------------
conf off
start
if body $SIZES --max-chunk-at-most 4064 &&
    body --service 'webwarden_scan?hold_all=on' --size 900000 --max-chunk-at-most 4064; then
    ok "direct_send off: every answer in c-icap's rounds, byte-identical"
else
    fail "direct_send off"
fi
ww_it_end

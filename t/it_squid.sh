#!/bin/sh
# t/it_squid.sh - end to end: curl -> a real Squid on loopback -> c-icap with both Webwarden
# services -> a loopback origin (t/origin.py). Blocked URL, clean downloads byte-identical,
# a download matching a hash signature, an approved URL. Skips (77) only without Squid.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

command -v "${SQUID_BIN:-/usr/sbin/squid}" >/dev/null 2>&1 || { echo "SKIP: squid not installed"; exit 77; }
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "${PYTHON3:-python3}" curl sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not installed"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-squid.XXXXXX")
chmod 755 "$tmp" # Squid runs as `proxy` when started by root and must reach its folder
fails=0
status=1
cleanup() {
    for f in "$tmp/var/squid.runpid" "$tmp/var/c-icap.runpid" "$tmp/origin.pid"; do
        [ -f "$f" ] && ww_stop_pids "$(cat "$f")"
    done
    if [ "$status" != 0 ]; then
        echo "----- squid cache.log (tail)"
        tail -n 30 "$tmp/var/squid/cache.log" 2>/dev/null
        echo "----- squid access.log (tail)"
        tail -n 20 "$tmp/var/squid/access.log" 2>/dev/null
        echo "----- c-icap server.log (tail)"
        tail -n 30 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- c-icap access.log (tail)"
        tail -n 20 "$tmp/var/log/access.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- data ----------------------------------------------------------------------------------------
mkdir -p "$tmp/www/approved" "$tmp/patterns" "$tmp/spool" "$tmp/var"
head -c 20480 /dev/urandom >"$tmp/www/clean20k.bin"
head -c 40960 /dev/urandom >"$tmp/www/clean40k.bin"
head -c 20480 /dev/urandom >"$tmp/www/payload.bin"
head -c 10000 /dev/urandom >"$tmp/www/approved/tool.bin"
echo "$(sha256sum "$tmp/www/payload.bin" | cut -d' ' -f1):20480:Webwarden.Test.Payload" >"$tmp/patterns/test.hsb"
# Large bodies (issue 7, Squid bug 5352): over hold_max they stream while scanned.
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
echo "Webwarden.Test.Eicar.Body:0:*:$(od -An -v -tx1 "$tmp/eicar.com" | tr -d ' \n')" >"$tmp/patterns/test.ndb"
head -c 1048576 /dev/urandom >"$tmp/www/clean1m.bin"
head -c 52428800 /dev/urandom >"$tmp/www/clean50m.bin"
{ head -c 15000 /dev/urandom; cat "$tmp/eicar.com"; head -c 15000 /dev/urandom; } >"$tmp/www/eicar30k.bin"
{ cat "$tmp/eicar.com"; head -c 1048576 /dev/urandom; } >"$tmp/www/eicar_first.bin"
{ head -c 1048576 /dev/urandom; cat "$tmp/eicar.com"; } >"$tmp/www/eicar_last.bin"
# Squid sends Allow: 204 only for a body under 64 KiB (65,535 bytes at most: it keeps a copy).
head -c 65535 /dev/urandom >"$tmp/www/clean64k.bin"
{ head -c $((65535 - $(wc -c <"$tmp/eicar.com"))) /dev/urandom; cat "$tmp/eicar.com"; } >"$tmp/www/eicar_last64k.bin"
{ head -c $((65536 - $(wc -c <"$tmp/eicar.com"))) /dev/urandom; cat "$tmp/eicar.com"; } >"$tmp/www/eicar_last64k1.bin"
printf '127.0.0.1/approved/\n' >"$tmp/approved.txt"
printf 'blocked.webwarden.test\n127.0.0.1/private/\n' >"$tmp/blocked.txt"
cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[lists]
approved = $tmp/approved.txt
blocked = $tmp/blocked.txt
[scan]
patterns_dir = $tmp/patterns
tmp_dir = $tmp/spool
EOF
if [ -x "$top_builddir/src/webwardenctl" ]; then
    "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null || fail "webwardenctl init"
fi

# --- servers ---------------------------------------------------------------------------------------
oport=$(ww_start_origin "$tmp/www" "$tmp/origin.pid") || exit 1
iport=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$iport" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1
sport=$(ww_free_port)
ww_squid_conf "$tmp/squid.conf" "$sport" "$iport" "$tmp/var" || exit 1
ww_start_squid "$tmp/squid.conf" "$tmp/var" "http://blocked.webwarden.test/probe" || exit 1

origin="http://127.0.0.1:$oport"
ctl() { "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" "$@"; }
# Feedback rows queued in the state store (nothing uploads them here: no webwardend).
fb_queued() { ctl --json feedback status 2>/dev/null | "${PYTHON3:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["queued"])' 2>/dev/null || echo -1; }
have_ctl=0
[ -x "$top_builddir/src/webwardenctl" ] && have_ctl=1
[ "$have_ctl" = 1 ] && fb0=$(fb_queued) || fb0=0
# get URL OUT: body into OUT, prints the HTTP status.
get() { curl -s -o "$2" -w '%{http_code}' --max-time 60 -x "http://127.0.0.1:$sport" "$1"; }

# --- blocked URL ---------------------------------------------------------------------------------
code=$(get "http://www.blocked.webwarden.test/some/page?x=<b>" "$tmp/blocked.html")
[ "$code" = 403 ] && ok "blocked host: 403" || fail "blocked host: HTTP $code, want 403"
expect_grep "blocked host: block page" "$tmp/blocked.html" "blocked list: blocked.webwarden.test"
expect_grep "blocked host: URL escaped in page" "$tmp/blocked.html" "x=&lt;b&gt;"
code=$(get "$origin/private/secret.txt" "$tmp/private.html")
[ "$code" = 403 ] && ok "blocked URL prefix on the origin: 403" || fail "blocked prefix: HTTP $code, want 403"

# --- clean downloads -----------------------------------------------------------------------------
# clean64k.bin: 65,535 bytes, over hold_max (60K); Squid sends Allow: 204, so it is held whole
for f in clean20k.bin clean40k.bin clean64k.bin; do
    code=$(get "$origin/$f" "$tmp/got_$f")
    if [ "$code" = 200 ] && cmp -s "$tmp/www/$f" "$tmp/got_$f"; then ok "clean $f: 200, byte-identical"; else
        fail "clean $f: HTTP $code, identical: $(cmp -s "$tmp/www/$f" "$tmp/got_$f" && echo yes || echo no)"
    fi
done
# Chunked (size unknown): Squid cannot allow 204, so the service echoes the body.
code=$(get "$origin/chunked/clean20k.bin" "$tmp/got_chunked.bin")
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean20k.bin" "$tmp/got_chunked.bin"; then
    ok "clean chunked download: 200, byte-identical"
else
    fail "clean chunked download: HTTP $code"
fi

# --- matching download ---------------------------------------------------------------------------
code=$(get "$origin/payload.bin" "$tmp/payload.html")
[ "$code" = 403 ] && ok "matching download: 403" || fail "matching download: HTTP $code, want 403"
expect_grep "matching download: page names the threat" "$tmp/payload.html" "Webwarden.Test.Payload"
if cmp -s "$tmp/www/payload.bin" "$tmp/payload.html"; then fail "matching download: payload delivered"; fi
code=$(get "$origin/chunked/payload.bin" "$tmp/payload_chunked.html")
[ "$code" = 403 ] && ok "matching chunked download: 403" || fail "matching chunked download: HTTP $code, want 403"

# --- a lying length (issue 12 part 4): Content-Length 60000000 (over scan.max_size), 69 bytes of
# EICAR, then the origin closes. Before: passed unscanned at the preview, and the client got the
# bytes. Now the bytes received decide: they are scanned (scan.oversize_action = allow, the
# default, passes only what lies past max_size unscanned): the block page, no EICAR.
cp "$tmp/eicar.com" "$tmp/www/eicar.com"
code=$(get "$origin/lying/eicar.com" "$tmp/lying.html")
[ "$code" = 403 ] && ok "lying Content-Length with EICAR: 403" || fail "lying Content-Length with EICAR: HTTP $code, want 403"
expect_grep "lying Content-Length: the page names the threat" "$tmp/lying.html" "Webwarden.Test.Eicar.Body"
if grep -qF 'EICAR-STANDARD-ANTIVIRUS' "$tmp/lying.html"; then fail "lying Content-Length: EICAR delivered"; fi

# --- large bodies -----------------------------------------------------------------------------------
t0=$(date +%s)
code=$(get "$origin/clean1m.bin" "$tmp/got_clean1m.bin")
t1=$(date +%s)
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean1m.bin" "$tmp/got_clean1m.bin"; then
    ok "clean 1 MiB download: 200, byte-identical in $((t1 - t0)) s"
else
    fail "clean 1 MiB download: HTTP $code after $((t1 - t0)) s"
fi
t0=$(date +%s)
code=$(get "$origin/clean50m.bin" "$tmp/got_clean50m.bin")
t1=$(date +%s)
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean50m.bin" "$tmp/got_clean50m.bin"; then
    ok "clean 50 MiB download: 200, byte-identical in $((t1 - t0)) s"
else
    fail "clean 50 MiB download: HTTP $code after $((t1 - t0)) s, $(wc -c <"$tmp/got_clean50m.bin" 2>/dev/null || echo 0) bytes"
fi
rm -f "$tmp/got_clean50m.bin"
# A client slower than the origin: Squid stops reading the adapted body, webwarden_scan's window
# fills and it takes fewer bytes from c-icap (back-pressure). The download must still complete.
head -c 6291456 /dev/urandom >"$tmp/www/clean6m.bin"
# Streaming never spools: while it runs, no c-icap child has a webwarden-body temp file open.
t0=$(date +%s)
curl -s -o "$tmp/got_clean6m.bin" -w '%{http_code}' --max-time 60 --limit-rate 2M \
    -x "http://127.0.0.1:$sport" "$origin/clean6m.bin" >"$tmp/code6m" &
cpid=$!
cicap_main=$(cat "$tmp/var/c-icap.runpid")
spooled=0
while kill -0 "$cpid" 2>/dev/null; do
    for k in $(awk -v p="$cicap_main" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null); do
        ls -l "/proc/$k/fd" 2>/dev/null | grep -q webwarden-body && spooled=1
    done
    sleep 0.1
done
wait "$cpid"
code=$(cat "$tmp/code6m")
t1=$(date +%s)
[ "$spooled" = 0 ] && ok "streamed 6 MiB body: no spool file" || fail "streamed 6 MiB body was spooled to a temp file"
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean6m.bin" "$tmp/got_clean6m.bin"; then
    ok "clean 6 MiB download to a 2 MB/s client: 200, byte-identical in $((t1 - t0)) s"
else
    fail "clean 6 MiB download to a 2 MB/s client: HTTP $code after $((t1 - t0)) s, $(wc -c <"$tmp/got_clean6m.bin" 2>/dev/null || echo 0) bytes"
fi
# Directly over ICAP: a reader that waits must stall the sender (back-pressure), not fill a spool.
if out=$("${PYTHON3:-python3}" "$top_srcdir/t/icap_slowread.py" "$iport" "$cicap_main" 2>&1); then
    echo "$out"
else
    fail "slow ICAP reader: $out"
fi
code=$(get "$origin/eicar30k.bin" "$tmp/eicar30k.html")
[ "$code" = 403 ] && ok "30 KiB EICAR: 403" || fail "30 KiB EICAR: HTTP $code, want 403"
expect_grep "30 KiB EICAR: page names the threat" "$tmp/eicar30k.html" "Webwarden.Test.Eicar.Body"
code=$(get "$origin/chunked/clean1m.bin" "$tmp/got_clean1m_chunked.bin")
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean1m.bin" "$tmp/got_clean1m_chunked.bin"; then
    ok "clean 1 MiB chunked download: 200, byte-identical"
else
    fail "clean 1 MiB chunked download: HTTP $code"
fi
code=$(get "$origin/eicar_first.bin" "$tmp/eicar_first.html")
[ "$code" = 403 ] && ok "1 MiB with EICAR first: 403" || fail "1 MiB with EICAR first: HTTP $code, want 403"
expect_grep "1 MiB with EICAR first: page names the threat" "$tmp/eicar_first.html" "Webwarden.Test.Eicar.Body"
get "$origin/eicar_last.bin" "$tmp/got_eicar_last.bin" >/dev/null
if cmp -s "$tmp/www/eicar_last.bin" "$tmp/got_eicar_last.bin"; then
    fail "1 MiB with EICAR last: arrived whole"
else
    ok "1 MiB with EICAR last: never arrives whole ($(wc -c <"$tmp/got_eicar_last.bin" 2>/dev/null || echo 0) bytes)"
fi
# Over hold_max (60K) but under 64 KiB: Squid sends Allow: 204 and keeps the body whole, so it is
# held whole here too (scan.hold_204_max): a threat in its last bytes gets the page, not a cut (the
# clean one is among the clean downloads above).
code=$(get "$origin/eicar_last64k.bin" "$tmp/eicar_last64k.html")
[ "$code" = 403 ] && ok "65,535 bytes with EICAR in the last ones: 403" ||
    fail "65,535 bytes with EICAR in the last ones: HTTP $code, want 403 (held whole with Allow: 204)"
expect_grep "65,535 bytes with EICAR last: page names the threat" "$tmp/eicar_last64k.html" "Webwarden.Test.Eicar.Body"
# One byte more and Squid keeps no copy: streamed, the late threat is a cut.
get "$origin/eicar_last64k1.bin" "$tmp/got_eicar_last64k1.bin" >/dev/null
if cmp -s "$tmp/www/eicar_last64k1.bin" "$tmp/got_eicar_last64k1.bin"; then
    fail "64 KiB with EICAR last: arrived whole"
else
    ok "64 KiB with EICAR last (no Allow: 204 from Squid): never arrives whole"
fi

# --- Content-Encoding chains (issue 12, part 2) --------------------------------------------------------
# Every Content-Encoding line, in order, through Squid: each form of EICAR gets the block page; a
# coding nobody can undo is blocked (scan.undecodable_action default), never passed as clean.
{ head -c 6000 /dev/urandom | base64; cat "$tmp/eicar.com"; head -c 6000 /dev/urandom | base64; } >"$tmp/eicar_pad.bin"
for spec in "gzip,gzip:gzip gzip" "identity+gzip:gzip" "gzip+gzip:gzip gzip" "br:br" "zstd:zstd" \
    "deflate,br+zstd:deflate br zstd" "gzip,~br:gzip br" "~gzip:gzip"; do
    hdr=${spec%%:*} cod=${spec#*:}
    name=$(printf '%s' "$hdr" | tr ',+~' '._-') # ~: a folded line (t/origin.py)
    # shellcheck disable=SC2086
    "$top_builddir/t/ww_encode" $cod <"$tmp/eicar_pad.bin" >"$tmp/www/eicar_$name" || fail "ww_encode $cod"
    if grep -q 'EICAR-STANDARD' "$tmp/www/eicar_$name"; then fail "test bug: EICAR readable in $name"; fi
    code=$(get "$origin/enc/$hdr/eicar_$name" "$tmp/enc_$name.html")
    [ "$code" = 403 ] && ok "EICAR with Content-Encoding $hdr through Squid: 403" ||
        fail "EICAR with Content-Encoding $hdr through Squid: HTTP $code, want 403"
    expect_grep "Content-Encoding $hdr: page names the threat" "$tmp/enc_$name.html" "Webwarden.Test.Eicar.Body"
done
gzip -9 <"$tmp/eicar_pad.bin" >"$tmp/www/eicar_pad.gz"
code=$(get "$origin/enc/gzip,x-unknown/eicar_pad.gz" "$tmp/enc_unknown.html")
[ "$code" = 403 ] && ok "unknown coding through Squid: 403" || fail "unknown coding through Squid: HTTP $code, want 403"
expect_grep "unknown coding: page names it" "$tmp/enc_unknown.html" "Webwarden.Heuristic.UndecodableEncoding"
# A body that turns invalid for its coding: a stored deflate block of 1015 'A', then EICAR, read
# as the next block's header. Squid's 1024-byte preview ends inside EICAR; the decoder took "X5O!"
# and gave nothing back, the next piece failed, and only that piece was scanned: 204, EICAR
# delivered. The bytes as received are scanned too now.
{ printf '\000\367\003\010\374'; head -c 1015 /dev/zero | tr '\0' A; cat "$tmp/eicar.com"; } >"$tmp/www/deflate_split.bin"
code=$(get "$origin/enc/deflate/deflate_split.bin" "$tmp/deflate_split.html")
[ "$code" = 403 ] && ok "deflate that turns invalid inside EICAR through Squid: 403" ||
    fail "deflate that turns invalid inside EICAR through Squid: HTTP $code, want 403"
"$top_builddir/t/ww_encode" br <"$tmp/www/clean20k.bin" >"$tmp/www/clean20k.br"
code=$(curl -s -o "$tmp/got_clean20k.br" -w '%{http_code}' --max-time 60 -x "http://127.0.0.1:$sport" "$origin/enc/br/clean20k.br")
if [ "$code" = 200 ] && cmp -s "$tmp/www/clean20k.br" "$tmp/got_clean20k.br"; then
    ok "clean br body through Squid: 200, byte-identical (still encoded)"
else
    fail "clean br body through Squid: HTTP $code"
fi

# --- approved URL -----------------------------------------------------------------------------------
code=$(get "$origin/approved/tool.bin" "$tmp/got_tool.bin")
if [ "$code" = 200 ] && cmp -s "$tmp/www/approved/tool.bin" "$tmp/got_tool.bin"; then
    ok "approved URL: 200, byte-identical"
else
    fail "approved URL: HTTP $code"
fi
end=$(($(date +%s) + 5))
while ! grep -q 'approved list' "$tmp/var/log/access.log" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
done
expect_grep "c-icap log: approved" "$tmp/var/log/access.log" 'reason="approved list: 127.0.0.1/approved/"'
expect_grep "c-icap log: download blocked" "$tmp/var/log/access.log" "threat=Webwarden.Test.Payload"
expect_grep "c-icap log: late EICAR cut" "$tmp/var/log/access.log" "eicar_last.bin reason=\"malware detected after"

# --- every detection is in the server log, the events and the feedback queue (issue 7) ---------
# Detections above: payload.bin, chunked/payload.bin, eicar30k.bin, eicar_first.bin (blocked),
# eicar_last.bin (cut after release), eicar_last64k.bin (blocked), eicar_last64k1.bin (cut).
for d in "payload.bin|Webwarden.Test.Payload|blocked" "chunked/payload.bin|Webwarden.Test.Payload|blocked" \
    "eicar30k.bin|Webwarden.Test.Eicar.Body|blocked" "eicar_first.bin|Webwarden.Test.Eicar.Body|blocked" \
    "eicar_last.bin|Webwarden.Test.Eicar.Body|download cut after" \
    "eicar_last64k.bin|Webwarden.Test.Eicar.Body|blocked" \
    "eicar_last64k1.bin|Webwarden.Test.Eicar.Body|download cut after"; do
    path=${d%%|*} rest=${d#*|}
    threat=${rest%%|*} how=${rest#*|}
    if grep -F "BLOCKED $origin/$path:" "$tmp/var/log/server.log" 2>/dev/null | grep -qF "threat $threat"; then
        ok "server log: $path ($threat)"
    else
        fail "server log: no BLOCKED line for $origin/$path with threat $threat"
    fi
    [ "$have_ctl" = 1 ] || continue
    want="malware $threat in $origin/$path: $how"
    end=$(($(date +%s) + 10)) # the child's 1 s tick writes queued detections
    while ! ctl events -n 200 2>/dev/null | grep -qF -- "$want" && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.2
    done
    if ctl events -n 200 2>/dev/null | grep -qF -- "$want"; then ok "events: $path"; else
        fail "events: '$want' not listed"
        ctl events -n 20 2>&1 | tail -n 10
    fi
done
if [ "$have_ctl" = 1 ]; then
    fb1=$(fb_queued)
    if [ "$fb1" -ge $((fb0 + 7)) ]; then ok "feedback queue grew by the 7 detections ($fb0 -> $fb1)"; else
        fail "feedback queue: $fb0 -> $fb1, want at least $((fb0 + 7))"
    fi
fi

if [ "$fails" -eq 0 ]; then
    status=0
    echo "PASS: it_squid"
    exit 0
fi
echo "$fails check(s) failed"
exit 1

#!/bin/sh
# t/it_cicap.sh - both Webwarden services in a real c-icap on a free loopback port, driven with
# c-icap-client: approved / blocked / neutral URLs (REQMOD), matching / clean / oversized bodies
# (RESPMOD), and the access-log attributes. Needs a built tree (make), run by `make check`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "${PYTHON3:-python3}" sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-cicap.XXXXXX")
fails=0
status=1
cleanup() {
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 40 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- c-icap access.log (tail)"
        tail -n 20 "$tmp/var/log/access.log" 2>/dev/null
        tail -n 20 "$tmp/var/log/c-icap.out" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- test data: lists, signatures built at runtime, bodies ----------------------------------
mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var"
printf '# approved\ngood.webwarden.test\n' >"$tmp/approved.txt"
printf '# blocked\nblocked.webwarden.test\nnasty.webwarden.test/bad/\n' >"$tmp/blocked.txt"

# EICAR from two pieces, so no scanner flags this file; its SHA-256 is well known.
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
eicar_sha=$(sha256sum "$tmp/eicar.com" | cut -d' ' -f1)
[ "$eicar_sha" = 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f ] ||
    { echo "test bug: EICAR built wrong ($eicar_sha)"; exit 1; }
head -c 20480 /dev/urandom >"$tmp/payload.bin"  # "malware": matched by its hash
head -c 20480 /dev/urandom >"$tmp/clean.bin"
head -c 90000 /dev/urandom >"$tmp/clean90k.bin" # over hold_max: streamed while scanned
head -c 400000 /dev/urandom >"$tmp/late.bin"    # over hold_max, matched by hash at the end
head -c 600000 /dev/urandom >"$tmp/big.bin"     # over scan.max_size
{
    echo "$(sha256sum "$tmp/payload.bin" | cut -d' ' -f1):20480:Webwarden.Test.Payload"
    echo "$eicar_sha:68:Eicar-Test-Signature"
    echo "$(sha256sum "$tmp/late.bin" | cut -d' ' -f1):400000:Webwarden.Test.Late"
} >"$tmp/patterns/test.hsb"
# A body signature for EICAR anywhere, built from the file's hex.
echo "Webwarden.Test.Eicar.Body:0:*:$(od -An -v -tx1 "$tmp/eicar.com" | tr -d ' \n')" >"$tmp/patterns/test.ndb"
# EICAR straddling the 1024-byte preview, inside a 150 KiB body (found while still held).
{ head -c 1000 /dev/urandom; cat "$tmp/eicar.com"; head -c 150000 /dev/urandom; } >"$tmp/eicar_mid.bin"
# EICAR near the end of a 300 KiB body: found after the first bytes went out.
{ head -c 300000 /dev/urandom; cat "$tmp/eicar.com"; head -c 100 /dev/urandom; } >"$tmp/eicar_end.bin"

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
max_size = 500K
oversize_action = allow
hold_max = 60K
tmp_dir = $tmp/spool
EOF
# The state store is optional for these checks; create it when the CLI is built.
if [ -x "$top_builddir/src/webwardenctl" ]; then
    "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null ||
        fail "webwardenctl init"
fi

port=$(ww_free_port)
# c-icap's default DebugLevel 1: Webwarden's warnings (UNSCANNED, unknown service arguments)
# must reach server.log at it.
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1

icap() { "$CLIENT" -i 127.0.0.1 -p "$port" "$@"; }

# --- OPTIONS: both services loaded and healthy (a broken config gives 500) --------------------
icap -s webwarden_url >"$tmp/opt_url.txt" 2>&1
expect_grep "OPTIONS webwarden_url answers 200" "$tmp/opt_url.txt" "ICAP/1.0 200"
icap -s webwarden_scan >"$tmp/opt_scan.txt" 2>&1
expect_grep "OPTIONS webwarden_scan answers 200" "$tmp/opt_scan.txt" "ICAP/1.0 200"
expect_grep "webwarden_scan advertises Preview 1024" "$tmp/opt_scan.txt" "Preview: 1024"

# --- REQMOD ------------------------------------------------------------------------------------
icap -s webwarden_url -req 'http://good.webwarden.test/path?x=1' -v >"$tmp/r_good.txt" 2>&1
expect_grep "approved URL: 204" "$tmp/r_good.txt" "ICAP/1.0 204"
expect_no_grep "approved URL: no 403" "$tmp/r_good.txt" "403 Forbidden"

icap -s webwarden_url -req 'http://www.blocked.webwarden.test/a?q=1' -v -o "$tmp/b_page.html" >"$tmp/r_blocked.txt" 2>&1
expect_grep "blocked URL: ICAP 200" "$tmp/r_blocked.txt" "ICAP/1.0 200"
expect_grep "blocked URL: HTTP 403" "$tmp/r_blocked.txt" "HTTP/1.1 403 Forbidden"
expect_grep "blocked URL: X-Violations-Found" "$tmp/r_blocked.txt" "X-Violations-Found: 1"
expect_grep "blocked URL: X-Response-Info" "$tmp/r_blocked.txt" "X-Response-Info: BLOCKED"
expect_grep "blocked URL: Cache-Control" "$tmp/r_blocked.txt" "Cache-Control: no-store"
expect_grep "blocked URL: page names the URL" "$tmp/b_page.html" "http://www.blocked.webwarden.test/a?q=1"
expect_grep "blocked URL: page gives the reason" "$tmp/b_page.html" "blocked list: blocked.webwarden.test"
# Content-Length must be the page's size exactly.
clen=$(sed -n 's/^[[:space:]]*Content-Length: \([0-9]*\).*/\1/p' "$tmp/r_blocked.txt" | tail -1)
plen=$(wc -c <"$tmp/b_page.html" | tr -d ' ')
[ -n "$clen" ] && [ "$clen" = "$plen" ] && ok "blocked URL: Content-Length $clen matches the page" ||
    fail "blocked URL: Content-Length '$clen' but page has $plen bytes"

icap -s webwarden_url -req 'http://nasty.webwarden.test/bad/<script>alert(1)</script>' -v -o "$tmp/x_page.html" >"$tmp/r_xss.txt" 2>&1
expect_grep "blocked URL prefix: HTTP 403" "$tmp/r_xss.txt" "403 Forbidden"
expect_grep "script in URL is escaped" "$tmp/x_page.html" "&lt;script&gt;alert(1)&lt;/script&gt;"
expect_no_grep "script in URL never raw" "$tmp/x_page.html" "<script>"
icap -s webwarden_url -req 'http://nasty.webwarden.test/good/' -v >"$tmp/r_nasty_ok.txt" 2>&1
expect_grep "URL prefix does not over-match" "$tmp/r_nasty_ok.txt" "ICAP/1.0 204"

# A POST body to a blocked URL is read and dropped; the page still goes back.
icap -s webwarden_url -method POST -req 'http://blocked.webwarden.test/upload' -f "$tmp/clean.bin" -v -o "$tmp/post_page.html" >"$tmp/r_post.txt" 2>&1
expect_grep "POST to a blocked URL: HTTP 403" "$tmp/r_post.txt" "403 Forbidden"
expect_grep "POST to a blocked URL: page" "$tmp/post_page.html" "blocked list: blocked.webwarden.test"
icap -s webwarden_url -method POST -req 'http://neutral.example.org/upload' -f "$tmp/clean.bin" -v >"$tmp/r_post_ok.txt" 2>&1
expect_grep "POST to a neutral URL: 204" "$tmp/r_post_ok.txt" "ICAP/1.0 204"

# A request line without a usable URL (origin-form, no Host): allowed and logged, no crash.
"${PYTHON3:-python3}" - "$port" >"$tmp/r_nohost.txt" 2>&1 <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
http = b"GET /no-host-here HTTP/1.1\r\nUser-Agent: t\r\n\r\n"
icap = (b"REQMOD icap://127.0.0.1:%d/webwarden_url ICAP/1.0\r\nHost: 127.0.0.1\r\n"
        b"Allow: 204\r\nEncapsulated: req-hdr=0, null-body=%d\r\n\r\n" % (port, len(http)))
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(icap + http)
print(s.recv(4096).decode("latin-1"))
PYEOF
expect_grep "URL without host: allowed (204)" "$tmp/r_nohost.txt" "ICAP/1.0 204"

icap -s webwarden_url -req 'http://neutral.example.org/index.html' -v >"$tmp/r_neutral.txt" 2>&1
expect_grep "neutral URL: 204" "$tmp/r_neutral.txt" "ICAP/1.0 204"
expect_no_grep "neutral URL: no 403" "$tmp/r_neutral.txt" "403 Forbidden"

# --- RESPMOD -----------------------------------------------------------------------------------
icap -s webwarden_scan -f "$tmp/payload.bin" -resp 'http://dl.webwarden.test/payload.bin' -v -o "$tmp/m_page.html" >"$tmp/s_payload.txt" 2>&1
expect_grep "matching body: HTTP 403" "$tmp/s_payload.txt" "403 Forbidden"
expect_grep "matching body: X-Infection-Found" "$tmp/s_payload.txt" "X-Infection-Found: Type=0; Resolution=2; Threat=Webwarden.Test.Payload;"
expect_grep "matching body: X-Virus-ID" "$tmp/s_payload.txt" "X-Virus-ID: Webwarden.Test.Payload"
expect_grep "matching body: page names the threat" "$tmp/m_page.html" "Webwarden.Test.Payload"

icap -s webwarden_scan -f "$tmp/eicar.com" -resp 'http://dl.webwarden.test/eicar.com' -v -o "$tmp/e_page.html" >"$tmp/s_eicar.txt" 2>&1
expect_grep "EICAR: X-Infection-Found" "$tmp/s_eicar.txt" "X-Infection-Found: Type=0; Resolution=2; Threat="

for mode in "" "-nopreview -no204"; do
    # shellcheck disable=SC2086
    icap -s webwarden_scan $mode -f "$tmp/eicar_mid.bin" -resp 'http://dl.webwarden.test/mid.bin' -v -o "$tmp/mid_page$$.html" >"$tmp/s_mid.txt" 2>&1
    rm -f "$tmp/mid_page$$.html"
    expect_grep "EICAR inside a body ($mode): 403" "$tmp/s_mid.txt" "403 Forbidden"
    expect_grep "EICAR inside a body ($mode): body signature" "$tmp/s_mid.txt" "Threat=Webwarden.Test.Eicar.Body;"
done

# Content-Encoding: the scanner sees the decoded file (issue 4). In gzip the EICAR bytes are not
# there as such, so a block proves the decoding; a bomb is blocked (scan.bomb_action default).
{ head -c 2000 /dev/zero | tr '\0' 'a'; cat "$tmp/eicar.com"; head -c 3000 /dev/zero | tr '\0' 'b'; } | gzip -9 >"$tmp/eicar.gz"
if grep -q 'EICAR-STANDARD' "$tmp/eicar.gz"; then fail "test bug: EICAR readable inside the gzip file"; fi
for mode in "" "-nopreview -no204"; do
    # shellcheck disable=SC2086
    icap -s webwarden_scan $mode -f "$tmp/eicar.gz" -resp 'http://dl.webwarden.test/eicar.gz' \
        -rhx 'Content-Encoding: gzip' -v -o "$tmp/gz_page$$.html" >"$tmp/s_gz.txt" 2>&1
    rm -f "$tmp/gz_page$$.html"
    expect_grep "gzip-encoded EICAR ($mode): 403" "$tmp/s_gz.txt" "403 Forbidden"
    expect_grep "gzip-encoded EICAR ($mode): body signature" "$tmp/s_gz.txt" "Threat=Webwarden.Test.Eicar.Body;"
done
head -c 40000 /dev/zero | tr '\0' 'x' | "${PYTHON3:-python3}" -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))' >"$tmp/text.deflate"
icap -s webwarden_scan -nopreview -no204 -f "$tmp/text.deflate" -resp 'http://dl.webwarden.test/text' \
    -rhx 'Content-Encoding: deflate' -o "$tmp/echo_text.deflate" >"$tmp/s_deflate.txt" 2>&1
if cmp -s "$tmp/text.deflate" "$tmp/echo_text.deflate"; then ok "clean deflate body: echoed byte-identical (still encoded)"; else
    fail "clean deflate body: echo differs"
fi
head -c 30000000 /dev/zero | gzip -9 >"$tmp/bomb.gz"
icap -s webwarden_scan -nopreview -no204 -f "$tmp/bomb.gz" -resp 'http://dl.webwarden.test/bomb.gz' \
    -rhx 'Content-Encoding: gzip' -v -o "$tmp/bomb_page.html" >"$tmp/s_bomb.txt" 2>&1
expect_grep "gzip bomb (30 MB of zeros, 1000:1): 403" "$tmp/s_bomb.txt" "403 Forbidden"
expect_grep "gzip bomb: named" "$tmp/s_bomb.txt" "Threat=Webwarden.Heuristic.DecompressionBomb;"

# Stacked and newer codings (issue 12, part 2): every Content-Encoding line counts, in order, and
# each form of EICAR is blocked; a coding the scanner cannot undo is never passed as clean.
# Text around it, so zstd's literals are entropy-coded too (EICAR is not readable as sent).
{ head -c 6000 /dev/urandom | base64; cat "$tmp/eicar.com"; head -c 6000 /dev/urandom | base64; } >"$tmp/eicar_pad.bin"
enc_case() { # NAME CODINGS... -- HEADER_LINE...
    _ec_name=$1
    shift
    _ec_cod=""
    while [ "$1" != "--" ]; do _ec_cod="$_ec_cod $1"; shift; done
    shift
    # shellcheck disable=SC2086
    "$top_builddir/t/ww_encode" $_ec_cod <"$tmp/eicar_pad.bin" >"$tmp/enc_$_ec_name" ||
        fail "ww_encode$_ec_cod"
    if grep -q 'EICAR-STANDARD' "$tmp/enc_$_ec_name"; then fail "test bug: EICAR readable in $_ec_name"; fi
    _ec_rhx=""
    for _ec_h in "$@"; do _ec_rhx="$_ec_rhx -rhx '$_ec_h'"; done
    for mode in "" "-nopreview -no204"; do
        eval "icap -s webwarden_scan $mode -f \"\$tmp/enc_$_ec_name\" -resp 'http://dl.webwarden.test/$_ec_name' $_ec_rhx -v -o \"\$tmp/enc_page\$\$.html\"" >"$tmp/s_enc_$_ec_name.txt" 2>&1
        rm -f "$tmp/enc_page$$.html"
        expect_grep "$_ec_name EICAR ($mode): 403" "$tmp/s_enc_$_ec_name.txt" "403 Forbidden"
        expect_grep "$_ec_name EICAR ($mode): body signature" "$tmp/s_enc_$_ec_name.txt" "Threat=Webwarden.Test.Eicar.Body;"
    done
}
enc_case gzip-gzip gzip gzip -- 'Content-Encoding: gzip, gzip'
enc_case identity-then-gzip gzip -- 'Content-Encoding: identity' 'Content-Encoding: gzip'
enc_case gzip-line-gzip-line gzip gzip -- 'Content-Encoding: gzip' 'Content-Encoding: gzip'
enc_case br br -- 'Content-Encoding: br'
enc_case zstd zstd -- 'Content-Encoding: zstd'
enc_case deflate-br-zstd deflate br zstd -- 'Content-Encoding: deflate, BR' 'Content-Encoding: zstd'
# obs-fold: c-icap keeps a folded field as one entry, CR LF and the space inside; the codings after
# the fold count (read up to the CR, the br and the gzip passed unscanned)
enc_case folded-gzip-br gzip br -- "$(printf 'Content-Encoding: gzip,\r\n br')"
enc_case folded-after-colon gzip -- "$(printf 'Content-Encoding:\r\n\tgzip')"
enc_case lone-cr gzip gzip -- "$(printf 'Content-Encoding: gzip,\rgzip')" # a CR alone ends no line
enc_case space-before-colon gzip -- 'Content-Encoding : gzip' # not valid HTTP; a client may decode it
gzip -9 <"$tmp/eicar_pad.bin" >"$tmp/eicar_pad.gz"
for mode in "" "-nopreview -no204"; do
    # shellcheck disable=SC2086
    icap -s webwarden_scan $mode -f "$tmp/eicar_pad.gz" -resp 'http://dl.webwarden.test/unknown' \
        -rhx 'Content-Encoding: gzip, x-webwarden-unknown' -v -o "$tmp/unk_page$$.html" >"$tmp/s_unk.txt" 2>&1
    rm -f "$tmp/unk_page$$.html"
    expect_grep "unknown coding ($mode): 403" "$tmp/s_unk.txt" "403 Forbidden"
    expect_grep "unknown coding ($mode): named" "$tmp/s_unk.txt" "Threat=Webwarden.Heuristic.UndecodableEncoding;"
done
expect_grep "unknown coding: the server log names it and the URL" "$tmp/var/log/server.log" 'Content-Encoding "x-webwarden-unknown" cannot be decoded'
"$top_builddir/t/ww_encode" zstd-wide <"$tmp/eicar_pad.bin" >"$tmp/eicar_wide.zst"
icap -s webwarden_scan -f "$tmp/eicar_wide.zst" -resp 'http://dl.webwarden.test/wide.zst' \
    -rhx 'Content-Encoding: zstd' -v -o "$tmp/wide_page.html" >"$tmp/s_wide.txt" 2>&1
expect_grep "zstd with a 16 MiB window: 403 (over the decoder's cap, as browsers refuse it)" "$tmp/s_wide.txt" "403 Forbidden"

# Over hold_max the body streams back while scanned; a late match breaks the response off, so
# the client never gets the whole file (issue 7).
for f in eicar_end.bin late.bin; do
    icap -s webwarden_scan -nopreview -no204 -f "$tmp/$f" -resp "http://dl.webwarden.test/cut-$f" -o "$tmp/cut_$f" >"$tmp/s_cut_$f.txt" 2>&1
    if cmp -s "$tmp/$f" "$tmp/cut_$f"; then fail "late threat in $f: the whole file arrived"; else
        ok "late threat in $f: the file never arrives whole ($(wc -c <"$tmp/cut_$f" 2>/dev/null || echo 0) of $(wc -c <"$tmp/$f") bytes)"
    fi
done

icap -s webwarden_scan -nopreview -no204 -f "$tmp/payload.bin" -resp 'http://dl.webwarden.test/p2' -v -o "$tmp/m2_page.html" >"$tmp/s_payload2.txt" 2>&1
expect_grep "matching body without preview/204: HTTP 403" "$tmp/s_payload2.txt" "403 Forbidden"

icap -s webwarden_scan -f "$tmp/clean.bin" -resp 'http://dl.webwarden.test/clean.bin' -v >"$tmp/s_clean.txt" 2>&1
expect_grep "clean body: 204" "$tmp/s_clean.txt" "ICAP/1.0 204"
expect_no_grep "clean body: no 403" "$tmp/s_clean.txt" "403 Forbidden"

for f in clean.bin clean90k.bin; do
    icap -s webwarden_scan -nopreview -no204 -f "$tmp/$f" -resp "http://dl.webwarden.test/$f" -o "$tmp/echo_$f" >"$tmp/s_echo_$f.txt" 2>&1
    if cmp -s "$tmp/$f" "$tmp/echo_$f"; then ok "clean $f, no 204: echoed byte-identical"; else
        fail "clean $f, no 204: echo differs"
        cat "$tmp/s_echo_$f.txt"
    fi
done

icap -s webwarden_scan -nopreview -no204 -f "$tmp/big.bin" -resp 'http://dl.webwarden.test/big.bin' -o "$tmp/echo_big.bin" >"$tmp/s_big.txt" 2>&1
if cmp -s "$tmp/big.bin" "$tmp/echo_big.bin"; then ok "body over max_size passes whole"; else
    fail "body over max_size did not pass whole"
    cat "$tmp/s_big.txt"
fi
# Without HTTP headers the size is unknown: max_size is crossed while streaming.
icap -s webwarden_scan -noreshdr -nopreview -no204 -f "$tmp/big.bin" -resp 'http://dl.webwarden.test/big3.bin' -o "$tmp/echo_big3.bin" >"$tmp/s_big3.txt" 2>&1
if cmp -s "$tmp/big.bin" "$tmp/echo_big3.bin"; then ok "unknown-size body over max_size streams through whole"; else
    fail "unknown-size body over max_size did not pass whole"
    cat "$tmp/s_big3.txt"
fi
# With 204 allowed too, Content-Length over max_size decides nothing: the first max_size bytes
# are scanned (held, then streamed), the rest passes unscanned (oversize_action = allow).
icap -s webwarden_scan -f "$tmp/big.bin" -resp 'http://dl.webwarden.test/big2.bin' -v -o "$tmp/echo_big2.bin" >"$tmp/s_big2.txt" 2>&1
expect_grep "body over max_size with 204: scanned first, so answered 200" "$tmp/s_big2.txt" "ICAP/1.0 200"
if cmp -s "$tmp/big.bin" "$tmp/echo_big2.bin"; then ok "body over max_size with 204: passes whole"; else
    fail "body over max_size with 204: did not pass whole"
fi
# A lying Content-Length (issue 12 part 4): 60000000 declared, EICAR sent. Before: passed as over
# max_size, unscanned. Now the bytes are scanned: the block page.
"${PYTHON3:-python3}" "$top_srcdir/t/icap_send.py" --port "$port" --case clen-lying-60m-eicar \
    --case clen-lying-60m-eicar-preview --case clen-huge-eicar >"$tmp/lying.txt" 2>&1 &&
    grep -q "^3 case(s), 0 failed" "$tmp/lying.txt" &&
    ok "lying Content-Length with EICAR: the block page (oversize_action = allow: scanned)" ||
    { fail "lying Content-Length with EICAR not blocked"; cat "$tmp/lying.txt"; }

# scan.hold_all, here as the service argument hold_all=on (a Squid with the bug-5352 fixes):
# every body up to max_size is scanned whole first, so a late threat gets the block page, not a
# cut; with Allow: 204 nothing is kept (the answer is 204 or the page), without it the body is
# held (spooled past hold_max) and echoed whole.
for f in eicar_end.bin late.bin; do
    for mode in "" "-nopreview -no204"; do
        # shellcheck disable=SC2086
        icap -s 'webwarden_scan?hold_all=on' $mode -f "$tmp/$f" -resp "http://dl.webwarden.test/hold-$f" \
            -v -o "$tmp/hold_page$$.html" >"$tmp/s_hold.txt" 2>&1
        expect_grep "hold_all=on, late threat in $f ($mode): the block page" "$tmp/s_hold.txt" "403 Forbidden"
        expect_grep "hold_all=on, late threat in $f ($mode): X-Infection-Found" "$tmp/s_hold.txt" "X-Infection-Found: Type=0"
        rm -f "$tmp/hold_page$$.html"
    done
done
icap -s 'webwarden_scan?hold_all=on' -f "$tmp/clean90k.bin" -resp 'http://dl.webwarden.test/hold-clean' -v >"$tmp/s_hold_clean.txt" 2>&1
expect_grep "hold_all=on, clean 90 KB with 204: 204" "$tmp/s_hold_clean.txt" "ICAP/1.0 204"
icap -s 'webwarden_scan?hold_all=on' -nopreview -no204 -f "$tmp/late.bin" -resp 'http://dl.webwarden.test/hold-late-again' -o /dev/null >/dev/null 2>&1
icap -s 'webwarden_scan?hold_all=on' -nopreview -no204 -f "$tmp/clean90k.bin" -resp 'http://dl.webwarden.test/hold-echo' -o "$tmp/hold_echo.bin" >"$tmp/s_hold_echo.txt" 2>&1
if cmp -s "$tmp/clean90k.bin" "$tmp/hold_echo.bin"; then ok "hold_all=on, clean 90 KB without 204: echoed byte-identical"; else
    fail "hold_all=on, clean 90 KB without 204: echo differs"
    cat "$tmp/s_hold_echo.txt"
fi
icap -s 'webwarden_scan?hold_all=on' -f "$tmp/big.bin" -resp 'http://dl.webwarden.test/hold-big' -v >"$tmp/s_hold_big.txt" 2>&1
expect_grep "hold_all=on, over max_size with 204: 204" "$tmp/s_hold_big.txt" "ICAP/1.0 204"
icap -s 'webwarden_scan?hold_all=on' -noreshdr -f "$tmp/big.bin" -resp 'http://dl.webwarden.test/hold-big2' -v >"$tmp/s_hold_big2.txt" 2>&1
expect_grep "hold_all=on, unknown size crossing max_size with 204: 204" "$tmp/s_hold_big2.txt" "ICAP/1.0 204"
icap -s 'webwarden_scan?hold_all=off&no_such_arg=1' -f "$tmp/clean.bin" -resp 'http://dl.webwarden.test/arg' -v >"$tmp/s_arg.txt" 2>&1
expect_grep "unknown service argument: the request is still answered" "$tmp/s_arg.txt" "ICAP/1.0 204"
expect_grep "unknown service argument: named in the log" "$tmp/var/log/server.log" 'service argument "no_such_arg=1" unknown'

# --- access log: one line per request, with our attributes --------------------------------------
# c-icap writes the line after the response; poll briefly for the last one.
end=$(($(date +%s) + 5))
while ! grep -q 'big2.bin' "$tmp/var/log/access.log" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
done
log="$tmp/var/log/access.log"
expect_grep "access log: block with URL" "$log" "action=block url=http://www.blocked.webwarden.test/a?q=1"
expect_grep "access log: block reason" "$log" 'reason="blocked list: blocked.webwarden.test"'
expect_grep "access log: approved allow" "$log" 'action=allow url=http://good.webwarden.test/path?x=1 reason="approved list: good.webwarden.test"'
expect_grep "access log: score placeholder" "$log" "score=- category=-"
expect_grep "access log: threat" "$log" "action=block url=http://dl.webwarden.test/payload.bin"
expect_grep "access log: threat name" "$log" "threat=Webwarden.Test.Payload"
expect_grep "access log: clean sha256" "$log" "sha256=$(sha256sum "$tmp/clean.bin" | cut -d' ' -f1)"
expect_grep "access log: unscanned" "$log" "action=unscanned url=http://dl.webwarden.test/big.bin"
expect_grep "access log: unscanned reason" "$log" 'reason="over scan.max_size"'
expect_grep "access log: unscanned size" "$log" "size=600000"
# -noreshdr sends no HTTP headers at all, so that line has no URL.
expect_grep "access log: unscanned while streaming" "$log" 'action=unscanned url=- reason="over scan.max_size"'
expect_grep "server log: block line" "$tmp/var/log/server.log" "BLOCKED http://www.blocked.webwarden.test/a?q=1"
expect_grep "access log: unparseable URL allowed" "$log" 'action=allow url=/no-host-here reason="unparseable url"'
expect_grep "server log: threat line" "$tmp/var/log/server.log" "threat Webwarden.Test.Payload"
expect_grep "server log: an unscanned download is a warning an admin sees at DebugLevel 1" \
    "$tmp/var/log/server.log" "UNSCANNED http://dl.webwarden.test/big.bin"

expect_grep "access log: late body match cut" "$log" "action=block url=http://dl.webwarden.test/cut-eicar_end.bin"
expect_grep "access log: late hash match cut" "$log" "action=block url=http://dl.webwarden.test/cut-late.bin"
expect_grep "access log: cut reason" "$log" "download cut"
expect_grep "server log: late hash match" "$tmp/var/log/server.log" "threat Webwarden.Test.Late found after"

# c-icap's info service shows our counters (summed over children).
icap -s "info?view=text" -req http://localhost/ -o "$tmp/info.txt" >/dev/null 2>&1
expect_grep "info: url blocked counter" "$tmp/info.txt" "webwarden_url blocked"
expect_grep "info: scan cut counter" "$tmp/info.txt" "webwarden_scan cut after release : 2"

# No spool file may be left behind.
left=$(find "$tmp/spool" -type f | wc -l)
[ "$left" -eq 0 ] && ok "no spool files left" || fail "$left spool files left in $tmp/spool"

# c-icap still up (no crash on any of the above).
kill -0 "$(cat "$tmp/var/c-icap.runpid")" 2>/dev/null && ok "c-icap still running" || fail "c-icap died"
if grep -q "Crashed\|crashed" "$tmp/var/log/server.log" 2>/dev/null; then fail "a child crashed"; fi

# --- scan method: every child sees a change within 2 s (needs the CLI and the store) ---------
if [ -x "$top_builddir/src/webwardenctl" ]; then
    # Two steps, each waited for: children read the store once a second, so a quick
    # there-and-back would go unseen.
    "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" scan-method conventional --reason it-test1 >/dev/null ||
        fail "webwardenctl scan-method conventional"
    end=$(($(date +%s) + 4))
    while ! grep -q 'scan method conventional (it-test1' "$tmp/var/log/server.log" && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.1
    done
    "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" scan-method smart --force --reason it-test >/dev/null ||
        fail "webwardenctl scan-method smart --force"
    end=$(($(date +%s) + 4))
    while ! grep -q 'scan method smart (it-test' "$tmp/var/log/server.log" && [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.1
    done
    expect_grep "children see the scan method change" "$tmp/var/log/server.log" "scan method smart (it-test"
else
    echo "note: src/webwardenctl not built: scan-method propagation not checked"
fi

# --- reconfigure: services reload (config re-read, engine rebuilt) and keep answering ---------
printf 'also-blocked.webwarden.test\n' >>"$tmp/blocked.txt"
printf 'reconfigure' >"$tmp/var/run/c-icap.ctl"
end=$(($(date +%s) + 20))
while :; do
    icap -s webwarden_url -req 'http://also-blocked.webwarden.test/' -v >"$tmp/r_reconf.txt" 2>&1
    grep -q "403 Forbidden" "$tmp/r_reconf.txt" && break
    [ "$(date +%s)" -lt "$end" ] || break
    sleep 0.2
done
expect_grep "after reconfigure: new blocked entry applies" "$tmp/r_reconf.txt" "403 Forbidden"
icap -s webwarden_scan -f "$tmp/payload.bin" -resp 'http://dl.webwarden.test/again.bin' -v -o "$tmp/again.html" >"$tmp/s_again.txt" 2>&1
expect_grep "after reconfigure: scan still blocks" "$tmp/s_again.txt" "Threat=Webwarden.Test.Payload;"

# --- a broken webwarden.conf: the services answer 500 and the log says file:line why ----------
cat >"$tmp/broken.conf" <<EOF2
[scan]
max_size = 1M
no_such_key = 1
EOF2
bport=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap-broken.conf" "$bport" "$tmp/broken.conf" "$tmp/varb" || exit 1
ww_start_cicap "$tmp/c-icap-broken.conf" "$tmp/varb" || exit 1
# c-icap-client stops after the failed OPTIONS; the access log shows the 500.
"$CLIENT" -i 127.0.0.1 -p "$bport" -s webwarden_url -req 'http://neutral.example.org/' -v >"$tmp/r_broken.txt" 2>&1
expect_no_grep "broken config: no 204" "$tmp/r_broken.txt" "ICAP/1.0 204"
end=$(($(date +%s) + 5))
while ! grep -q 'OPTIONS 500 webwarden_url' "$tmp/varb/log/access.log" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
done
expect_grep "broken config: ICAP 500" "$tmp/varb/log/access.log" "OPTIONS 500 webwarden_url"
expect_grep "broken config: file:line reason logged" "$tmp/varb/log/server.log" "broken.conf:3"
ww_stop_pids "$(cat "$tmp/varb/c-icap.runpid")"

if [ "$fails" -eq 0 ]; then
    status=0
    echo "PASS: it_cicap"
    exit 0
fi
echo "$fails check(s) failed"
exit 1

#!/bin/sh
# t/it_nopatterns.sh - a fresh install waiting for its first update (issue 12 part 6): with an
# empty scan.patterns_dir and no installed pattern, webwarden_scan still loads in a real c-icap;
# responses follow scan.no_patterns_action (allow: passed, logged as unscanned with the URL);
# `webwardenctl status` says ATTENTION; the first pattern `webwardenctl update now` installs
# blocks EICAR within seconds, without restarting c-icap. A second instance with
# no_patterns_action = block answers the block page. Needs a built tree; `make check`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
PY=${PYTHON3:-python3}
CTL="$top_builddir/src/webwardenctl"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" sqlite3 tar; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$CTL" ] || { echo "FAIL: $CTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-nopat.XXXXXX") || exit 1
fails=0
status=1
upd_pid=
cleanup() {
    for i in A B; do
        [ -f "$tmp/var$i/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var$i/c-icap.runpid")"
    done
    [ -n "$upd_pid" ] && ww_stop_pids "$upd_pid"
    if [ "$status" != 0 ]; then
        for i in A B; do
            echo "----- c-icap $i server.log (tail)"
            tail -n 30 "$tmp/var$i/log/server.log" 2>/dev/null
            echo "----- c-icap $i access.log (tail)"
            tail -n 10 "$tmp/var$i/log/access.log" 2>/dev/null
        done
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$tmp/empty" "$tmp/payloads" "$tmp/pat" "$tmp/spool" || exit 1
# EICAR from two pieces, so no scanner flags this file.
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
head -c 5000 /dev/urandom >"$tmp/clean.bin"
cp "$top_srcdir/etc/patterns/webwarden-test.ndb" "$top_srcdir/etc/patterns/webwarden-test.hsb" \
    "$tmp/pat/" || exit 1
tar -C "$tmp/pat" -czf "$tmp/payloads/pattern-2026.12.03.1.tar.gz" . || exit 1

"$PY" "$top_srcdir/t/fake_update.py" --payloads "$tmp/payloads" --port-file "$tmp/upd.port" \
    >"$tmp/upd.log" 2>&1 </dev/null &
upd_pid=$!
wait_for 30 test -s "$tmp/upd.port" || { fail "fake_update did not start"; cat "$tmp/upd.log"; exit 1; }

# mkconf NAME ACTION
mkconf() {
    printf '%s\n' '[gateway]' "block_page = $top_srcdir/etc/block.html" '[state]' \
        "database = $tmp/state$1.db" '[scan]' "patterns_dir = $tmp/empty" \
        "no_patterns_action = $2" "tmp_dir = $tmp/spool" '[update]' \
        "server = http://127.0.0.1:$(cat "$tmp/upd.port")" "dir = $tmp/updates$1" 'timeout_s = 5' 'allow_unsigned = yes' \
        >"$tmp/$1.conf"
    "$CTL" -c "$tmp/$1.conf" init >/dev/null || { fail "webwardenctl init ($1)"; exit 1; }
    # Updates run under a license in force (as t/it_update.sh); no license server here.
    sqlite3 "$tmp/state$1.db" "UPDATE license SET activation_code = 'AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345',
        status = 'active', edition = 'test', expires = '2099-12-31', grace_days = 90 WHERE id = 1" ||
        { fail "cannot store a test license"; exit 1; }
}
mkconf A allow
mkconf B block
for i in A B; do
    p=$(ww_free_port)
    eval "port$i=$p"
    ww_cicap_conf "$tmp/c-icap$i.conf" "$p" "$tmp/$i.conf" "$tmp/var$i" || exit 1
    ww_start_cicap "$tmp/c-icap$i.conf" "$tmp/var$i" || { fail "c-icap $i did not start"; exit 1; }
done

# scan INSTANCE FILE OUT: one RESPMOD of FILE; prints blocked (the 403 page), clean (204, or
# the response echoed: ICAP 200 with the origin's HTTP 200) or error.
scan() {
    eval "_p=\$port$1"
    "$CLIENT" -i 127.0.0.1 -p "$_p" -s webwarden_scan -f "$2" \
        -resp "http://dl.webwarden.test/$(basename "$2")" -v >"$3" 2>&1
    if grep -q "403 Forbidden" "$3"; then echo blocked
    elif grep -q "ICAP/1.0 204" "$3"; then echo clean
    elif grep -q "ICAP/1.0 200" "$3" && grep -q "HTTP/1.[01] 200 OK" "$3"; then echo clean
    else echo error; fi
}

# --- A: no patterns, allow ---------------------------------------------------------------------------
expect_grep "A: webwarden_scan loaded without patterns" "$tmp/varA/log/server.log" \
    "no malware patterns"
v=$(scan A "$tmp/eicar.com" "$tmp/a1.txt")
[ "$v" = clean ] && ok "A: EICAR passes while there is no pattern (allow)" ||
    { fail "A: EICAR gave $v, want clean (passed unscanned)"; cat "$tmp/a1.txt"; }
wait_for 5 grep -q 'action=unscanned url=http://dl.webwarden.test/eicar.com reason="no patterns"' \
    "$tmp/varA/log/access.log" && ok "A: access log says unscanned, no patterns, with the URL" ||
    fail "A: no unscanned line in the access log"
expect_grep "A: server log names the URL" "$tmp/varA/log/server.log" \
    "UNSCANNED http://dl.webwarden.test/eicar.com"
"$CTL" -c "$tmp/A.conf" status >"$tmp/stA.txt" 2>&1
expect_grep "A: status ATTENTION" "$tmp/stA.txt" "Health:        ATTENTION"
expect_grep "A: status names the missing patterns" "$tmp/stA.txt" \
    "no malware patterns: webwarden_scan passes every response unscanned"
"$CTL" -c "$tmp/A.conf" status --json >"$tmp/stA.json" 2>&1
"$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if not j["healthy"] and any("no malware patterns" in p for p in j["problems"]) else 1)' \
    "$tmp/stA.json" && ok "A: status --json not healthy, problem listed" ||
    { fail "A: status --json"; cat "$tmp/stA.json"; }

# --- A: the first update is in force without a restart ---------------------------------------------
cpid=$(cat "$tmp/varA/c-icap.runpid")
"$CTL" -c "$tmp/A.conf" update now >"$tmp/upd1.txt" 2>&1 && ok "A: update now installs a pattern" ||
    { fail "A: update now"; cat "$tmp/upd1.txt"; }
t0=$(date +%s)
while :; do
    v=$(scan A "$tmp/eicar.com" "$tmp/a2.txt")
    [ "$v" = blocked ] && break
    [ $(($(date +%s) - t0)) -lt 10 ] || break
    sleep 0.3
done
[ "$v" = blocked ] && ok "A: EICAR blocked $(($(date +%s) - t0)) s after the update (bound 10 s)" ||
    { fail "A: EICAR gave $v 10 s after the update, want blocked"; cat "$tmp/a2.txt"; }
[ "$(cat "$tmp/varA/c-icap.runpid")" = "$cpid" ] && kill -0 "$cpid" 2>/dev/null &&
    ok "A: same c-icap, no restart" || fail "A: c-icap was restarted"
v=$(scan A "$tmp/clean.bin" "$tmp/a3.txt")
[ "$v" = clean ] && ok "A: a clean body still passes" || fail "A: clean body gave $v"
"$CTL" -c "$tmp/A.conf" status >"$tmp/stA2.txt" 2>&1
expect_no_grep "A: status no longer names missing patterns" "$tmp/stA2.txt" "no malware patterns"

# --- B: no patterns, block ---------------------------------------------------------------------------
v=$(scan B "$tmp/clean.bin" "$tmp/b1.txt")
[ "$v" = blocked ] && ok "B: any body gets the block page while there is no pattern (block)" ||
    { fail "B: clean body gave $v, want blocked"; cat "$tmp/b1.txt"; }
expect_grep "B: the page names the reason" "$tmp/b1.txt" "Webwarden.NoPatterns"
"$CTL" -c "$tmp/B.conf" status >"$tmp/stB.txt" 2>&1
expect_grep "B: status says blocks" "$tmp/stB.txt" "webwarden_scan blocks every response"

[ "$fails" = 0 ] && status=0
exit "$status"

#!/bin/sh
# t/it_update.sh - pattern updates reach a running c-icap without a restart: pattern v1 detects,
# a broken update server leaves v1 in force, a good v2 (a new signature) is detected within a few
# seconds, `webwardenctl update rollback pattern` returns to v1. Needs a built tree; `make check`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
CTL="$top_builddir/src/webwardenctl"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "${PYTHON3:-python3}" sha256sum tar curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$CTL" ] || { echo "FAIL: $CTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-update.XXXXXX")
fails=0
status=1
upd_pid=
wwd_pid=
lc_pid=
lb_pid=
cleanup() {
    [ -n "$lc_pid$lb_pid" ] && ww_stop_pids $lc_pid $lb_pid
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    [ -n "$upd_pid" ] && ww_stop_pids "$upd_pid"
    [ -n "$wwd_pid" ] && ww_stop_pids "$wwd_pid"
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 40 "$tmp/var/log/server.log" 2>/dev/null
        tail -n 20 "$tmp/var/log/c-icap.out" 2>/dev/null
        echo "----- update status"
        "$CTL" -c "$tmp/webwarden.conf" update status 2>&1
        tail -n 20 "$tmp/daemon.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- patterns made at run time: v1 knows body1, v2 knows body1 and body2 ----------------------
mkdir -p "$tmp/payloads" "$tmp/p1" "$tmp/p2" "$tmp/p3" "$tmp/fallback" "$tmp/var" "$tmp/spool"
head -c 20000 /dev/urandom >"$tmp/body1.bin"
head -c 20000 /dev/urandom >"$tmp/body2.bin"
head -c 20000 /dev/urandom >"$tmp/body3.bin"
head -c 20000 /dev/urandom >"$tmp/fallback.bin"
line1="$(sha256sum "$tmp/body1.bin" | cut -d' ' -f1):20000:Webwarden.Test.Update.V1"
line2="$(sha256sum "$tmp/body2.bin" | cut -d' ' -f1):20000:Webwarden.Test.Update.V2"
echo "$line1" >"$tmp/p1/update.hsb"
printf '%s\n%s\n' "$line1" "$line2" >"$tmp/p2/update.hsb"
line3="$(sha256sum "$tmp/body3.bin" | cut -d' ' -f1):20000:Webwarden.Test.Update.V3"
printf '%s\n%s\n' "$line1" "$line3" >"$tmp/p3/update.hsb"
# scan.patterns_dir is only used while no pattern is installed: it knows another body.
echo "$(sha256sum "$tmp/fallback.bin" | cut -d' ' -f1):20000:Webwarden.Test.Fallback" >"$tmp/fallback/f.hsb"
tar -C "$tmp/p1" -czf "$tmp/payloads/pattern-2026.11.27.1.tar.gz" . || exit 1
tar -C "$tmp/p2" -czf "$tmp/p2.tar.gz" . || exit 1
tar -C "$tmp/p3" -cf "$tmp/p3.tar" . || exit 1

# --- the fake update server --------------------------------------------------------------------
"${PYTHON3:-python3}" "$top_srcdir/t/fake_update.py" --payloads "$tmp/payloads" \
    --port-file "$tmp/upd.port" >"$tmp/upd.log" 2>&1 </dev/null &
upd_pid=$!
end=$(($(date +%s) + 60))
while [ ! -s "$tmp/upd.port" ]; do
    kill -0 "$upd_pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] ||
        { echo "FAIL: fake_update.py did not start"; cat "$tmp/upd.log"; exit 1; }
    sleep 0.05
done
upd="http://127.0.0.1:$(cat "$tmp/upd.port")"
upd_mode() {
    curl -s -o /dev/null --max-time 10 -H 'Content-Type: application/json' \
        -d "{\"mode\": \"$1\"}" "$upd/_mode" || fail "cannot set update server mode $1"
}

cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[scan]
patterns_dir = $tmp/fallback
max_size = 500K
tmp_dir = $tmp/spool
[daemon]
pid_file = $tmp/run/webwardend.pid
log_file = $tmp/daemon.log
[update]
server = $upd
dir = $tmp/updates
timeout_s = 3
interval_s = 1
EOF
ctl() { "$CTL" -c "$tmp/webwarden.conf" "$@"; }
ctl init >/dev/null || { echo "FAIL: webwardenctl init"; exit 1; }
# Updates run only under a license in force; a license server is not part of this test.
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 not installed"; exit 77; }
sqlite3 "$tmp/state.db" "UPDATE license SET activation_code = 'AB-CDEF-GHIJK-LMNOP-QRSTU-VWXYZ-12345',
    status = 'active', edition = 'test', expires = '2099-12-31', grace_days = 90 WHERE id = 1" ||
    { echo "FAIL: cannot store a test license"; exit 1; }

port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1

# verdict FILE: "blocked" or "clean" from webwarden_scan for that body.
verdict() {
    "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$1" \
        -resp "http://dl.webwarden.test/$(basename "$1")" -v >"$tmp/verdict.txt" 2>&1
    if grep -q "403 Forbidden" "$tmp/verdict.txt"; then echo blocked
    elif grep -q "ICAP/1.0 204" "$tmp/verdict.txt"; then echo clean
    else echo error; fi
}
# wait_verdict DESC FILE WANT [SECS]: polls until the verdict is WANT (default 15 s).
wait_verdict() {
    _end=$(($(date +%s) + ${4:-15}))
    while :; do
        _v=$(verdict "$2")
        [ "$_v" = "$3" ] && { ok "$1"; return 0; }
        [ "$(date +%s)" -lt "$_end" ] || { fail "$1: verdict $_v, want $3"; cat "$tmp/verdict.txt"; return 1; }
        sleep 0.3
    done
}

# --- before any update: scan.patterns_dir --------------------------------------------------------
wait_verdict "no pattern installed: scan.patterns_dir in use" "$tmp/fallback.bin" blocked 5
[ "$(verdict "$tmp/body1.bin")" = clean ] && ok "no pattern installed: body1 unknown" ||
    fail "no pattern installed: body1 should be clean"

# --- unsigned updates (issue 12, part 5): refused unless the admin says allow_unsigned --------
if ctl update now >"$tmp/unsigned.txt" 2>&1; then fail "an unsigned update was installed by default"
else ok "no update.public_key: the unsigned update is refused (exit 1)"; fi
expect_grep "unsigned refused: the reason says how to fix it" "$tmp/unsigned.txt" "update.allow_unsigned = yes"
[ "$(verdict "$tmp/body1.bin")" = clean ] && ok "unsigned refused: v1 not in force" ||
    fail "unsigned refused: v1 is in force"
printf 'allow_unsigned = yes\n' >>"$tmp/webwarden.conf" # [update] is the last section
ctl status >"$tmp/st_unsigned.txt" 2>&1
expect_grep "allow_unsigned: status says ATTENTION" "$tmp/st_unsigned.txt" "Health:        ATTENTION"
expect_grep "allow_unsigned: status names it" "$tmp/st_unsigned.txt" "update.allow_unsigned = yes"

# --- v1 ------------------------------------------------------------------------------------------
ctl update now >"$tmp/now1.txt" 2>&1 && ok "update now installs v1" ||
    { fail "update now (v1)"; cat "$tmp/now1.txt"; }
wait_verdict "v1 reaches the running c-icap" "$tmp/body1.bin" blocked
[ "$(verdict "$tmp/body2.bin")" = clean ] && ok "v1: body2 unknown" || fail "v1: body2 should be clean"

# --- a broken server leaves v1 in force ---------------------------------------------------------
cp "$tmp/p2.tar.gz" "$tmp/payloads/pattern-2026.11.27.2.tar.gz"
for mode in corrupt truncated 404 malformed hang; do
    upd_mode "$mode"
    if ctl update now >"$tmp/bad.txt" 2>&1; then fail "update now with a $mode server succeeded"
    else ok "update now with a $mode server fails (exit 1)"; fi
    ctl update status >"$tmp/status.txt" 2>&1
    grep -q "^pattern  *2026.11.27.1 " "$tmp/status.txt" && grep -q "^result: failed" "$tmp/status.txt" &&
        ok "$mode: status shows v1 current and the failure" ||
        { fail "$mode: status"; cat "$tmp/status.txt"; }
done
upd_mode normal
[ "$(verdict "$tmp/body1.bin")" = blocked ] && ok "after failed updates: v1 still detects" ||
    fail "after failed updates: body1 not blocked"
[ "$(verdict "$tmp/body2.bin")" = clean ] && ok "after failed updates: v2 not in force" ||
    fail "after failed updates: body2 should be clean"

# --- a good v2 reaches the running c-icap without a restart ----------------------------------
cicap_pid=$(cat "$tmp/var/c-icap.runpid")
ctl update now >"$tmp/now2.txt" 2>&1 && ok "update now installs v2" ||
    { fail "update now (v2)"; cat "$tmp/now2.txt"; }
wait_verdict "v2's new signature detected by the running c-icap" "$tmp/body2.bin" blocked 10
[ "$(verdict "$tmp/body1.bin")" = blocked ] && ok "v2 still detects body1" || fail "v2: body1"
kill -0 "$cicap_pid" 2>/dev/null && ok "c-icap was not restarted" || fail "c-icap is gone"
ctl update now >"$tmp/now3.txt" 2>&1 && grep -q "not needed" "$tmp/now3.txt" &&
    ok "update now again: not needed" || { fail "second update now"; cat "$tmp/now3.txt"; }

# --- rollback -------------------------------------------------------------------------------------
ctl update rollback pattern >"$tmp/rb.txt" 2>&1 && ok "update rollback pattern" ||
    { fail "rollback"; cat "$tmp/rb.txt"; }
wait_verdict "after rollback: v2's signature gone" "$tmp/body2.bin" clean 10
[ "$(verdict "$tmp/body1.bin")" = blocked ] && ok "after rollback: v1 detects" || fail "rollback: body1"
ctl update status >"$tmp/status.txt" 2>&1
grep -q "^pattern  *2026.11.27.1 " "$tmp/status.txt" && grep -q "rolled back" "$tmp/status.txt" &&
    ok "status after rollback" || { fail "status after rollback"; cat "$tmp/status.txt"; }
ctl update rollback engine >/dev/null 2>&1
[ $? = 2 ] && ok "rollback engine is refused (exit 2)" || fail "rollback engine"

# --- webwardend's scheduled update: v3 is published, nobody runs `update now` ---------------
if [ -x "$top_builddir/src/webwardend" ]; then
    "$top_builddir/src/webwardend" -c "$tmp/webwarden.conf" --foreground 2>>"$tmp/daemon.log" &
    wwd_pid=$!
    cp "$tmp/p3.tar" "$tmp/payloads/pattern-2026.11.27.3.tar"
    wait_verdict "webwardend's scheduled update brings v3 to the running c-icap" "$tmp/body3.bin" blocked 20
    [ "$(verdict "$tmp/body2.bin")" = clean ] && ok "v3 in force: body2 unknown" || fail "v3: body2"
    ww_stop_pids "$wwd_pid"
    wwd_pid=
    ctl status >"$tmp/st.txt" 2>&1
    grep -q "^  update .* yes  *\(ok\|not needed\):" "$tmp/st.txt" &&
        grep -q "^  pattern  *2026.11.27.3 " "$tmp/st.txt" &&
        ok "status shows pattern v3 and the update job's result" ||
        { fail "status after the scheduled update"; cat "$tmp/st.txt"; }
else
    fail "webwardend not built"
fi

# --- patterns swapped under load (issue 4): two updates and a rollback while bench/icapload keeps
# 4 connections busy, one body every version knows (body1: always the block page) and one none
# knows (fallback.bin: always 204). Not one request may fail, time out or get the other answer.
IL="$top_builddir/bench/icapload"
if [ -x "$IL" ]; then
    load_s=16
    load_t0=$(date +%s)
    "$IL" -P "$port" -s webwarden_scan -f "$tmp/fallback.bin" -c 2 -d "$load_s" -t 5000 \
        -l clean --json >"$tmp/load-clean.json" 2>"$tmp/load-clean.err" &
    lc_pid=$!
    "$IL" -P "$port" -s webwarden_scan -f "$tmp/body1.bin" -c 2 -d "$load_s" -t 5000 \
        -l infected --json >"$tmp/load-bad.json" 2>"$tmp/load-bad.err" &
    lb_pid=$!
    sleep 1
    cp "$tmp/p2.tar.gz" "$tmp/payloads/pattern-2026.11.27.4.tar.gz"
    ctl update now >"$tmp/now4.txt" 2>&1 && ok "under load: update now installs v4" ||
        { fail "under load: update now (v4)"; cat "$tmp/now4.txt"; }
    wait_verdict "under load: v4 (body2 known) in force" "$tmp/body2.bin" blocked 10
    ctl update rollback pattern >"$tmp/rb2.txt" 2>&1 && ok "under load: rollback to v3" ||
        { fail "under load: rollback"; cat "$tmp/rb2.txt"; }
    wait_verdict "under load: v3 back in force (body2 unknown)" "$tmp/body2.bin" clean 10
    tar -C "$tmp/p2" -cf "$tmp/payloads/pattern-2026.11.27.5.tar" . || exit 1
    ctl update now >"$tmp/now5.txt" 2>&1 && ok "under load: update now installs v5" ||
        { fail "under load: update now (v5)"; cat "$tmp/now5.txt"; }
    wait_verdict "under load: v5 in force" "$tmp/body2.bin" blocked 10
    [ $(($(date +%s) - load_t0)) -lt "$load_s" ] && ok "under load: the swaps ended inside the load" ||
        fail "under load: the swaps took longer than the ${load_s} s of load"
    wait "$lc_pid" "$lb_pid"
    lc_pid='' lb_pid=''
    "${PYTHON3:-python3}" - "$tmp/load-clean.json" "$tmp/load-bad.json" <<'PY' >"$tmp/load.txt" 2>&1
import json, sys
clean, bad = (json.load(open(f)) for f in sys.argv[1:3])
problems = []
for name, j, want in (("clean", clean, "204"), ("infected", bad, "200")):
    codes = j["status"]["by_code"]
    other = {k: v for k, v in codes.items() if k != want}
    print("%s: %d requests, by code %s, errors %d, timeouts %d, max %.1f ms" % (
        name, j["requests"], codes, j["errors"], j["timeouts"], j["latency_ms"]["max"]))
    if j["requests"] < 20 or j["errors"] or j["timeouts"] or other:
        problems.append(name)
sys.exit(1 if problems else 0)
PY
    if [ $? = 0 ]; then
        ok "3 pattern swaps under load: every request answered, every verdict right"
        sed 's/^/    /' "$tmp/load.txt"
    else
        fail "pattern swaps under load"
        cat "$tmp/load.txt" "$tmp/load-clean.err" "$tmp/load-bad.err"
    fi
    kill -0 "$cicap_pid" 2>/dev/null && ok "under load: c-icap was not restarted" ||
        fail "under load: c-icap is gone"
else
    fail "bench/icapload not built"
fi

if [ "$fails" -eq 0 ]; then
    status=0
    echo "PASS: it_update"
fi
exit "$status"

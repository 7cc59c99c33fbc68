#!/bin/sh
# t/it_deep_swap.sh - the ClamAV database folder replaced while bench/icapload runs (issue 13):
# two closed-loop loads against a real c-icap with the deep scanner, one sending a zip holding
# clam.exe (found only by the ClamAV folder's hash signature), one a clean zip, while the folder
# changes as freshclam changes it: a good database replaced by another with an extra signature
# (written aside, renamed over), a corrupt daily.cvd (refused: the engine in force stays), and
# the corrupt file taken away again. Every request must answer (no error, no timeout), the
# infected zip always blocked, the clean one always allowed, and the extra signature in force
# after the swap. Bounded: the loads run 45 s, each wait at most 60 s.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
IL=$top_builddir/bench/icapload
TESTFILES=/usr/share/clamav-testfiles
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "${PYTHON3:-python3}" sqlite3 md5sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -r "$TESTFILES/clam.zip" ] || { echo "SKIP: clamav-testfiles not installed"; exit 77; }
[ -x "$IL" ] || { echo "FAIL: $IL not built"; exit 1; }

l1= l2=
stop_loads() { [ -z "$l1$l2" ] || ww_stop_pids $l1 $l2; }
diag() {
    ww_it_tail "c-icap server.log" 40 "$tmp/var/log/server.log"
    ww_it_events 20
}
ww_it_begin stop_loads diag

mkdir -p "$tmp/patterns" "$tmp/clamav" "$tmp/spool" "$tmp/var"
clam_line=$(ww_hdb_line "$TESTFILES/clam.exe" Swap.ClamExe)
{ yes 'clean text line' | head -n 3000; } >"$tmp/clean.txt"
{ yes 'extra text line' | head -n 3000; echo "swap-extra-4411"; } >"$tmp/extra.txt"
extra_line=$(ww_hdb_line "$tmp/extra.txt" Swap.Extra)
"${PYTHON3:-python3}" -c 'import sys, zipfile
for out, src in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z: z.write(src, "member.txt")' \
    "$tmp/clean.zip" "$tmp/clean.txt" "$tmp/extra.zip" "$tmp/extra.txt" || exit 1
# Webwarden's own patterns know neither: the verdicts below come from the ClamAV folder.
echo "Webwarden.Test.Nothing:0:*:ffeeddccbbaa99887766554433221100" >"$tmp/patterns/none.ndb"
echo "$clam_line" >"$tmp/clamav/swap.hdb"
ww_deep_conf "$tmp/webwarden.conf" "$tmp"
"$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null || { echo "FAIL: init"; exit 1; }

port=$(ww_free_port)
ww_it_cicap "$tmp" "$port" || exit 1
pid=$(cat "$tmp/var/c-icap.runpid")
engine_has() { sqlite3 "$tmp/state.db" "select value from kv where key='clamav.engine'" | grep -qF "$1"; }
events_have() { sqlite3 "$tmp/state.db" "select message from events where source='clamav'" | grep -qF "$1"; }
wait_for 30 engine_has "loaded: 1 ClamAV signatures" && ok "deep scanner loaded the folder" ||
    fail "deep scanner did not load"
verdict() {
    "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$1" -resp "http://swap.webwarden.test/check/$(date +%s%N)/$(basename "$1")" \
        -v >"$tmp/verdict.txt" 2>&1
    if grep -q "403 Forbidden" "$tmp/verdict.txt"; then echo blocked
    elif grep -q "ICAP/1.0 204" "$tmp/verdict.txt"; then echo clean
    else echo error; fi
}
[ "$(verdict "$tmp/extra.zip")" = clean ] && ok "before the swap: the extra sample passes" ||
    fail "before the swap: the extra sample should pass"

# --- the loads --------------------------------------------------------------------------------------
"$IL" -P "$port" -s webwarden_scan -f "$TESTFILES/clam.zip" -p 1024 -c 2 -d 45 -t 15000 \
    -u http://swap.webwarden.test/infected.zip -l infected --json >"$tmp/l1.json" 2>"$tmp/l1.err" &
l1=$!
"$IL" -P "$port" -s webwarden_scan -f "$tmp/clean.zip" -p 1024 -c 2 -d 45 -t 15000 \
    -u http://swap.webwarden.test/clean.zip -l clean --json >"$tmp/l2.json" 2>"$tmp/l2.err" &
l2=$!
sleep 3

# 1. a good database replaced by another with an extra signature: written aside, renamed over
printf '%s\n%s\n' "$clam_line" "$extra_line" >"$tmp/clamav/.swap.hdb.new"
mv -f "$tmp/clamav/.swap.hdb.new" "$tmp/clamav/swap.hdb"
t0=$(date +%s)
if wait_for 60 engine_has "loaded: 2 ClamAV signatures"; then
    ok "renamed database: reloaded under load (after $(($(date +%s) - t0)) s)"
else fail "renamed database: no reload"; fi
end=$(($(date +%s) + 30))
while [ "$(verdict "$tmp/extra.zip")" != blocked ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
[ "$(verdict "$tmp/extra.zip")" = blocked ] && ok "after the swap: the extra signature is in force" ||
    fail "after the swap: the extra sample still passes"

# 2. a corrupt daily.cvd: refused, the engine in force stays
printf 'ClamAV-VDB:broken header\n' >"$tmp/clamav/.daily.cvd.new"
mv -f "$tmp/clamav/.daily.cvd.new" "$tmp/clamav/daily.cvd"
if wait_for 60 events_have "do not load"; then ok "corrupt daily.cvd: refused, an event says so"; else
    fail "corrupt daily.cvd: no event"; fi
[ "$(verdict "$tmp/extra.zip")" = blocked ] && ok "corrupt daily.cvd: the engine in force still blocks" ||
    fail "corrupt daily.cvd: the extra sample passes"

# 3. the corrupt file taken away: a good set again, reloaded
# counted before the move: the monitor looks every second and may reload before a count after it
n_before=$(sqlite3 "$tmp/state.db" "select count(*) from events where source='clamav' and message like 'loaded:%'")
mv -f "$tmp/clamav/daily.cvd" "$tmp/daily.cvd.removed"
reloaded_again() { [ "$(sqlite3 "$tmp/state.db" "select count(*) from events where source='clamav' and message like 'loaded:%'")" -gt "$n_before" ]; }
if wait_for 60 reloaded_again; then ok "corrupt file removed: reloaded"; else fail "corrupt file removed: no reload"; fi

wait "$l1"
rc1=$?
wait "$l2"
rc2=$?
l1= l2=
cat "$tmp/l1.err" "$tmp/l2.err"
# check FILE NAME WANT: WANT is 200 (every answer the block page) or 204 (every answer clean)
check() {
    "${PYTHON3:-python3}" - "$1" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = sys.argv[2]
other = sum(v for k, v in r["status"]["by_code"].items() if k != want)
ok = r["requests"] >= 20 and r["errors"] == 0 and r["timeouts"] == 0 and other == 0
print("%s: %d requests, %s %d, other codes %d, errors %d, timeouts %d, reconnects %d, %.1f req/s"
      % (r["label"], r["requests"], want, r["status"]["by_code"].get(want, 0), other,
         r["errors"], r["timeouts"], r["reconnects"], r["rps"]))
sys.exit(0 if ok else 1)
PY
}
[ "$rc1" = 0 ] && check "$tmp/l1.json" infected 200 && ok "infected load: every request answered with the block page" ||
    fail "infected load: a request failed or was not blocked"
[ "$rc2" = 0 ] && check "$tmp/l2.json" clean 204 && ok "clean load: every request answered 204" ||
    fail "clean load: a request failed or was not allowed"
# The access log agrees, line for line: every infected request blocked, every clean one clean.
log="$tmp/var/log/access.log"
n_inf=$(grep -c "url=http://swap.webwarden.test/infected.zip " "$log")
n_inf_block=$(grep -c "action=block url=http://swap.webwarden.test/infected.zip .*scanner=clamav deep=infected" "$log")
[ "$n_inf" -ge 20 ] && [ "$n_inf" = "$n_inf_block" ] && ok "access log: all $n_inf infected requests blocked by clamav" ||
    fail "access log: $n_inf_block of $n_inf infected requests blocked by clamav"
n_clean=$(grep -c "url=http://swap.webwarden.test/clean.zip " "$log")
n_clean_ok=$(grep -c "action=allow url=http://swap.webwarden.test/clean.zip .*deep=clean" "$log")
[ "$n_clean" -ge 20 ] && [ "$n_clean" = "$n_clean_ok" ] && ok "access log: all $n_clean clean requests deep-scanned clean" ||
    { fail "access log: $n_clean_ok of $n_clean clean requests clean"; grep "url=http://swap.webwarden.test/clean.zip " "$log" | grep -v "action=allow" | head -3; }
kill -0 "$pid" 2>/dev/null && ok "c-icap kept running (pid $pid)" || fail "c-icap exited"

ww_it_end

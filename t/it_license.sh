#!/bin/sh
# t/it_license.sh - webwardenctl license show|check|activate against t/fake_cloud.py: codes
# never shown in full, activation stores only an active license, and against a down, hanging,
# 500 or malformed server every command exits non-zero and leaves the license row
# byte-identical (sqlite3 'select * from license' before and after). Loopback only.
set -u

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/t/wwenv.sh"
CTL="$builddir/src/webwardenctl"
PY=${PYTHON3:-python3}
[ -x "$CTL" ] || { echo "missing $CTL: build first"; exit 1; }
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/it_license.XXXXXX") || exit 1
fake=""
cleanup() {
    [ -n "$fake" ] && kill -KILL "$fake" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fails=0
has_port() { [ -s "$tmp/port" ]; }

"$PY" "$srcdir/t/fake_cloud.py" --port-file "$tmp/port" 2>"$tmp/fake.log" &
fake=$!
wait_for 30 has_port || { echo "fake cloud did not start: $(cat "$tmp/fake.log")"; exit 1; }
port=$(cat "$tmp/port")
fake_mode() {
    "$PY" -c 'import json,sys,urllib.request as u
u.urlopen(u.Request("http://127.0.0.1:%s/_mode" % sys.argv[1], json.dumps({"mode": sys.argv[2]}).encode()), timeout=5).read()' "$port" "$1"
}

conf="$tmp/webwarden.conf"
db="$tmp/state.db"
write_conf() { # $1 = license server
    cat >"$conf" <<EOF
[state]
database = $db
[license]
server = $1
timeout_ms = 500
EOF
}
write_conf "http://127.0.0.1:$port"
"$CTL" -c "$conf" init >"$tmp/init.out" 2>&1 || { echo "init failed: $(cat "$tmp/init.out")"; exit 1; }
row() { sqlite3 -cmd ".timeout 5000" "$db" 'select * from license'; }

GOOD=ac-1234-abcde-fghij-klmno-pqrst-uvw12
GOOD_UP=AC-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12
OTHER=AC-9999-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-99999

# run NAME CMD...: runs webwardenctl, keeps stdout+stderr in $tmp/NAME.out, sets $rc
run() {
    name=$1
    shift
    "$CTL" -c "$conf" "$@" >"$tmp/$name.out" 2>&1
    rc=$?
}
no_full_code() { ! grep -qi -e "$GOOD_UP" -e "$OTHER" "$tmp/$1.out"; }

# ---- no license yet
run show0 license show
[ "$rc" -eq 0 ] && grep -qi "no license" "$tmp/show0.out" && ok "license show without a license" ||
    fail "show without license: exit $rc: $(cat "$tmp/show0.out")"

# ---- bad format: refused offline
run bad license activate AC-12-XYZ
[ "$rc" -ne 0 ] && grep -q "XX-XXXX-XXXXX" "$tmp/bad.out" && ok "a malformed code is refused (exit $rc)" ||
    fail "bad format: exit $rc: $(cat "$tmp/bad.out")"

# ---- activate: stored upper-cased, shown masked
run act license activate "$GOOD"
[ "$rc" -eq 0 ] && ok "activate with an active code" || fail "activate: exit $rc: $(cat "$tmp/act.out")"
no_full_code act && grep -q "UVW12" "$tmp/act.out" && ok "activate prints the code masked" ||
    fail "activate output shows the code: $(cat "$tmp/act.out")"
[ "$(sqlite3 "$db" 'select activation_code, status from license')" = "$GOOD_UP|active" ] &&
    ok "license row holds the normalised code, active" || fail "row: $(row)"
run show license show
[ "$rc" -eq 0 ] && no_full_code show && grep -q "days left" "$tmp/show.out" &&
    ok "license show: masked code and days left" || fail "show: exit $rc: $(cat "$tmp/show.out")"
run check license check
[ "$rc" -eq 0 ] && no_full_code check && grep -q "active" "$tmp/check.out" && ok "license check online" ||
    fail "check: exit $rc: $(cat "$tmp/check.out")"
run status status
grep -q "days left" "$tmp/status.out" && no_full_code status && ok "status shows the license days left" ||
    fail "status: $(cat "$tmp/status.out")"

# ---- refused activations keep the license
before=$(row)
for code in EX-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12 ZZ-1234-ABCDE-FGHIJ-KLMNO-PQRST-UVW12; do
    run refused license activate "$code"
    [ "$rc" -ne 0 ] && grep -q "activation refused" "$tmp/refused.out" && ! grep -q "$code" "$tmp/refused.out" &&
        ok "activation of a ${code%%-*} code refused (exit $rc)" ||
        fail "refused activation: exit $rc: $(cat "$tmp/refused.out")"
    [ "$(row)" = "$before" ] && ok "  license row unchanged" || fail "row changed: $before -> $(row)"
done

# ---- server failures: non-zero exit, clear error, row byte-identical
for mode in hang 500 malformed truncated wrongshape; do
    fake_mode "$mode" || { fail "cannot set mode $mode"; continue; }
    for cmd in check activate; do
        if [ "$cmd" = check ]; then run "f-$mode-$cmd" license check; else
            run "f-$mode-$cmd" license activate "$OTHER"; fi
        if [ "$rc" -ne 0 ] && grep -q "license server" "$tmp/f-$mode-$cmd.out" && no_full_code "f-$mode-$cmd"; then
            ok "license $cmd against a $mode server: exit $rc, $(head -1 "$tmp/f-$mode-$cmd.out")"
        else
            fail "license $cmd ($mode): exit $rc: $(cat "$tmp/f-$mode-$cmd.out")"
        fi
        [ "$(row)" = "$before" ] && ok "  license row byte-identical" || fail "row changed ($mode $cmd): $before -> $(row)"
    done
done
fake_mode normal

# ---- server down (nothing listens): same
kill -TERM "$fake"
wait "$fake" 2>/dev/null
fake=""
for cmd in check activate; do
    if [ "$cmd" = check ]; then run "down-$cmd" license check; else run "down-$cmd" license activate "$OTHER"; fi
    [ "$rc" -ne 0 ] && grep -q "license server unavailable" "$tmp/down-$cmd.out" &&
        ok "license $cmd against a down server: exit $rc" || fail "down $cmd: exit $rc: $(cat "$tmp/down-$cmd.out")"
    [ "$(row)" = "$before" ] && ok "  license row byte-identical" || fail "row changed (down $cmd): $before -> $(row)"
done
run show2 license show
[ "$rc" -eq 0 ] && grep -q "active" "$tmp/show2.out" && ok "license show works offline" ||
    fail "offline show: exit $rc: $(cat "$tmp/show2.out")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0

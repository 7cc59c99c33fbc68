#!/bin/sh
# t/it_ctl.sh - webwardenctl end to end on a temporary config and state database:
# init (idempotent), status (human and --json), scan-method, events, config, and the errors.
set -u

builddir=${top_builddir:-.}
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/t/wwenv.sh"
CTL="$builddir/src/webwardenctl"
PY=${PYTHON3:-python3}
[ -x "$CTL" ] || { echo "missing $CTL: build first"; exit 1; }
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/it_ctl.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

conf="$tmp/webwarden.conf"
cat >"$conf" <<EOF
[state]
database = $tmp/var/lib/state.db
[daemon]
pid_file = $tmp/run/webwardend.pid
EOF
db="$tmp/var/lib/state.db"

# run NAME ARGS...: runs webwardenctl -c $conf ARGS, output in $tmp/NAME.out/.err, code in $rc
run() {
    name=$1
    shift
    "$CTL" -c "$conf" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}
# expect_rc NAME WANT: the last run's exit code
expect_rc() {
    if [ "$rc" -eq "$2" ]; then ok "$1 exits $2"; else
        fail "$1 exits $rc, want $2; stderr: $(cat "$tmp/$1.err")"; fi
}
# expect_in FILE PATTERN WHAT
expect_in() {
    if grep -q -- "$2" "$1"; then ok "$3"; else fail "$3: no '$2' in $1:"; sed 's/^/    /' "$1"; fi
}
# json FILE PYTHON-EXPR: the expression over the parsed document d must be true
json() {
    if "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$2" 2>"$tmp/py.err"; then ok "json: $2"; else
        fail "json: $2 is false for $1: $(cat "$tmp/py.err")"; sed 's/^/    /' "$1"; fi
}

# --- help and usage
run help -h
expect_rc help 0
for cmd in init status scan-method events config; do expect_in "$tmp/help.out" "$cmd" "help lists $cmd"; done
run unknown frobnicate
expect_rc unknown 2
expect_in "$tmp/unknown.err" "unknown command 'frobnicate'" "unknown command is named"
run nocmd
expect_rc nocmd 2

# --- before init: a clear message, and no database created behind the admin's back
run missing status
expect_rc missing 1
expect_in "$tmp/missing.err" "does not exist" "missing database is reported"
expect_in "$tmp/missing.err" "webwardenctl init" "missing database names the fix"
[ ! -e "$db" ] && ok "status did not create the database" || fail "status created $db"

# --- init creates the folder and the database, twice without harm
run init1 init
expect_rc init1 0
expect_in "$tmp/init1.out" "$db" "init prints the database path"
expect_in "$tmp/init1.out" "schema version: [1-9]" "init prints the schema version"
[ -f "$db" ] && ok "database file exists" || fail "no database at $db"
run init2 init
expect_rc init2 0
if cmp -s "$tmp/init1.out" "$tmp/init2.out"; then ok "init is idempotent"; else
    fail "second init differs: $(cat "$tmp/init2.out")"; fi
WEBWARDEN_CONF="$conf" "$CTL" init >"$tmp/env.out" 2>&1
[ $? -eq 0 ] && grep -q "$db" "$tmp/env.out" && ok "WEBWARDEN_CONF is used without -c" ||
    fail "WEBWARDEN_CONF not used: $(cat "$tmp/env.out")"

# --- status
run status status
expect_rc status 0
for want in "Scan method:" "why:" "Components:" "pattern *none" "urldb *none" "engine *none" \
    "Feedback: *0 queued, 0 dropped" "License:" "Jobs:" "feedback" "health" "update" "license" \
    "Daemon: *not running" "Appliance id: *[0-9A-Za-z]"; do
    expect_in "$tmp/status.out" "$want" "status shows '$want'"
done
run sjson status --json
expect_rc sjson 0
json "$tmp/sjson.out" 'd["scan_method"]["method"] in ("smart", "conventional")'
json "$tmp/sjson.out" 'd["components"] == {"pattern": None, "urldb": None, "engine": None}'
json "$tmp/sjson.out" 'd["feedback"] == {"queued": 0, "dropped": 0}'
json "$tmp/sjson.out" 'sorted(d["jobs"]) == ["feedback", "health", "license", "update"]'
json "$tmp/sjson.out" 'd["jobs"]["update"]["last_run"] is None and d["jobs"]["update"]["ok"] is None'
json "$tmp/sjson.out" 'd["daemon"]["running"] is False and d["database"] == sys.argv[1].rsplit("/", 1)[0] + "/var/lib/state.db"'
json "$tmp/sjson.out" 'len(d["appliance_id"]) >= 8 and "license" in d'
run gjson --json status
expect_rc gjson 0
json "$tmp/gjson.out" '"scan_method" in d'
"$CTL" -c "$conf" status --json >"$tmp/sjson2.out" 2>&1
json "$tmp/sjson2.out" 'd["appliance_id"] == json.load(open(sys.argv[1].replace("sjson2", "sjson")))["appliance_id"]'

# --- license: the activation code is shown masked, with the days left
"$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE license SET activation_code=?, status=?, edition=?, expires=? WHERE id=1", ("AB-1234-5678-9ABC-DEF01", "active", "Standard", "2099-01-01")); c.commit()' "$db"
run lic status
expect_in "$tmp/lic.out" "License: *active (Standard)" "license status and edition shown"
expect_in "$tmp/lic.out" "code: *\*\**DEF01$" "activation code masked to its last 5"
expect_in "$tmp/lic.out" "expires: *2099-01-01 ([0-9]* days left)" "license expiry and days left"
if grep -q "1234" "$tmp/lic.out"; then fail "activation code shown in full"; else ok "code not in full"; fi
run licj status --json
json "$tmp/licj.out" 'd["license"]["activation_code"].endswith("DEF01") and "1234" not in d["license"]["activation_code"] and d["license"]["days_left"] > 20000'

# --- scan-method: get, set both ways with a reason, history in events
run ev0 events --json
n0=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$tmp/ev0.out")
run sm_get scan-method
expect_rc sm_get 0
expect_in "$tmp/sm_get.out" "^\(smart\|conventional\) (since" "scan-method prints the method"
run sm_conv scan-method conventional --reason "maintenance window 42"
expect_rc sm_conv 0
run sm_get2 scan-method
expect_in "$tmp/sm_get2.out" "^conventional" "method is now conventional"
expect_in "$tmp/sm_get2.out" "maintenance window 42" "the reason is shown"
expect_in "$tmp/sm_get2.out" "webwardenctl" "who changed it is shown"
run sm_same scan-method conventional
expect_rc sm_same 0
expect_in "$tmp/sm_same.out" "already conventional" "setting the same method is a no-op"
run sm_smart scan-method smart
expect_rc sm_smart 0
expect_in "$tmp/sm_smart.out" "no smart_scan.server configured" "smart says there was nothing to check"
run sm_json --json scan-method
json "$tmp/sm_json.out" 'd["method"] == "smart" and d["changed_by"] == "webwardenctl" and d["changed_at"].endswith("Z")'
run sm_force scan-method conventional --force --reason "forced"
expect_rc sm_force 0
run sm_bad scan-method fastest
expect_rc sm_bad 2
run sm_extra scan-method smart now
expect_rc sm_extra 2
run sm_reason_only scan-method --reason x
expect_rc sm_reason_only 2
run sjson3 status --json
json "$tmp/sjson3.out" 'd["scan_method"]["method"] == "conventional" and d["scan_method"]["reason"] == "forced"'

# --- events: the changes are there, oldest first, with ISO times
run ev1 events --json
expect_rc ev1 0
json "$tmp/ev1.out" "len(d['events']) >= $n0 + 3"
json "$tmp/ev1.out" 'all(e["at"].endswith("Z") and "T" in e["at"] for e in d["events"])'
json "$tmp/ev1.out" '[e["id"] for e in d["events"]] == sorted(e["id"] for e in d["events"])'
json "$tmp/ev1.out" 'any("conventional" in e["message"].lower() for e in d["events"])'
run ev2 events -n 2
expect_rc ev2 0
lines=$(wc -l <"$tmp/ev2.out")
[ "$lines" -eq 2 ] && ok "events -n 2 prints 2 lines" || fail "events -n 2 printed $lines lines"
expect_in "$tmp/ev2.out" "^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z " "events lines start with an ISO time"
last_json=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"][-1]["message"])' "$tmp/ev1.out")
last_txt=$(tail -n 1 "$tmp/ev2.out")
case "$last_txt" in *"$last_json"*) ok "newest event printed last" ;; *) fail "last line '$last_txt' is not the newest event '$last_json'" ;; esac
run ev_bad events -n zero
expect_rc ev_bad 2

# --- config
run config config
expect_rc config 0
expect_in "$tmp/config.out" "\[state\]" "config prints sections"
expect_in "$tmp/config.out" "$db" "config prints the database in force"

# --- a bad config line makes every command fail, naming file:line
bad="$tmp/bad.conf"
printf '[state]\ndatabase = %s\n[daemon]\nno_such_key = 1\n' "$db" >"$bad"
for cmd in init status scan-method events config "scan-method smart"; do
    # shellcheck disable=SC2086
    "$CTL" -c "$bad" $cmd >"$tmp/bad.out" 2>"$tmp/bad.err"
    brc=$?
    if [ "$brc" -eq 1 ] && grep -q "$bad:4" "$tmp/bad.err"; then ok "$cmd: bad config names $bad:4"; else
        fail "$cmd with bad config: exit $brc, stderr: $(cat "$tmp/bad.err")"; fi
done
run sjson4 status --json
json "$tmp/sjson4.out" 'd["scan_method"]["method"] == "conventional"'
"$CTL" -c "$tmp/nonexistent.conf" status >"$tmp/nc.out" 2>"$tmp/nc.err"
[ $? -eq 1 ] && grep -q "nonexistent.conf" "$tmp/nc.err" && ok "a missing config file is named" ||
    fail "missing config: $(cat "$tmp/nc.err")"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all passed"
exit 0

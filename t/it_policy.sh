#!/bin/sh
# t/it_policy.sh - named policies (issue 14) in a real c-icap, then end to end through a real
# Squid that authenticates its users: the same URL gives two answers for two identities; an
# identity written by the client into its own HTTP request changes nothing; the access log,
# the ICAP headers and the block page name the policy; a bad policy is refused with file:line.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "${PYTHON3:-python3}" base64; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-policy.XXXXXX")
chmod 755 "$tmp" # Squid runs as `proxy` when started by root and must reach its folder
fails=0
status=1
cleanup() {
    for f in "$tmp/var/squid.runpid" "$tmp/var/c-icap.runpid" "$tmp/origin.pid"; do
        [ -f "$f" ] && ww_stop_pids "$(cat "$f")"
    done
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 30 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- c-icap access.log (tail)"
        tail -n 20 "$tmp/var/log/access.log" 2>/dev/null
        echo "----- squid cache.log (tail)"
        tail -n 20 "$tmp/var/squid/cache.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- config: students are stricter, staff may use what everyone else may not --------------------
mkdir -p "$tmp/var" "$tmp/patterns" "$tmp/spool" "$tmp/www/games" "$tmp/www/social"
printf 'social.webwarden.test\n127.0.0.1/social/\n' >"$tmp/blocked.txt"
printf 'games.webwarden.test\n127.0.0.1/games/\n' >"$tmp/students-blocked.txt"
printf 'social.webwarden.test\n127.0.0.1/social/\n' >"$tmp/staff-approved.txt"
# EICAR from two pieces (no scanner flags this file), as a body signature for webwarden_scan.
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
echo "Webwarden.Test.Eicar.Body:0:*:$(od -An -v -tx1 "$tmp/eicar.com" | tr -d ' \n')" >"$tmp/patterns/test.ndb"
# 300 KB with EICAR at 200 KB: past the default scan.max_size (100K: the rest passes unscanned),
# within the students' (1M: found while the body streams, so the download is cut).
{ head -c 200000 /dev/urandom; cat "$tmp/eicar.com"; head -c 100000 /dev/urandom; } >"$tmp/www/games/setup.bin"
# File types (block_types) and the deep scanner (deep) per policy: a harmless PE and zip, and
# clamav-testfiles' clam.zip (clam.exe inside) with a ClamAV hash signature of clam.exe.
TESTFILES=/usr/share/clamav-testfiles
mkdir -p "$tmp/www/dl" "$tmp/clamav"
{ printf 'MZ\220\000'; head -c 5000 /dev/urandom; } >"$tmp/www/dl/tool.exe"
"${PYTHON3:-python3}" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("readme.txt", "a harmless zip\n" * 100); z.close()' "$tmp/www/dl/docs.zip"
have_testfiles=0
if [ -r "$TESTFILES/clam.zip" ] && [ -r "$TESTFILES/clam.exe" ]; then
    have_testfiles=1
    cp "$TESTFILES/clam.zip" "$tmp/www/dl/clam.zip"
    echo "$(md5sum "$TESTFILES/clam.exe" | cut -d' ' -f1):$(wc -c <"$TESTFILES/clam.exe" | tr -d ' '):Webwarden.Test.ClamExe" \
        >"$tmp/clamav/local-clam.hdb"
fi
cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
block_events_interval_s = 2
[state]
database = $tmp/state.db
[lists]
blocked = $tmp/blocked.txt
[scan]
patterns_dir = $tmp/patterns
tmp_dir = $tmp/spool
max_size = 100K

[policy students]
match = group students, client 10.20.0.0/16, user carol
blocked = students-blocked.txt
max_size = 1M

[policy staff]
match = user alice, user EXAMPLE\\dave, group staff
approved = staff-approved.txt

[policy servers]
match = client 10.30.0.0/16
deep = off

[policy guests]
match = client 10.40.0.0/16, user frank
block_types = executable, archive

[clamav]
database_dir = $tmp/clamav
EOF
"$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null || fail "webwardenctl init"

# --- webwardenctl url-check: the same lib calls the module makes ------------------------------
ctl() { "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" "$@"; }
ctl url-check http://games.webwarden.test/ --group students >"$tmp/ctl1.txt" 2>&1
expect_grep "url-check --group students: policy students" "$tmp/ctl1.txt" "policy:     students (match group students)"
expect_grep "url-check --group students: blocked" "$tmp/ctl1.txt" "decision:   block"
ctl url-check http://games.webwarden.test/ --client 10.1.2.3 --user bob >"$tmp/ctl2.txt" 2>&1
expect_grep "url-check as bob: default policy" "$tmp/ctl2.txt" "policy:     default"
expect_grep "url-check as bob: allowed" "$tmp/ctl2.txt" "decision:   allow"
ctl --json url-check http://social.webwarden.test/ --user Alice >"$tmp/ctl3.txt" 2>&1
expect_grep "url-check --json as alice: policy staff" "$tmp/ctl3.txt" '"policy": "staff"'
expect_grep "url-check --json as alice: allowed by her approved list" "$tmp/ctl3.txt" '"decision": "allow"'

# --- c-icap with the identity headers set --------------------------------------------------------
port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1
icap() { "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url "$@"; }

# Two identities, one URL, two answers.
icap -req http://games.webwarden.test/play -x 'X-Client-IP: 10.20.3.4' -v -o "$tmp/p1.html" >"$tmp/r1.txt" 2>&1
expect_grep "student address: blocked" "$tmp/r1.txt" "403 Forbidden"
expect_grep "student address: X-Webwarden-Policy names students" "$tmp/r1.txt" "X-Webwarden-Policy: students"
expect_grep "student address: the block page names the policy" "$tmp/p1.html" "<th>Policy</th><td>students</td>"
icap -req http://games.webwarden.test/play -x 'X-Client-IP: 10.1.3.4' -v >"$tmp/r2.txt" 2>&1
expect_grep "other address: allowed (204)" "$tmp/r2.txt" "ICAP/1.0 204"
expect_grep "other address: default policy" "$tmp/r2.txt" "X-Webwarden-Policy: default"

# Users: X-Client-Username plain, X-Authenticated-User base64 in the draft's URI forms.
icap -req http://social.webwarden.test/ -x 'X-Client-Username: ALICE' -v >"$tmp/r3.txt" 2>&1
expect_grep "alice (X-Client-Username): staff's approved list wins over the global blocked list" "$tmp/r3.txt" "ICAP/1.0 204"
b64=$(printf 'WinNT://EXAMPLE/dave' | base64)
icap -req http://social.webwarden.test/ -x "X-Authenticated-User: $b64" -v >"$tmp/r4.txt" 2>&1
expect_grep "EXAMPLE\\dave (X-Authenticated-User, base64 WinNT://): staff" "$tmp/r4.txt" "X-Webwarden-Policy: staff"
icap -req http://social.webwarden.test/ -x 'X-Client-Username: bob' -v >"$tmp/r5.txt" 2>&1
expect_grep "bob: the global blocked list" "$tmp/r5.txt" "403 Forbidden"
# Groups: several in one header, and several headers.
icap -req http://games.webwarden.test/ -x 'X-Authenticated-Groups: others, Students' -v >"$tmp/r6.txt" 2>&1
expect_grep "groups 'others, Students': students" "$tmp/r6.txt" "X-Webwarden-Policy: students"
icap -req http://games.webwarden.test/ -x 'X-Authenticated-Groups: others' -x 'X-Authenticated-Groups: staff' -v >"$tmp/r7.txt" 2>&1
expect_grep "two group headers, the second staff: staff" "$tmp/r7.txt" "X-Webwarden-Policy: staff"
# The first matching policy in the file wins: a staff member from a student address.
icap -req http://games.webwarden.test/ -x 'X-Client-IP: 10.20.0.1' -x 'X-Client-Username: alice' -v >"$tmp/r8.txt" 2>&1
expect_grep "alice from a student address: students (first in the file)" "$tmp/r8.txt" "X-Webwarden-Policy: students"

# Spoofing: identity headers inside the encapsulated HTTP request are the client's own text.
icap -req http://games.webwarden.test/ -x 'X-Client-IP: 10.1.1.1' \
    -hx 'X-Client-IP: 10.20.1.1' -hx 'X-Authenticated-Groups: students' -v >"$tmp/s1.txt" 2>&1
expect_grep "spoofed student headers in the HTTP request: still default" "$tmp/s1.txt" "X-Webwarden-Policy: default"
expect_grep "spoofed student headers: still allowed" "$tmp/s1.txt" "ICAP/1.0 204"
icap -req http://games.webwarden.test/ -x 'X-Client-IP: 10.20.1.1' \
    -hx 'X-Client-Username: alice' -hx "X-Authenticated-User: $(printf 'Local://alice' | base64)" \
    -hx 'X-Client-IP: 10.1.1.1' -v >"$tmp/s2.txt" 2>&1
expect_grep "a student claiming to be alice in the HTTP request: still students" "$tmp/s2.txt" "X-Webwarden-Policy: students"
expect_grep "a student claiming to be alice: still blocked" "$tmp/s2.txt" "403 Forbidden"
icap -req http://social.webwarden.test/ -hx 'X-Client-Username: alice' -v >"$tmp/s3.txt" 2>&1
expect_grep "nobody claiming to be alice: the global blocked list" "$tmp/s3.txt" "403 Forbidden"

# RESPMOD: the policy's scan.max_size. The same download is scanned and blocked for a student,
# passed unscanned (over the default 100K, logged) for anyone else.
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -nopreview -no204 -f "$tmp/www/games/setup.bin" \
    -resp http://dl.webwarden.test/setup.bin -x 'X-Client-IP: 10.20.7.7' -v -o "$tmp/d1.out" >"$tmp/d1.txt" 2>&1
if cmp -s "$tmp/www/games/setup.bin" "$tmp/d1.out"; then
    fail "download as a student (max_size 1M): the whole file arrived"
else
    ok "download as a student (max_size 1M): scanned to the end, cut ($(wc -c <"$tmp/d1.out" 2>/dev/null || echo 0) bytes)"
fi
# A cut download may end before c-icap-client prints the ICAP headers: the access log names it.
if wait_for 10 grep -q 'url=http://dl.webwarden.test/setup.bin .*policy=students' "$tmp/var/log/access.log"; then
    ok "download as a student: logged with policy=students"
else
    fail "no access-log line for setup.bin with policy=students"
fi
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -nopreview -no204 -f "$tmp/www/games/setup.bin" \
    -resp http://dl.webwarden.test/setup.bin -x 'X-Client-IP: 10.1.7.7' -v -o "$tmp/d2.out" >"$tmp/d2.txt" 2>&1
if cmp -s "$tmp/www/games/setup.bin" "$tmp/d2.out"; then
    ok "the same download as anyone else (default max_size 100K): the whole file"
else
    fail "the same download as anyone else: the file did not arrive whole"
fi
if wait_for 10 grep -q 'url=http://dl.webwarden.test/setup.bin .*policy=default' "$tmp/var/log/access.log"; then
    ok "the same download as anyone else: logged with policy=default"
else
    fail "no access-log line for setup.bin with policy=default"
fi
# The detection event records the policy (the child's tick writes it within a second or so).
if wait_for 20 sh -c "'$top_builddir/src/webwardenctl' -c '$tmp/webwarden.conf' events -n 20 | grep -q 'setup.bin: download cut after [0-9]* bytes (policy students)'"; then
    ok "detection event: 'download cut after N bytes (policy students)'"
else
    fail "detection event without the policy:"
    ctl events -n 5
fi

# block_types per policy: the guest network gets the block page for a PE and a zip (their true
# types, whatever the name), the server network downloads them whole.
resp() { # resp FILE URL OUT CLIENT-IP
    "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -nopreview -no204 -f "$1" -resp "$2" \
        -x "X-Client-IP: $4" -v -o "$3.out" >"$3.txt" 2>&1
}
resp "$tmp/www/dl/tool.exe" http://dl.webwarden.test/tool.exe "$tmp/t1" 10.40.1.1
expect_grep "guest network, a PE: the block page" "$tmp/t1.txt" "403 Forbidden"
expect_grep "guest network, a PE: the page gives the reason" "$tmp/t1.out" "file type pe blocked by policy guests"
expect_grep "guest network, a PE: the page names the policy" "$tmp/t1.out" "<th>Policy</th><td>guests</td>"
expect_grep "guest network, a PE: X-Infection-Found names the policy's threat" "$tmp/t1.txt" "Threat=Webwarden.Policy.BlockedFileType"
cp "$tmp/www/dl/tool.exe" "$tmp/www/dl/holiday.jpg" # a name says nothing: the bytes decide
resp "$tmp/www/dl/holiday.jpg" http://dl.webwarden.test/holiday.jpg "$tmp/t2" 10.40.1.1
expect_grep "guest network, a PE named .jpg: the block page" "$tmp/t2.out" "file type pe blocked by policy guests"
resp "$tmp/www/dl/docs.zip" http://dl.webwarden.test/docs.zip "$tmp/t3" 10.40.1.1
expect_grep "guest network, a zip: the block page" "$tmp/t3.out" "file type zip blocked by policy guests"
resp "$tmp/www/dl/tool.exe" http://dl.webwarden.test/tool.exe "$tmp/t4" 10.30.1.1
cmp -s "$tmp/www/dl/tool.exe" "$tmp/t4.out" && ok "server network, the same PE: the whole file" ||
    fail "server network, the same PE: not the whole file"
resp "$tmp/www/dl/docs.zip" http://dl.webwarden.test/docs.zip "$tmp/t5" 10.1.1.1
cmp -s "$tmp/www/dl/docs.zip" "$tmp/t5.out" && ok "default policy, the same zip: the whole file" ||
    fail "default policy, the same zip: not the whole file"
if wait_for 10 grep -q 'url=http://dl.webwarden.test/tool.exe reason="file type pe blocked by policy guests".*type=pe .*policy=guests' "$tmp/var/log/access.log"; then
    ok "access log: the file-type block with its reason, type=pe and policy=guests"
else
    fail "access log: no file-type block line for tool.exe"
fi
if wait_for 20 sh -c "'$top_builddir/src/webwardenctl' -c '$tmp/webwarden.conf' events -n 50 | grep -q 'blocked http://dl.webwarden.test/tool.exe (policy guests): file type pe blocked by policy guests'"; then
    ok "event: the file-type block names URL, policy and reason"
else
    fail "no event for the file-type block"
    ctl events -n 10
fi

# deep per policy: clam.exe inside a zip is found by the deep scanner for the default policy,
# not for the servers (deep = off); the fast engine alone does not know the zip.
if [ "$have_testfiles" = 1 ]; then
    resp "$tmp/www/dl/clam.zip" http://dl.webwarden.test/clam.zip "$tmp/z1" 10.1.1.1
    expect_grep "default policy (deep on): clam.exe in clam.zip found" "$tmp/z1.txt" "Threat=Webwarden.Test.ClamExe"
    resp "$tmp/www/dl/clam.zip" http://dl.webwarden.test/clam.zip "$tmp/z2" 10.30.1.1
    cmp -s "$tmp/www/dl/clam.zip" "$tmp/z2.out" && ok "servers (deep = off): clam.zip passes whole" ||
        fail "servers (deep = off): clam.zip did not pass whole"
    if wait_for 10 grep -q 'url=http://dl.webwarden.test/clam.zip .*deep=off policy=servers' "$tmp/var/log/access.log"; then
        ok "access log: clam.zip for the servers with deep=off"
    else
        fail "access log: no deep=off line for the servers' clam.zip"
    fi
    grep 'url=http://dl.webwarden.test/clam.zip .*policy=default' "$tmp/var/log/access.log" >"$tmp/z1.log" || true
    expect_grep "access log: clam.zip for the default policy: scanner=clamav deep=infected" "$tmp/z1.log" "scanner=clamav deep=infected"
else
    echo "note: clamav-testfiles not installed: the deep on/off part is skipped"
fi

# URL blocks are events naming the policy (r1 above: a student blocked on games).
if wait_for 20 sh -c "'$top_builddir/src/webwardenctl' -c '$tmp/webwarden.conf' events -n 50 | grep -q 'blocked http://games.webwarden.test/play (policy students): '"; then
    ok "event: a URL block names the URL and the policy"
else
    fail "no event for the URL block of games.webwarden.test/play"
    ctl events -n 10
fi
# 1000 blocks of one URL: a bounded number of events whose counts add up to 1000.
"${PYTHON3:-python3}" - "$port" >"$tmp/flood.txt" 2>&1 <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
http = b"GET http://games.webwarden.test/flood HTTP/1.1\r\nHost: games.webwarden.test\r\n\r\n"
head = (b"REQMOD icap://127.0.0.1:%d/webwarden_url ICAP/1.0\r\nHost: 127.0.0.1\r\n"
        b"X-Client-IP: 10.20.9.9\r\nConnection: close\r\nAllow: 204\r\n"
        b"Encapsulated: req-hdr=0, null-body=%d\r\n\r\n" % (port, len(http)))
blocked = 0
t0 = time.time()
for i in range(1000):
    if time.time() - t0 > 120:
        break
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head + http)
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        data += b
        if data.endswith(b"0\r\n\r\n"):
            break
    s.close()
    if b"403 Forbidden" in data:
        blocked += 1
print("blocked", blocked, "in", round(time.time() - t0, 1), "s")
PYEOF
cat "$tmp/flood.txt"
grep -q '^blocked 1000 ' "$tmp/flood.txt" && ok "1000 requests for one blocked URL: 1000 block pages" ||
    fail "1000 requests for one blocked URL: $(cat "$tmp/flood.txt")"
flood_sum() {
    ctl events -n 500 | grep 'blocked http://games.webwarden.test/flood (policy students)' >"$tmp/flood-ev.txt"
    awk '{ if (match($0, /: [0-9]+ times /)) { s += substr($0, RSTART + 2, RLENGTH - 9) } else { s += 1 } } END { print s + 0 }' "$tmp/flood-ev.txt"
}
flood_done() { [ "$(flood_sum)" -ge 1000 ]; }
# Repeats are written once per block_events_interval_s (2 s) per child.
if wait_for 30 flood_done; then
    n=$(wc -l <"$tmp/flood-ev.txt")
    total=$(flood_sum)
    [ "$total" = 1000 ] && ok "flood events: the counts add up to 1000 blocks" ||
        fail "flood events: the counts add up to $total, want 1000"
    # 4 children at most, each: the first at once plus one per 2 s of the flood, plus the last.
    secs=$(sed -n 's/.* in \([0-9]*\).*/\1/p' "$tmp/flood.txt")
    bound=$((4 * (3 + ${secs:-0} / 2)))
    [ "$n" -le "$bound" ] && ok "flood events: $n events for 1000 blocks (bound $bound)" ||
        fail "flood events: $n events for 1000 blocks, more than $bound"
else
    fail "flood events: the counts reach only $(flood_sum) of 1000"
    tail -n 5 "$tmp/flood-ev.txt"
fi

# Unusable identity values: no crash, default policy.
icap -req http://games.webwarden.test/ -x 'X-Client-IP: 10.20.1.1, 10.1.1.1' -x 'X-Client-Username: ' -v >"$tmp/u1.txt" 2>&1
expect_grep "two addresses in X-Client-IP: not an address, default" "$tmp/u1.txt" "X-Webwarden-Policy: default"

# The access log names the policy.
wait_for 10 grep -q 'policy=students' "$tmp/var/log/access.log" || true
expect_grep "access log: policy=students" "$tmp/var/log/access.log" "policy=students"
expect_grep "access log: policy=staff" "$tmp/var/log/access.log" "policy=staff"
expect_grep "access log: policy=default" "$tmp/var/log/access.log" "policy=default"

# --- a bad policy is refused with file:line ------------------------------------------------------
cp "$tmp/webwarden.conf" "$tmp/bad.conf"
printf '\n[policy lab]\nmatch = client 10.20.5.0/24\n' >>"$tmp/bad.conf"
lab_line=$(grep -n '^match = client 10.20.5.0/24' "$tmp/bad.conf" | cut -d: -f1)
students_line=$(grep -n '^\[policy students\]' "$tmp/bad.conf" | cut -d: -f1)
if ctl -c "$tmp/bad.conf" config >"$tmp/bad.txt" 2>&1; then fail "a dead policy term: accepted"; else
    expect_grep "a dead policy term: refused with file:line" "$tmp/bad.txt" "bad.conf:$lab_line: [policy lab] match \"client 10.20.5.0/24\" can never apply: policy students (line $students_line)"
fi
printf '[policy x]\nmatch = client 10.0.0.1/8\n' >"$tmp/bad2.conf"
if ctl -c "$tmp/bad2.conf" config >"$tmp/bad2.txt" 2>&1; then fail "a bad CIDR: accepted"; else
    expect_grep "a bad CIDR: refused with file:line and the fix" "$tmp/bad2.txt" "bad2.conf:2: [policy x] match \"client 10.0.0.1/8\": host bits are set after the /8 prefix: write 10.0.0.0/8"
fi

printf '[policy k]\nmatch = group k\nblocked = no-such-list.txt\n' >"$tmp/bad3.conf"
if ctl -c "$tmp/bad3.conf" config >"$tmp/bad3.txt" 2>&1; then fail "a missing policy list: accepted by config"; else
    expect_grep "a missing policy list: webwardenctl config names it" "$tmp/bad3.txt" "[policy k] blocked: "
fi

# c-icap reconfigure with a bad policy: refused, and the services keep serving the last good
# configuration (lib/ww_lastgood: the copy kept in the state store at the last good load); the
# server log and `webwardenctl status` name file and line; the good file comes back.
cp "$tmp/webwarden.conf" "$tmp/good.conf"
opt_code() { icap_opt=$("$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url 2>&1 | sed -n 's/.*ICAP\/1.0 \([0-9]*\).*/\1/p' | head -1); [ "$icap_opt" = "$1" ]; }
# c-icap ignores a reconfigure while the last one is pending (old children still draining):
# ask again every 5 s until the log shows it ran.
reconfigure_until() { # reconfigure_until PATTERN: 1 when server.log shows it within 90 s
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do
        printf 'reconfigure' >"$tmp/var/run/c-icap.ctl"
        if wait_for 5 grep -q "$1" "$tmp/var/log/server.log"; then return 0; fi
    done
    return 1
}
cp "$tmp/bad.conf" "$tmp/webwarden.conf"
if reconfigure_until "webwarden_url: configuration rejected: $tmp/webwarden.conf:$lab_line: \[policy lab\]"; then
    ok "reconfigure with a dead policy term: server.log names webwarden.conf:$lab_line and keeps the last good configuration"
else
    fail "reconfigure with a dead policy term: no 'configuration rejected: ...webwarden.conf:$lab_line' in server.log"
fi
expect_grep "server.log: the scan service also serves the last good configuration" "$tmp/var/log/server.log" \
    "webwarden_scan: configuration rejected: $tmp/webwarden.conf:$lab_line: [policy lab]"
sleep 2
if opt_code 200; then ok "after the rejected reconfigure: webwarden_url answers 200 (not 500)"; else
    fail "after the rejected reconfigure: OPTIONS gives '$icap_opt', want 200"; fi
icap -req http://games.webwarden.test/play -x 'X-Client-IP: 10.20.3.4' -v >"$tmp/k1.txt" 2>&1
expect_grep "after the rejected reconfigure: a student is still blocked (policy students)" "$tmp/k1.txt" "X-Webwarden-Policy: students"
expect_grep "after the rejected reconfigure: ... with the block page" "$tmp/k1.txt" "403 Forbidden"
resp "$tmp/www/dl/tool.exe" http://dl.webwarden.test/tool.exe "$tmp/k2" 10.40.1.1
expect_grep "after the rejected reconfigure: the guest network still gets the PE's block page" "$tmp/k2.txt" "Threat=Webwarden.Policy.BlockedFileType"
ctl status >"$tmp/k3.txt" 2>&1
expect_grep "webwardenctl status on the broken file: ATTENTION" "$tmp/k3.txt" "Health:        ATTENTION"
expect_grep "webwardenctl status names file and line" "$tmp/k3.txt" "configuration rejected: $tmp/webwarden.conf:$lab_line: [policy lab]"
expect_grep "webwardenctl status: since when the copy serves" "$tmp/k3.txt" "serving the configuration loaded at "
# An unknown key in a policy: the same.
cp "$tmp/good.conf" "$tmp/webwarden.conf"
printf '\n[policy lab2]\nmatch = client 10.99.0.0/16\nblock = exe\n' >>"$tmp/webwarden.conf"
key_line=$(grep -n '^block = exe' "$tmp/webwarden.conf" | cut -d: -f1)
if reconfigure_until "configuration rejected: $tmp/webwarden.conf:$key_line: "; then
    ok "reconfigure with an unknown key: refused with webwarden.conf:$key_line, the last good configuration serves"
else
    fail "reconfigure with an unknown key: no 'configuration rejected: ...webwarden.conf:$key_line' in server.log"
fi
sleep 2
icap -req http://games.webwarden.test/play -x 'X-Client-IP: 10.20.3.4' -v >"$tmp/k4.txt" 2>&1
expect_grep "after the unknown key: a student is still blocked" "$tmp/k4.txt" "403 Forbidden"
# webwardenctl reload checks first: the broken file is never handed to c-icap.
if ctl reload --ctl "$tmp/var/run/c-icap.ctl" >"$tmp/k5.txt" 2>&1; then
    fail "webwardenctl reload with an unknown key: accepted"
else
    expect_grep "webwardenctl reload with an unknown key: refused with file:line" "$tmp/k5.txt" "webwarden.conf:$key_line: "
fi
cp "$tmp/good.conf" "$tmp/webwarden.conf"
# One webwardenctl reload: it asks again while c-icap ignores it (the reconfigures above may
# still have children finishing) and returns once the services loaded the file.
if ctl reload --ctl "$tmp/var/run/c-icap.ctl" --wait 90 >"$tmp/k6.txt" 2>&1; then
    expect_grep "webwardenctl reload with the good file: waits until the services loaded it" "$tmp/k6.txt" \
        "c-icap reconfigured ($tmp/var/run/c-icap.ctl), the services loaded it"
else
    fail "webwardenctl reload with the good file: $(cat "$tmp/k6.txt")"
fi
if ctl status 2>&1 | grep -q 'configuration rejected'; then
    fail "reconfigure with the good file: status still says the configuration is rejected"
else
    ok "reconfigure with the good file again: status no longer says rejected (no waiting after the reload)"
fi
if wait_for 30 opt_code 200; then ok "reconfigure with the good file again: 200"; else
    fail "reconfigure with the good file: OPTIONS gives '$icap_opt', want 200"; fi

# --- Squid end to end: basic_ncsa_auth users, groups through adaptation_meta ---------------------
SQUID=${SQUID_BIN:-/usr/sbin/squid}
NCSA=${SQUID_NCSA:-/usr/lib/squid/basic_ncsa_auth}
if ! command -v "$SQUID" >/dev/null 2>&1 || [ ! -x "$NCSA" ] || ! command -v openssl >/dev/null 2>&1 ||
    ! command -v curl >/dev/null 2>&1; then
    echo "note: Squid, basic_ncsa_auth, openssl or curl missing: the end-to-end part is skipped"
else
    printf 'game data\n' >"$tmp/www/games/level1.txt"
    printf 'social page\n' >"$tmp/www/social/index.txt"
    oport=$(ww_start_origin "$tmp/www" "$tmp/origin.pid") || exit 1
    {
        echo "alice:$(openssl passwd -apr1 alicepw)"
        echo "bob:$(openssl passwd -apr1 bobpw)"
        echo "erin:$(openssl passwd -apr1 erinpw)"
        echo "frank:$(openssl passwd -apr1 frankpw)"
    } >"$tmp/htpasswd"
    chmod 644 "$tmp/htpasswd"
    sport=$(ww_free_port)
    ww_squid_conf "$tmp/squid.conf" "$sport" "$port" "$tmp/var" || exit 1
    # The lines docs/admin-guide.md gives, before the first http_access line.
    cat >"$tmp/squid-auth.conf" <<EOF
auth_param basic program $NCSA $tmp/htpasswd
auth_param basic realm webwarden-test
acl authenticated proxy_auth REQUIRED
acl group_students proxy_auth erin
acl group_staff proxy_auth alice
http_access deny !authenticated
adaptation_send_client_ip on
adaptation_send_username on
adaptation_meta X-Authenticated-Groups students group_students
adaptation_meta X-Authenticated-Groups staff group_staff
EOF
    awk -v f="$tmp/squid-auth.conf" '/^http_access allow localhost/ { while ((getline l < f) > 0) print l } { print }' \
        "$tmp/squid.conf" >"$tmp/squid.conf.new" && mv "$tmp/squid.conf.new" "$tmp/squid.conf"
    [ "$(id -u)" = 0 ] && id proxy >/dev/null 2>&1 && chown -R proxy "$tmp/var/squid"
    ww_start_squid "$tmp/squid.conf" "$tmp/var" || exit 1
    url="http://127.0.0.1:$oport/games/level1.txt"
    get() { curl -s -o "$tmp/body.txt" -w '%{http_code}' --max-time 20 -x "http://127.0.0.1:$sport" "$@"; }
    code=$(get "$url")
    [ "$code" = 407 ] && ok "no credentials: 407 from Squid" || fail "no credentials: got $code, want 407"
    code=$(get --proxy-user erin:erinpw "$url")
    [ "$code" = 403 ] && ok "erin (group students via adaptation_meta): 403" || fail "erin: got $code, want 403"
    expect_grep "erin's block page names policy students" "$tmp/body.txt" "<th>Policy</th><td>students</td>"
    dl="http://127.0.0.1:$oport/games/setup.bin"
    get --proxy-user erin:erinpw "$dl" >/dev/null
    if cmp -s "$tmp/body.txt" "$tmp/www/games/setup.bin"; then
        fail "erin downloads setup.bin: the whole file arrived"
    else
        ok "erin downloads setup.bin: scanned to the end (students' max_size 1M), never whole"
    fi
    code=$(get --proxy-user bob:bobpw "$dl")
    if [ "$code" = 200 ] && cmp -s "$tmp/body.txt" "$tmp/www/games/setup.bin"; then
        ok "bob downloads the same file: over the default max_size, passed unscanned (200, whole)"
    else
        fail "bob's download: got $code or a different body"
    fi
    # block_types: frank (policy guests by user name) gets the block page for a PE, bob the file.
    exe="http://127.0.0.1:$oport/dl/tool.exe"
    code=$(get --proxy-user frank:frankpw "$exe")
    [ "$code" = 403 ] && ok "frank (policy guests) downloads tool.exe: 403" || fail "frank: tool.exe got $code, want 403"
    expect_grep "frank's block page: file type pe blocked by policy guests" "$tmp/body.txt" "file type pe blocked by policy guests"
    code=$(get --proxy-user bob:bobpw "$exe")
    if [ "$code" = 200 ] && cmp -s "$tmp/body.txt" "$tmp/www/dl/tool.exe"; then
        ok "bob downloads the same tool.exe: 200, the whole file"
    else
        fail "bob's tool.exe: got $code or a different body"
    fi
    code=$(get --proxy-user bob:bobpw "$url")
    [ "$code" = 200 ] && ok "bob (no group): 200, the same URL" || fail "bob: got $code, want 200"
    expect_grep "bob got the file" "$tmp/body.txt" "game data"
    # A student writing someone else's identity into the request still gets students.
    code=$(get --proxy-user erin:erinpw -H 'X-Client-Username: alice' -H 'X-Authenticated-Groups: staff' \
        -H 'X-Client-IP: 10.1.1.1' "$url")
    [ "$code" = 403 ] && ok "erin with spoofed alice/staff headers: still 403" || fail "erin spoofing: got $code, want 403"
    social="http://127.0.0.1:$oport/social/index.txt"
    code=$(get --proxy-user alice:alicepw "$social")
    [ "$code" = 200 ] && ok "alice (group staff via adaptation_meta): her approved list, 200" ||
        fail "alice: $social got $code, want 200"
    code=$(get --proxy-user bob:bobpw "$social")
    [ "$code" = 403 ] && ok "bob: the same URL blocked by the global list" || fail "bob: $social got $code, want 403"
    if wait_for 10 grep -q "url=$social .*policy=staff" "$tmp/var/log/access.log"; then
        ok "c-icap access log: alice's request with policy=staff"
    else
        fail "c-icap access log: no line for alice's request with policy=staff"
        tail -n 8 "$tmp/var/log/access.log"
    fi
fi

if [ "$fails" -eq 0 ]; then
    status=0
    echo "it_policy: all passed"
else
    echo "it_policy: $fails failed"
fi
exit "$status"

#!/bin/sh
# t/it_install.sh - README's "Installing" steps on this machine, with Debian's c-icap config and
# its c-icap user (./quickstart test runs it): configure with a temporary prefix (for
# /usr/local), make, make install; webwardenctl init --group c-icap --patterns with the installed
# config's defaults (/var/lib/webwarden); the Include line in (a copy of) Debian's c-icap.conf;
# webwardend; then EICAR blocked, a listed domain blocked, the detection in the store, the units
# installed with the prefix's paths. Removes /var/lib/webwarden, /run/webwarden and c-icap's
# webwarden.log afterwards (it skips (77) when the first exists already), stops what it started
# by PID. Needs root (c-icap's children switch to user c-icap).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: c-icap switches its children to user c-icap only when started as root"; exit 77; }
id c-icap >/dev/null 2>&1 || { echo "SKIP: no user c-icap (Debian's c-icap package)"; exit 77; }
[ -r /etc/c-icap/c-icap.conf ] || { echo "SKIP: no /etc/c-icap/c-icap.conf"; exit 77; }
[ ! -e /var/lib/webwarden ] || { echo "SKIP: /var/lib/webwarden exists (an installed Webwarden); the test would remove it"; exit 77; }

exec 9>/run/lock/webwarden-install-tests.lock
flock -w 900 9 || { echo "FAIL: another package or install test holds the lock"; exit 1; }
[ ! -e /var/lib/webwarden ] || { echo "SKIP: /var/lib/webwarden appeared"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-install.XXXXXX")
chmod 755 "$tmp" # c-icap's children (user c-icap) load the modules from the prefix
prefix="$tmp/prefix"
fails=0
made_run=0
made_log=0
[ -d /run/webwarden ] || made_run=1
[ -e /var/log/c-icap/webwarden.log ] || made_log=1
cleanup() {
    for f in "$tmp/var/c-icap.runpid" "$tmp/webwardend.pid"; do
        [ -f "$f" ] && ww_stop_pids "$(cat "$f")"
    done
    rm -rf /var/lib/webwarden
    [ "$made_run" = 1 ] && rm -rf /run/webwarden
    [ "$made_log" = 1 ] && rm -f /var/log/c-icap/webwarden.log
    if [ "$fails" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 30 "$tmp/var/log/server.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
start=$(date +%s)

# --- README: configure, make, make install (out of tree: the source may be configured elsewhere) ---
mkdir "$tmp/build"
if (cd "$tmp/build" && "$top_srcdir/configure" -q --prefix="$prefix" && make -s -j2 && make -s install) \
    >"$tmp/build.log" 2>&1; then
    ok "configure --prefix, make, make install in $(($(date +%s) - start)) s"
else
    fail "configure/make/make install:"
    tail -n 40 "$tmp/build.log"
    exit 1
fi
PATH="$prefix/bin:$prefix/sbin:$PATH"
conf="$prefix/etc/webwarden/webwarden.conf"
for f in "$prefix/sbin/webwardend" "$prefix/bin/webwardenctl" "$conf" \
    "$prefix/etc/webwarden/c-icap-webwarden.conf" "$prefix/lib/webwarden/srv_webwarden_scan.so" \
    "$prefix/lib/systemd/system/webwardend.service" \
    "$prefix/lib/systemd/system/c-icap.service.d/webwarden.conf" \
    "$prefix/share/webwarden/patterns/webwarden-test.ndb"; do
    [ -e "$f" ] || fail "make install did not install $f"
done
expect_grep "the unit runs the prefix's webwardend" "$prefix/lib/systemd/system/webwardend.service" \
    "ExecStart=$prefix/sbin/webwardend --foreground"

# --- README: webwardenctl init --group c-icap --patterns (the installed config's defaults) ----------
printf 'blocked.webwarden.test\n' >"$prefix/etc/webwarden/blocked.txt"
sed -i 's|^# blocked = blocked.txt$|blocked = blocked.txt|' "$conf"
if webwardenctl init --group c-icap --patterns >"$tmp/init.out" 2>&1; then
    ok "webwardenctl init --group c-icap --patterns"
else
    fail "webwardenctl init:"
    cat "$tmp/init.out"
fi
[ "$(stat -c '%G %a' /var/lib/webwarden/state.db 2>&1)" = "c-icap 660" ] && ok "state.db: group c-icap, 0660" ||
    fail "state.db: $(stat -c '%U:%G %a' /var/lib/webwarden/state.db 2>&1)"
ls /var/lib/webwarden/patterns/webwarden-test.ndb >/dev/null 2>&1 && ok "default scan.patterns_dir made, starter patterns in it" ||
    fail "no starter patterns in /var/lib/webwarden/patterns: $(cat "$tmp/init.out")"

# --- README: start webwardend; the Include line in c-icap's config; start c-icap -----------------
webwardend --foreground >"$tmp/webwardend.log" 2>&1 &
echo $! >"$tmp/webwardend.pid"
port=$(ww_free_port)
ww_cicap_conf_debian "$tmp/c-icap.conf" "$port" "$tmp/var" "$prefix/etc/webwarden/c-icap-webwarden.conf" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || { fail "c-icap did not start"; exit 1; }
icap() { "${CICAP_CLIENT:-c-icap-client}" -i 127.0.0.1 -p "$port" "$@"; }

printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
icap -s webwarden_scan -f "$tmp/eicar.com" -resp 'http://dl.webwarden.test/eicar.com' -v >"$tmp/s_eicar.txt" 2>&1
expect_grep "EICAR: 403" "$tmp/s_eicar.txt" "403 Forbidden"
icap -s webwarden_url -req 'http://www.blocked.webwarden.test/a' -v >"$tmp/r_blocked.txt" 2>&1
expect_grep "listed domain: 403" "$tmp/r_blocked.txt" "403 Forbidden"
icap -s webwarden_url -req 'http://neutral.example.org/' -v >"$tmp/r_neutral.txt" 2>&1
expect_grep "unlisted domain: 204" "$tmp/r_neutral.txt" "ICAP/1.0 204"
events_has_eicar() { webwardenctl events -n 50 2>/dev/null | grep -q "dl.webwarden.test/eicar.com"; }
if wait_for 20 events_has_eicar; then
    ok "the detection is in the store (written by a child running as c-icap)"
else
    fail "no detection in the events: $(webwardenctl events -n 5 2>&1)"
fi
expect_no_grep "c-icap's children opened the state database" "$tmp/var/log/server.log" "not open"

echo "install test: $(($(date +%s) - start)) s, $fails failure(s)"
[ "$fails" = 0 ]

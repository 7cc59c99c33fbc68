#!/bin/sh
# t/it_package.sh - the Debian package on this machine, as an admin meets it (./quickstart test
# runs it): builds the .deb from a clean copy of the source (nothing from ./build) with
# dpkg-buildpackage, lintian (no errors; warnings listed), installs it, runs the autopkgtest
# debian/tests/package (EICAR, 204, events, status healthy, Squid 403), installs it again over
# itself (the database and its rows kept), purges it (state, config, user, logs gone).
# Leaves the machine as it found it: it purges what it installed, also on failure.
# Skips (77) when not root, without the dpkg tools, or when a webwarden package, its state
# folder or its user is already here (it would replace them).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: the package test installs a .deb: run it as root"; exit 77; }
for tool in dpkg-buildpackage dpkg lintian setpriv sqlite3 "${SQUID_BIN:-/usr/sbin/squid}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
if dpkg-query -W -f='${db:Status-Status}' webwarden 2>/dev/null | grep -qv '^not-installed$'; then
    echo "SKIP: a webwarden package is on this machine ($(dpkg-query -W -f='${Version} ${db:Status-Status}' webwarden)); the test would replace it"
    exit 77
fi
[ ! -e /var/lib/webwarden ] || { echo "SKIP: /var/lib/webwarden exists; the test would purge it"; exit 77; }
! getent passwd webwarden >/dev/null || { echo "SKIP: user webwarden exists; purge would remove it"; exit 77; }

# One package test at a time on this machine (t/it_install.sh takes the same lock).
exec 9>/run/lock/webwarden-install-tests.lock
flock -w 900 9 || { echo "FAIL: another package or install test holds /run/lock/webwarden-install-tests.lock"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-package.XXXXXX")
chmod 755 "$tmp"
fails=0
installed=0
cleanup() {
    if [ "$installed" = 1 ] && dpkg-query -W webwarden >/dev/null 2>&1; then
        dpkg --purge webwarden >>"$tmp/purge.log" 2>&1 || { echo "cleanup: purge failed:"; tail "$tmp/purge.log"; }
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
start=$(date +%s)

# --- build from a clean copy ---------------------------------------------------------------------
mkdir "$tmp/src"
if [ -d "$top_srcdir/.git" ] || [ -f "$top_srcdir/.git" ]; then
    # Tracked and new files, not what .gitignore names (builds, generated files).
    (cd "$top_srcdir" && git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - 2>/dev/null) |
        tar -C "$tmp/src" -xf -
else
    (cd "$top_srcdir" && tar --exclude='./build*' --exclude=./var --exclude=autom4te.cache -cf - .) |
        tar -C "$tmp/src" -xf -
fi
[ -f "$tmp/src/debian/rules" ] || { echo "FAIL: no debian/rules in the copy of $top_srcdir"; exit 1; }
if (cd "$tmp/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
    deb=$(ls "$tmp"/webwarden_*.deb 2>/dev/null | head -1)
    ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") in $(($(date +%s) - start)) s"
else
    fail "dpkg-buildpackage failed:"
    tail -n 40 "$tmp/build.log"
    exit 1
fi
dpkg-deb -c "$deb" >"$tmp/contents.txt"
for f in ./usr/sbin/webwardend ./usr/bin/webwardenctl ./etc/webwarden/webwarden.conf \
    ./etc/webwarden/c-icap-webwarden.conf ./lib/systemd/system/webwardend.service \
    ./lib/systemd/system/c-icap.service.d/webwarden.conf ./etc/logrotate.d/webwarden \
    ./usr/share/webwarden/patterns/webwarden-test.ndb ./usr/share/doc/webwarden/admin-guide.md.gz; do
    grep -q " $f\$" "$tmp/contents.txt" || fail "the .deb lacks $f"
done
grep -q '/webwarden/srv_webwarden_scan.so$' "$tmp/contents.txt" || fail "the .deb lacks the modules"
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/webwarden/webwarden.conf "$tmp/control/conffiles" && ok "webwarden.conf is a conffile" ||
    fail "webwarden.conf is not a conffile"

# --- lintian ----------------------------------------------------------------------------------------
lintian -I --no-tag-display-limit "$deb" >"$tmp/lintian.txt" 2>&1
if grep -q '^E:' "$tmp/lintian.txt"; then
    fail "lintian errors:"
    grep '^E:' "$tmp/lintian.txt"
else
    ok "lintian: no errors, $(grep -c '^W:' "$tmp/lintian.txt") warnings, $(grep -c '^I:' "$tmp/lintian.txt") infos"
fi
sed -n 's/^\([WI]: .*\)/  lintian \1/p' "$tmp/lintian.txt"

# --- install, the autopkgtest, upgrade over itself, purge -------------------------------------------
installed=1
if dpkg -i "$deb" >"$tmp/install.log" 2>&1; then
    ok "dpkg -i"
else
    fail "dpkg -i failed:"
    tail -n 30 "$tmp/install.log"
    exit 1
fi
[ "$(stat -c '%U:%G %a' /var/lib/webwarden)" = "webwarden:c-icap 2770" ] && ok "postinst: /var/lib/webwarden webwarden:c-icap 2770" ||
    fail "postinst: /var/lib/webwarden is $(stat -c '%U:%G %a' /var/lib/webwarden 2>&1)"
[ "$(stat -c '%U:%G %a' /var/lib/webwarden/state.db)" = "webwarden:c-icap 660" ] && ok "postinst: state.db webwarden:c-icap 0660" ||
    fail "postinst: state.db is $(stat -c '%U:%G %a' /var/lib/webwarden/state.db 2>&1)"
getent passwd webwarden | grep -q ':/usr/sbin/nologin$' && ok "postinst: system user webwarden, no login" ||
    fail "postinst: user webwarden: $(getent passwd webwarden)"

unit=/lib/systemd/system/webwardend.service
if command -v systemd-analyze >/dev/null 2>&1; then
    rating=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: //p')
    # --threshold=49: exposure 4.9, the top of "OK"
    if systemd-analyze security --offline=true --threshold=49 "$unit" >/dev/null 2>&1; then
        ok "systemd-analyze security webwardend.service: $rating"
    else
        fail "systemd-analyze security webwardend.service: $rating, above OK"
    fi
fi
if sh "$top_srcdir/debian/tests/package" >"$tmp/autopkgtest.log" 2>&1; then
    ok "debian/tests/package: $(grep -c '^ok:' "$tmp/autopkgtest.log") checks passed"
else
    fail "debian/tests/package:"
    cat "$tmp/autopkgtest.log"
fi
grep '^\(ok\|FAIL\):' "$tmp/autopkgtest.log" | sed 's/^/  /'
left=$(ps -u webwarden -o pid=,args= 2>/dev/null)
[ -z "$left" ] && ok "debian/tests/package stopped what it started" || fail "processes of user webwarden left: $left"

# Upgrade: a database as the first release made it (sql/schema.sql alone, version 1) with a row
# of ours; installing the package again must keep the row and bring the schema to this
# version's (the newest version `init` made above), as an upgrade from an older release would.
db=/var/lib/webwarden/state.db
latest=$(sqlite3 "$db" 'pragma user_version')
appliance=$(sqlite3 "$db" "select value from kv where key = 'appliance_id'")
rm -f "$db" "$db-wal" "$db-shm"
{
    cat "$top_srcdir/sql/schema.sql"
    echo "PRAGMA user_version = 1;"
    echo "INSERT INTO kv (key, value, updated_at) VALUES ('appliance_id', '$appliance', 1);"
    echo "INSERT INTO events (at, level, source, message) VALUES (1, 'info', 'test', 'row from before the upgrade');"
} | setpriv --reuid=webwarden --regid=c-icap --clear-groups -- sqlite3 "$db" >"$tmp/olddb.log" 2>&1 ||
    fail "could not make a version-1 database: $(cat "$tmp/olddb.log")"
chmod 0660 "$db"
if dpkg -i "$deb" >"$tmp/upgrade.log" 2>&1; then
    got=$(sqlite3 "$db" 'pragma user_version')
    rows=$(sqlite3 "$db" "select count(*) from events where message = 'row from before the upgrade'")
    id_after=$(sqlite3 "$db" "select value from kv where key = 'appliance_id'")
    if [ "$got" = "$latest" ] && [ "$rows" = 1 ] && [ "$id_after" = "$appliance" ]; then
        ok "upgrade over itself keeps the database and migrates it (schema 1 -> $got, rows kept)"
    else
        fail "upgrade: schema 1 -> $got (want $latest), old row x$rows, appliance '$appliance' -> '$id_after'"
    fi
    [ "$(stat -c '%U:%G %a' "$db")" = "webwarden:c-icap 660" ] || fail "upgrade: state.db is $(stat -c '%U:%G %a' "$db")"
else
    fail "dpkg -i over itself failed:"
    tail -n 30 "$tmp/upgrade.log"
fi

if dpkg --purge webwarden >"$tmp/purge.log" 2>&1; then
    ok "dpkg --purge"
else
    fail "dpkg --purge failed:"
    tail -n 30 "$tmp/purge.log"
fi
for p in /var/lib/webwarden /etc/webwarden /lib/systemd/system/webwardend.service \
    /etc/systemd/system/multi-user.target.wants/webwardend.service /var/log/c-icap/webwarden.log \
    /usr/sbin/webwardend; do
    [ ! -e "$p" ] || fail "purge left $p"
done
! getent passwd webwarden >/dev/null && ok "purge removed the user webwarden" || fail "purge left the user webwarden"
dpkg-query -W webwarden >/dev/null 2>&1 && fail "dpkg still knows webwarden after purge"
installed=0

echo "package test: $(($(date +%s) - start)) s, $fails failure(s)"
[ "$fails" = 0 ]

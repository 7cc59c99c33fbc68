# t/wwenv.sh - shell functions to run c-icap, Squid and a loopback origin for Webwarden's tests
# and ./quickstart, and the it_*.sh helpers (ok, fail, expect_grep, expect_no_grep, wait_for,
# the frame ww_it_begin/ww_it_end and the deep scanner's set-up).
# POSIX sh; sourcing it only defines functions (no side effects).
# Uses: ${CICAP_BIN:-/usr/bin/c-icap} ${SQUID_BIN:-/usr/sbin/squid} ${CICAP_CLIENT:-c-icap-client}
#       ${PYTHON3:-python3}; $top_srcdir and $top_builddir (set by `make check` and ./quickstart).
# Every wait polls with a deadline; processes are stopped by PID only.

# Prints a free loopback TCP port.
ww_free_port() {
    "${PYTHON3:-python3}" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# 0 if something accepts connections on 127.0.0.1:PORT.
ww_port_open() {
    "${PYTHON3:-python3}" -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
s.close()' "$1" 2>/dev/null
}

# ww_wait_port PORT [SECS] [PID]: waits until the port accepts connections (default 20 s);
# fails early when PID (if given) has exited.
ww_wait_port() {
    _wp_end=$(($(date +%s) + ${2:-20}))
    while ! ww_port_open "$1"; do
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            return 1
        fi
        [ "$(date +%s)" -lt "$_wp_end" ] || return 1
        sleep 0.1
    done
    return 0
}

# ww_cicap_conf OUT PORT WWCONF VARDIR: writes a complete c-icap.conf for our two services on
# 127.0.0.1:PORT, with run files, spool and logs under VARDIR (run/, tmp/, log/). No User line:
# c-icap keeps the identity it is started with (root included).
ww_cicap_conf() {
    _cc_out=$1 _cc_port=$2 _cc_ww=$3 _cc_var=$4
    _cc_mods="${top_builddir:?top_builddir not set}/modules/.libs"
    _cc_sys=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap/)
    mkdir -p "$_cc_var/run" "$_cc_var/tmp" "$_cc_var/log" || return 1
    case "$_cc_ww" in /*) ;; *) _cc_ww="$(pwd)/$_cc_ww" ;; esac
    {
        echo "# c-icap.conf for Webwarden, written by t/wwenv.sh ww_cicap_conf"
        echo "PidFile $_cc_var/run/c-icap.pid"
        echo "CommandsSocket $_cc_var/run/c-icap.ctl"
        echo "Port 127.0.0.1:$_cc_port"
        echo "Timeout 300"
        echo "MaxKeepAliveRequests 100"
        echo "KeepAliveTimeout 600"
        echo "StartServers 2"
        echo "MaxServers 4"
        echo "MinSpareThreads 5"
        echo "MaxSpareThreads 40"
        echo "ThreadsPerChild 10"
        echo "MaxRequestsPerChild 0"
        echo "ServerAdmin root@localhost"
        echo "ServerName webwarden"
        echo "TmpDir $_cc_var/tmp"
        echo "MaxMemObject 131072"
        echo "DebugLevel ${WW_DEBUG:-1}"
        echo "Pipelining on"
        echo "ModulesDir $_cc_sys"
        echo "ServicesDir $_cc_sys"
        echo "TemplateDir /usr/share/c_icap/templates/"
        [ -r /etc/c-icap/c-icap.magic ] && echo "LoadMagicFile /etc/c-icap/c-icap.magic"
        echo "ServerLog $_cc_var/log/server.log"
        echo 'LogFormat webwarden "%tl %a %im %is %iu action=%{webwarden:action}Sa url=%{webwarden:url}Sa reason=\"%{webwarden:reason}Sa\" score=%{webwarden:score}Sa category=%{webwarden:category}Sa threat=%{webwarden:threat}Sa sha256=%{webwarden:sha256}Sa size=%{webwarden:size}Sa ms=%{webwarden:ms}Sa source=%{webwarden:source}Sa smart=%{webwarden:smart}Sa type=%{webwarden:type}Sa scanner=%{webwarden:scanner}Sa deep=%{webwarden:deep}Sa policy=%{webwarden:policy}Sa"'
        echo "AccessLog $_cc_var/log/access.log webwarden"
        echo "Service webwarden_url $_cc_mods/srv_webwarden_url.so"
        echo "webwarden_url.ConfigFile $_cc_ww"
        echo "Service webwarden_scan $_cc_mods/srv_webwarden_scan.so"
        echo "webwarden_scan.ConfigFile $_cc_ww"
    } >"$_cc_out"
}

# ww_start_cicap CONF VARDIR: starts c-icap in the background (PID in VARDIR/c-icap.runpid) and
# waits for its port. c-icap exits with status 0 on a config error, so a vanished process or a
# port that never opens is the failure signal: the server log is printed then.
ww_start_cicap() {
    _sc_conf=$1 _sc_var=$2
    _sc_port=$(sed -n 's/^Port 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$_sc_conf")
    mkdir -p "$_sc_var/log"
    # A sanitizer build: the modules need the ASan runtime first in c-icap (the build sets
    # WW_CICAP_PRELOAD); leaks of c-icap itself at exit are not ours to report.
    set -- env
    if [ -n "${WW_CICAP_PRELOAD:-}" ]; then
        set -- env LD_PRELOAD="$WW_CICAP_PRELOAD" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
    fi
    if [ -n "${WW_DEBUG:-}" ]; then
        "$@" "${CICAP_BIN:-/usr/bin/c-icap}" -N -f "$_sc_conf" -D -d "$WW_DEBUG" >>"$_sc_var/log/c-icap.out" 2>&1 &
    else
        "$@" "${CICAP_BIN:-/usr/bin/c-icap}" -N -f "$_sc_conf" >>"$_sc_var/log/c-icap.out" 2>&1 &
    fi
    _sc_pid=$!
    echo "$_sc_pid" >"$_sc_var/c-icap.runpid"
    if ! ww_wait_port "$_sc_port" 60 "$_sc_pid"; then
        echo "wwenv: c-icap did not start on 127.0.0.1:$_sc_port (config $_sc_conf)" >&2
        tail -n 40 "$_sc_var/log/server.log" "$_sc_var/log/c-icap.out" >&2 2>/dev/null
        return 1
    fi
    return 0
}

# ww_cicap_conf_debian OUT PORT VARDIR SNIPPET: Debian's own /etc/c-icap/c-icap.conf (User and
# Group c-icap, its modules folder) with only the port (127.0.0.1:PORT), pid file, command socket
# and the two logs moved under VARDIR (run/, log/: owned by c-icap) and one or two children, plus
# the line an admin adds to enable Webwarden: Include SNIPPET. Start it with ww_start_cicap.
ww_cicap_conf_debian() {
    _cd_out=$1 _cd_port=$2 _cd_var=$3 _cd_snip=$4
    mkdir -p "$_cd_var/run" "$_cd_var/log" || return 1
    if [ "$(id -u)" = 0 ] && id c-icap >/dev/null 2>&1; then
        chown c-icap:c-icap "$_cd_var/run" "$_cd_var/log"
    fi
    sed -e "s|^Port .*|Port 127.0.0.1:$_cd_port|" \
        -e "s|^PidFile .*|PidFile $_cd_var/run/c-icap.pid|" \
        -e "s|^CommandsSocket .*|CommandsSocket $_cd_var/run/c-icap.ctl|" \
        -e "s|^ServerLog .*|ServerLog $_cd_var/log/server.log|" \
        -e "s|^AccessLog .*|AccessLog $_cd_var/log/access.log|" \
        -e "s|^StartServers .*|StartServers 1|" -e "s|^MaxServers .*|MaxServers 2|" \
        /etc/c-icap/c-icap.conf >"$_cd_out" || return 1
    echo "Include $_cd_snip" >>"$_cd_out"
}

# ww_squid_conf OUT PORT ICAP_PORT VARDIR: a Squid on 127.0.0.1:PORT using our two services on
# ICAP_PORT, no cache, logs and pid under VARDIR/squid (owned by `proxy` when run as root).
ww_squid_conf() {
    _qc_out=$1 _qc_port=$2 _qc_icap=$3 _qc_var=$4
    mkdir -p "$_qc_var/squid" || return 1
    cat >"$_qc_out" <<EOF
# squid.conf for Webwarden tests, written by t/wwenv.sh ww_squid_conf
http_port 127.0.0.1:$_qc_port
visible_hostname webwarden-test
pid_filename $_qc_var/squid/squid.pid
access_log stdio:$_qc_var/squid/access.log
cache_log $_qc_var/squid/cache.log
cache_store_log none
coredump_dir $_qc_var/squid
netdb_filename none
pinger_enable off
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
cache deny all
cache_mem 8 MB
http_access allow localhost
http_access deny all
icap_enable on
icap_preview_enable on
icap_service ww_req reqmod_precache icap://127.0.0.1:$_qc_icap/webwarden_url bypass=off
icap_service ww_resp respmod_precache icap://127.0.0.1:$_qc_icap/webwarden_scan bypass=off
adaptation_access ww_req allow all
adaptation_access ww_resp allow all
EOF
    if [ "$(id -u)" = 0 ] && id proxy >/dev/null 2>&1; then
        chown -R proxy "$_qc_var/squid"
    fi
}

# ww_start_squid CONF VARDIR [PROBE_URL]: starts `squid -N` in the background (PID in
# VARDIR/squid.runpid), waits for its port and, with PROBE_URL (a URL our REQMOD service
# blocks), until a request through it gets the 403: the ICAP OPTIONS exchange is then done.
ww_start_squid() {
    _ss_conf=$1 _ss_var=$2 _ss_probe=${3:-}
    _ss_port=$(sed -n 's/^http_port 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$_ss_conf")
    "${SQUID_BIN:-/usr/sbin/squid}" -N -f "$_ss_conf" >>"$_ss_var/squid/squid.out" 2>&1 &
    _ss_pid=$!
    echo "$_ss_pid" >"$_ss_var/squid.runpid"
    if ! ww_wait_port "$_ss_port" 60 "$_ss_pid"; then
        echo "wwenv: squid did not start on 127.0.0.1:$_ss_port" >&2
        tail -n 40 "$_ss_var/squid/cache.log" "$_ss_var/squid/squid.out" >&2 2>/dev/null
        return 1
    fi
    [ -n "$_ss_probe" ] || return 0
    _ss_end=$(($(date +%s) + 60))
    while :; do
        _ss_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:$_ss_port" "$_ss_probe")
        [ "$_ss_code" = 403 ] && return 0
        if [ "$(date +%s)" -ge "$_ss_end" ]; then
            echo "wwenv: squid up but $_ss_probe gives $_ss_code, not 403" >&2
            tail -n 40 "$_ss_var/squid/cache.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.2
    done
}

# ww_start_origin DIR [PIDFILE]: serves DIR with t/origin.py on a free loopback port; prints the
# port. PID into PIDFILE (default DIR.origin.pid). See t/origin.py for chunked and gzip paths.
ww_start_origin() {
    _so_dir=$1 _so_pidf=${2:-$1.origin.pid}
    _so_portf="$_so_pidf.port"
    rm -f "$_so_portf"
    "${PYTHON3:-python3}" "${top_srcdir:?top_srcdir not set}/t/origin.py" --dir "$_so_dir" \
        --port-file "$_so_portf" >>"$_so_pidf.log" 2>&1 </dev/null &
    echo $! >"$_so_pidf"
    _so_end=$(($(date +%s) + 30))
    while [ ! -s "$_so_portf" ]; do
        if ! kill -0 "$(cat "$_so_pidf")" 2>/dev/null || [ "$(date +%s)" -ge "$_so_end" ]; then
            echo "wwenv: origin did not start" >&2
            cat "$_so_pidf.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.05
    done
    cat "$_so_portf"
}

# ww_stop_pids PID...: SIGTERM, wait up to 10 s for each, then SIGKILL. Never by name.
ww_stop_pids() {
    for _sp in "$@"; do
        [ -z "$_sp" ] || kill "$_sp" 2>/dev/null || true
    done
    _sp_end=$(($(date +%s) + 10))
    for _sp in "$@"; do
        [ -n "$_sp" ] || continue
        while kill -0 "$_sp" 2>/dev/null; do
            if [ "$(date +%s)" -ge "$_sp_end" ]; then
                kill -9 "$_sp" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
    done
    return 0
}

# --- test helpers (the it_*.sh scripts keep the count in $fails) ---------------------------------
fail() {
    echo "FAIL: $*"
    fails=$((${fails:-0} + 1))
}
ok() { echo "ok: $*"; }
# expect_grep DESC FILE PATTERN: FILE must contain the fixed string PATTERN.
expect_grep() {
    if grep -qF -- "$3" "$2" 2>/dev/null; then ok "$1"; else
        fail "$1: '$3' not found in $2:"
        sed -n '1,30p' "$2" 2>/dev/null
    fi
}
# expect_no_grep DESC FILE PATTERN: FILE must not contain it.
expect_no_grep() {
    if grep -qF -- "$3" "$2" 2>/dev/null; then
        fail "$1: '$3' unexpectedly in $2:"
        grep -nF -- "$3" "$2" | head -5
    else ok "$1"; fi
}
# wait_for SECS COMMAND...: polls COMMAND every 0.1 s until it succeeds (0) or SECS pass (1).
wait_for() {
    _wf_end=$(($(date +%s) + $1))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -lt "$_wf_end" ] || return 1
        sleep 0.1
    done
    return 0
}

# --- the frame of an it_*.sh: its folder, its cleanup at exit, its verdict ------------------------
# ww_it_begin [STOP_FN [DIAG_FN]]: a fresh folder $tmp (${TMPDIR:-/tmp}/ww-it-<name>.XXXXXX, the
# name from the script's: it_deep_swap.sh -> deep-swap), fails=0, status=1 (ww_it_end sets 0), and
# the traps: ww_it_cleanup at exit, exit 1 on INT and TERM. STOP_FN (a function of the script,
# or "") stops what the script started itself; DIAG_FN prints what helps when a check failed.
ww_it_begin() {
    ww_it_name=$(basename "$0" .sh)
    ww_it_stop_fn=${1:-} ww_it_diag_fn=${2:-}
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-$(echo "$ww_it_name" | tr _ -).XXXXXX") || exit 1
    fails=0
    status=1
    trap ww_it_cleanup EXIT
    trap 'exit 1' INT TERM
}

# ww_it_cleanup: the EXIT trap of ww_it_begin. Runs STOP_FN, stops by PID what wwenv.sh started
# under $tmp (Squid, c-icap: $tmp/var/*.runpid; the origin: $tmp/origin.pid), runs DIAG_FN when
# $status is not 0, and removes $tmp unless WW_KEEP is set.
ww_it_cleanup() {
    [ -z "$ww_it_stop_fn" ] || "$ww_it_stop_fn"
    for _ic_f in "$tmp/var/squid.runpid" "$tmp/var/c-icap.runpid" "$tmp/origin.pid"; do
        [ -f "$_ic_f" ] && ww_stop_pids "$(cat "$_ic_f")"
    done
    if [ "$status" != 0 ] && [ -n "$ww_it_diag_fn" ]; then
        "$ww_it_diag_fn"
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}

# ww_it_end: the last line of an it_*.sh: "<name>: all checks passed" and exit 0, or
# "<name>: N check(s) failed" and exit 1.
ww_it_end() {
    if [ "$fails" -eq 0 ]; then
        status=0
        echo "$ww_it_name: all checks passed"
    else
        echo "$ww_it_name: $fails check(s) failed"
    fi
    exit "$status"
}

# ww_it_tail TITLE LINES FILE: "----- TITLE (tail)" and the last LINES lines of FILE, if any.
ww_it_tail() {
    echo "----- $1 (tail)"
    tail -n "$2" "$3" 2>/dev/null
}

# ww_it_events LINES: "----- events" and the last LINES events of $tmp/state.db.
ww_it_events() {
    echo "----- events"
    sqlite3 "$tmp/state.db" "select level, source, message from events order by id" 2>/dev/null |
        tail -n "$1"
}

# --- the deep scanner's tests (it_deep*.sh) -------------------------------------------------------
# ww_hdb_line FILE NAME: the .hdb line "md5:size:NAME" of FILE.
ww_hdb_line() {
    echo "$(md5sum "$1" | cut -d' ' -f1):$(wc -c <"$1" | tr -d ' '):$2"
}

# ww_deep_conf OUT DIR: a webwarden.conf with everything under DIR: the state (DIR/state.db),
# the patterns (DIR/patterns), the scan spool (DIR/spool) and the ClamAV folder (DIR/clamav).
# More sections may be appended to OUT.
ww_deep_conf() {
    cat >"$1" <<EOF
[gateway]
block_page = ${top_srcdir:?top_srcdir not set}/etc/block.html
[state]
database = $2/state.db
[scan]
patterns_dir = $2/patterns
tmp_dir = $2/spool
[clamav]
database_dir = $2/clamav
EOF
}

# ww_it_cicap DIR PORT: c-icap with our two services on 127.0.0.1:PORT for DIR/webwarden.conf
# (its c-icap.conf is DIR/c-icap.conf, run files and logs under DIR/var), started and waited
# for (ww_start_cicap); ww_it_cleanup stops it when DIR is $tmp.
ww_it_cicap() {
    ww_cicap_conf "$1/c-icap.conf" "$2" "$1/webwarden.conf" "$1/var" &&
        ww_start_cicap "$1/c-icap.conf" "$1/var"
}

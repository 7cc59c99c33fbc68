# bench/bench-lib.sh - shell functions shared by the bench/run-*.sh scripts and bench/perf-icap.sh.
# shellcheck shell=bash
# Sourcing only defines functions. Loopback only; every wait polls with a deadline; every
# process is stopped by the PID we started it with.

# Debian's python3 first: a pyenv shim costs seconds per start on a busy machine.
BL_PY=${PYTHON3:-$(command -v /usr/bin/python3 || command -v python3)}

# bl_builddir: the build tree to measure: $top_builddir when set, else ./build (where
# ./quickstart and the README build) when it holds a configured build, else the source tree
# (an in-tree build).
bl_builddir() {
    if [ -n "${top_builddir:-}" ]; then
        printf '%s\n' "$top_builddir"
    elif [ -f "$top_srcdir/build/Makefile" ]; then
        printf '%s\n' "$top_srcdir/build"
    else
        printf '%s\n' "$top_srcdir"
    fi
}

bl_log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
bl_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Prints a free loopback TCP port (the kernel's choice; another process may still take it).
# bl_icapload BUILDDIR: sets ICAPLOAD to BUILDDIR's bench/icapload, or stops with a clear error
# when it is missing or older than its source (a stale build lacks options the scripts pass, and
# would fail every cell with no result).
bl_icapload() {
    ICAPLOAD=$1/bench/icapload
    [ -x "$ICAPLOAD" ] || bl_die "$ICAPLOAD not built: run 'make bench/icapload' in $1 first"
    [ "$ICAPLOAD" -nt "$top_srcdir/bench/icapload.c" ] ||
        bl_die "$ICAPLOAD is older than bench/icapload.c: run 'make bench/icapload' in $1 (or set top_builddir to a current build)"
}

bl_free_port() {
    "$BL_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# 0 if something accepts TCP connections on 127.0.0.1:PORT.
bl_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# bl_wait_port PORT SECS [PID]: until the port accepts connections; fails at the deadline or
# as soon as PID (when given) has exited.
bl_wait_port() {
    local end=$(($(date +%s) + $2))
    while ! bl_port_open "$1"; do
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# bl_stop_pid PID [SECS]: SIGTERM, wait up to SECS (default 10) for it to go, then SIGKILL.
bl_stop_pid() {
    local pid=$1 end=$(($(date +%s) + ${2:-10}))
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$end" ]; then
            kill -KILL "$pid" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
    return 0
}

# CPU time in clock ticks (utime+stime) of PID and of its living children, e.g. c-icap's main
# process and its worker children, or Squid and its helpers.
bl_cpu_ticks() {
    # Fields after the last ")" (the command name may hold spaces): state ppid ... utime stime.
    # cat, not awk, opens the files: a process may vanish between the glob and the read.
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '{
        if (!match($0, /\)[^)]*$/)) next
        n = split(substr($0, RSTART + 2), f, " ")
        if ($1 == root || f[2] == root) total += f[12] + f[13]
    } END { print total + 0 }'
}

# The machine's state, for the results folder.
bl_env_info() {
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "host: $(uname -srm), $(nproc) CPUs"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "c-icap: $(dpkg-query -W -f '${Version}' c-icap 2>/dev/null || echo '?')"
    echo "squid: $(dpkg-query -W -f '${Version}' squid 2>/dev/null || echo 'not installed')"
    echo "nginx: $(dpkg-query -W -f '${Version}' nginx-light 2>/dev/null || echo 'not installed')"
    echo "wrk: $(dpkg-query -W -f '${Version}' wrk 2>/dev/null || echo 'not installed')"
    echo "libc-icap-mod-virus-scan: $(dpkg-query -W -f '${Version}' libc-icap-mod-virus-scan 2>/dev/null || echo 'not installed')"
    local clam
    clam=$(dpkg-query -W -f '${Version}\n' libclamav11 libclamav12 2>/dev/null | head -1)
    echo "libclamav: ${clam:-not installed}"
}

# bl_cicap_conf OUT PORT VARDIR THREADS: the common part of a benchmark c-icap.conf (the
# anchor's settings: 2 children that never churn, keep-alive without limit, access log on),
# with run files, spool and logs under VARDIR. The caller appends its Service lines.
bl_cicap_conf() {
    local out=$1 port=$2 var=$3 threads=$4
    local sys
    sys=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap/)
    mkdir -p "$var/run" "$var/tmp" "$var/log" || return 1
    cat >"$out" <<EOF
# c-icap.conf written by bench/bench-lib.sh bl_cicap_conf
PidFile $var/run/c-icap.pid
CommandsSocket $var/run/c-icap.ctl
Port 127.0.0.1:$port
Timeout 300
MaxKeepAliveRequests -1
KeepAliveTimeout 600
StartServers 2
MaxServers 2
MinSpareThreads 0
MaxSpareThreads 10000
ThreadsPerChild $threads
MaxRequestsPerChild 0
ServerAdmin root@localhost
ServerName webwarden-bench
TmpDir $var/tmp
MaxMemObject 131072
DebugLevel 1
Pipelining on
ModulesDir $sys
ServicesDir $sys
TemplateDir /usr/share/c_icap/templates/
ServerLog $var/log/server.log
AccessLog $var/log/access.log
Service echo srv_echo.so
EOF
    [ -r /etc/c-icap/c-icap.magic ] && echo "LoadMagicFile /etc/c-icap/c-icap.magic" >>"$out"
    return 0
}

# bl_start_cicap CONF VARDIR PORT [PREFIX...]: starts `c-icap -N -f CONF` in the background,
# optionally under a wrapper command (PREFIX, which must exec c-icap in the same process), sets
# BL_CICAP_PID and waits for the port. c-icap exits 0 on a config error, so a vanished process
# is the failure signal; the server log is printed then.
bl_start_cicap() {
    local conf=$1 var=$2 port=$3
    shift 3
    "$@" "${CICAP_BIN:-/usr/bin/c-icap}" -N -f "$conf" >>"$var/log/c-icap.out" 2>&1 &
    BL_CICAP_PID=$!
    if ! bl_wait_port "$port" 60 "$BL_CICAP_PID"; then
        echo "c-icap did not start on 127.0.0.1:$port (config $conf):" >&2
        tail -n 30 "$var/log/server.log" "$var/log/c-icap.out" >&2 2>/dev/null
        bl_stop_pid "$BL_CICAP_PID"
        BL_CICAP_PID=
        return 1
    fi
}

# bl_icap_probe ICAPLOAD PORT SERVICE MODE [BODY]: one request; 0 when the service answered
# 200 or 204 (a missing or broken service answers 404 or 500).
bl_icap_probe() {
    local il=$1 port=$2 svc=$3 mode=$4 body=${5:-} out
    if [ "$mode" = respmod ]; then
        out=$("$il" -P "$port" -s "$svc" -m respmod -f "$body" -n 1 -t 10000 --json 2>/dev/null)
    else
        out=$("$il" -P "$port" -s "$svc" -m reqmod -n 1 -t 10000 --json 2>/dev/null)
    fi
    printf '%s' "$out" | "$BL_PY" -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if j["requests"] == 1 and j["status"]["other"] == 0 else 1)' 2>/dev/null
}

# bl_median_table JSONL [BASELINE]: prints the markdown table of medians (bench/summary.py).
bl_summary() {
    "$BL_PY" "$BL_DIR/summary.py" "$@"
}

# --- the set-up of the ICAP benchmarks (run-icap.sh, perf-icap.sh) ------------------------------
# bl_cleanup_at_exit TMPDIR [SAVE_FN]: the traps: exit 130 on INT and TERM; at exit
# bl_cleanup stops c-icap (BL_CICAP_PID), runs SAVE_FN (a function of the caller, e.g. copying
# log tails out of TMPDIR) and removes TMPDIR.
bl_cleanup_at_exit() {
    BL_TMP=$1 BL_SAVE_FN=${2:-}
    trap bl_cleanup EXIT
    trap 'exit 130' INT TERM
}
bl_cleanup() {
    [ -n "${BL_CICAP_PID:-}" ] && bl_stop_pid "$BL_CICAP_PID"
    [ -z "${BL_SAVE_FN:-}" ] || "$BL_SAVE_FN"
    rm -rf "$BL_TMP"
}

# bl_make_inputs DIR: what the ICAP cells send: DIR/urls.txt (1000 URLs, each on its own host,
# for REQMOD), DIR/body-64k.bin and DIR/body-1m.bin (random bytes, for RESPMOD).
bl_make_inputs() {
    local i
    for i in $(seq 0 999); do
        echo "http://www$((i % 7)).site$i.example/path/$((i % 13))/index.html?q=$i"
    done >"$1/urls.txt"
    head -c 65536 /dev/urandom >"$1/body-64k.bin"
    head -c 1048576 /dev/urandom >"$1/body-1m.bin"
}

# bl_make_sigs DIR N: the benchmark's signature set, one for every scanner, in DIR (created):
# N random .ndb + N random .hsb + EICAR from bench/gen-sigs.py (N = 0: EICAR only), or one
# EICAR hash when the generator is absent. BL_SIGS_DESC says which; dies if the generator fails.
# shellcheck disable=SC2034 # BL_SIGS_DESC is for the caller
bl_make_sigs() {
    local dir=$1 n=$2
    mkdir -p "$dir" || bl_die "cannot create $dir"
    if [ -r "$BL_DIR/gen-sigs.py" ]; then
        if [ "$n" -gt 0 ]; then
            "$BL_PY" "$BL_DIR/gen-sigs.py" --random "$n" --eicar "$dir" || bl_die "gen-sigs.py failed"
            BL_SIGS_DESC="$n random .ndb + $n random .hsb + EICAR (bench/gen-sigs.py)"
        else
            "$BL_PY" "$BL_DIR/gen-sigs.py" --eicar "$dir" || bl_die "gen-sigs.py failed"
            BL_SIGS_DESC="EICAR only (bench/gen-sigs.py --eicar)"
        fi
    else
        # One EICAR hash, so the engine loads something. EICAR's SHA-256 is public; the test
        # string itself is never written here.
        echo "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:68:Eicar-Test-Signature" \
            >"$dir/eicar.hsb"
        BL_SIGS_DESC="EICAR .hsb only (bench/gen-sigs.py absent)"
    fi
}

# bl_ww_conf OUT DIR BLOCK_PAGE [SPOOL]: a webwarden.conf for the benchmarks: the signatures in
# DIR/sigs (bl_make_sigs'), the state DIR/state.db, the spool SPOOL (default DIR/var/tmp,
# bl_cicap_conf's), the deep scanner off (DIR/clamav-none, created empty); the block page if it
# is readable.
bl_ww_conf() {
    local out=$1 dir=$2 block_page=$3 spool=${4:-$2/var/tmp}
    mkdir -p "$dir/clamav-none" || return 1
    cat >"$out" <<EOF
# webwarden.conf written by bench/bench-lib.sh bl_ww_conf: no lists, no reputation server (every
# URL is "unrated" and allowed), the benchmark's signature set.
$([ -r "$block_page" ] && printf '[gateway]\nblock_page = %s' "$block_page")
[state]
database = $dir/state.db
[scan]
patterns_dir = $dir/sigs
tmp_dir = $spool
# The deep scanner off (an empty folder): as root, virus_scan's bind mount puts the benchmark's
# signatures at /var/lib/clamav, the default clamav.database_dir, and libclamav would scan every
# random body a second time, so runs as root and as a user would measure different things. The
# fast engine's costs only.
[clamav]
database_dir = $dir/clamav-none
EOF
}

# bl_ww_services MODS WWCONF: prints the c-icap.conf lines of Webwarden's two services
# (MODS/srv_webwarden_url.so, MODS/srv_webwarden_scan.so), both configured by WWCONF.
bl_ww_services() {
    cat <<EOF
Service webwarden_url $1/srv_webwarden_url.so
webwarden_url.ConfigFile $2
Service webwarden_scan $1/srv_webwarden_scan.so
webwarden_scan.ConfigFile $2
EOF
}

# bl_cicap_children PID SECS: prints the PIDs of c-icap's children, one a line, as soon as there
# is one; they fork after the services' post_init (the signature compile). Nothing after SECS.
bl_cicap_children() {
    local end=$((SECONDS + $2)) kids=
    while [ -z "$kids" ] && [ "$SECONDS" -lt "$end" ]; do
        kids=$(awk -v p="$1" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null)
        [ -n "$kids" ] || sleep 0.2
    done
    [ -z "$kids" ] || printf '%s\n' "$kids"
}

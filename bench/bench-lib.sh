# bench/bench-lib.sh - shell functions shared by bench/run-icap.sh, run-squid.sh, run-reputation.sh.
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

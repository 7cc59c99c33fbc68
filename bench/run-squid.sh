#!/bin/bash
# bench/run-squid.sh - Squid end to end on loopback (issue 7): a fast origin, Squid alone,
# Squid + c-icap echo (REQMOD and RESPMOD) and Squid + both Webwarden services, 1 KiB and 1 MiB
# objects, 3 interleaved repeats, a markdown table of medians with "webwarden / echo" ratios.
# Every request has a timeout: a stalled download (Squid 5.7's bug 5352 above 64 KiB) is
# counted as an error, it never hangs the run. See bench/README.md.
set -u

usage() {
    cat <<EOF
Usage: bench/run-squid.sh [options]
  -o DIR         results folder (default bench/results/squid-<date>-<time>/)
  -r N           interleaved repeats (default 3, at most 20)
  -d SECONDS     measured seconds per cell (default 5; --quick: 3)
  -c LIST        concurrencies (client connections), comma-separated (default 1,8; 1-64)
  -t SECONDS     per-request timeout (default 2; at most half the cell, so that a stalled
                 download shows up as timeouts inside the window)
  --objects LIST object sizes: 1k,1m and/or 60k, 100k (default 1k,1m)
  --quick        short cells for a smoke run
  --no-webwarden leave out Squid + Webwarden even when the services are built
  --load TOOL    wrk or curl (default: wrk when installed, else curl)
  --origin KIND  nginx or python (default: nginx when installed, else python)
  --install      apt-get install nginx-light and wrk first
  -h, --help     this text
Environment: top_srcdir, top_builddir (default: ./build when configured, else the source tree), CICAP_BIN,
SQUID_BIN, WW_MODULES_DIR (where srv_webwarden_*.so are; default \$top_builddir/modules/.libs),
WW_BLOCK_PAGE (block page template; default \$top_srcdir/etc/block.html when present).
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
. "$BL_DIR/bench-lib.sh"
top_builddir=$(bl_builddir)

outdir='' repeats=3 dur='' concs=1,8 req_timeout=2 objects=1k,1m quick=0 use_ww=1 load='' origin_kind=''
install=0
while [ $# -gt 0 ]; do
    case $1 in
    -o) outdir=${2:?-o needs a folder}; shift 2 ;;
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -c) concs=${2:?}; shift 2 ;;
    -t) req_timeout=${2:?}; shift 2 ;;
    --objects) objects=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    --no-webwarden) use_ww=0; shift ;;
    --load) load=${2:?}; shift 2 ;;
    --origin) origin_kind=${2:?}; shift 2 ;;
    --install) install=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
[ "$quick" = 1 ] && dur=${dur:-3}
dur=${dur:-5}
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
isnum "$repeats" 1 20 || bl_die "-r: 1 to 20"
isnum "$dur" 1 600 || bl_die "-d: 1 to 600"
isnum "$req_timeout" 1 120 || bl_die "-t: 1 to 120 seconds"
if [ $((req_timeout * 2)) -gt "$dur" ]; then
    req_timeout=$((dur / 2 > 0 ? dur / 2 : 1))
    bl_log "per-request timeout set to $req_timeout s (half the $dur s cell)"
fi
for c in ${concs//,/ }; do isnum "$c" 1 64 || bl_die "-c: each concurrency 1 to 64"; done
for o in ${objects//,/ }; do
    case $o in 1k | 60k | 100k | 1m) ;; *) bl_die "--objects: 1k, 60k, 100k or 1m" ;; esac
done

if [ "$install" = 1 ]; then
    bl_log "installing nginx-light and wrk (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk >&2 ||
        bl_die "apt-get install failed"
fi
SQUID=${SQUID_BIN:-/usr/sbin/squid}
[ -x "$SQUID" ] || bl_die "Squid not installed (apt-get install squid)"
CICAP=${CICAP_BIN:-/usr/bin/c-icap}
[ -x "$CICAP" ] || bl_die "c-icap not installed (apt-get install c-icap)"
command -v curl >/dev/null || bl_die "curl not installed"
if [ -z "$load" ]; then
    if command -v wrk >/dev/null; then load=wrk; else load=curl; fi
fi
case $load in
wrk) command -v wrk >/dev/null || bl_die "--load wrk: wrk not installed (use --install)" ;;
curl) ;;
*) bl_die "--load: wrk or curl" ;;
esac
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ -z "$origin_kind" ]; then
    if [ -x "$NGINX" ]; then origin_kind=nginx; else origin_kind=python; fi
fi
case $origin_kind in
nginx) [ -x "$NGINX" ] || bl_die "--origin nginx: nginx not installed (use --install)" ;;
python) ;;
*) bl_die "--origin: nginx or python" ;;
esac

outdir=${outdir:-$top_srcdir/bench/results/squid-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$outdir" || bl_die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-bench-squid.XXXXXX") || bl_die "mktemp failed"
chmod 755 "$tmp" # Squid runs as proxy, nginx workers as www-data: they must reach their dirs
pids=()
cleanup() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do bl_stop_pid "${pids[$i]}"; done
    for d in "$tmp"/squid-*; do
        [ -d "$d" ] && tail -n 100 "$d/cache.log" >"$outdir/$(basename "$d")-cache.log.tail" 2>/dev/null
    done
    [ -f "$tmp/cicap/log/server.log" ] && tail -n 100 "$tmp/cicap/log/server.log" >"$outdir/cicap-server.log.tail"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bl_env_info >"$outdir/env.txt"
echo "origin: $origin_kind, load: $load" >>"$outdir/env.txt"
bl_log "results in $outdir (origin $origin_kind, load $load)"

# --- origin ---------------------------------------------------------------------------------
mkdir -p "$tmp/www"
head -c 1024 /dev/urandom >"$tmp/www/1k.bin"
head -c 61440 /dev/urandom >"$tmp/www/60k.bin"
head -c 102400 /dev/urandom >"$tmp/www/100k.bin"
head -c 1048576 /dev/urandom >"$tmp/www/1m.bin"
chmod -R a+rX "$tmp/www"
oport=$(bl_free_port)
if [ "$origin_kind" = nginx ]; then
    mkdir -p "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    types { }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$oport;
        root $tmp/www;
    }
}
EOF
    "$NGINX" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" >"$tmp/nginx/out.log" 2>&1 &
else
    "$BL_PY" "$BL_DIR/origin.py" --max-seconds 3600 "$oport" "$tmp/www" >"$tmp/origin.log" 2>&1 &
fi
origin_pid=$!
pids+=("$origin_pid")
bl_wait_port "$oport" 20 "$origin_pid" || bl_die "origin ($origin_kind) did not start"

# --- c-icap: echo, and Webwarden's services when built ----------------------------------------
have_ww=0
WW_MODULES_DIR=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
block_page=${WW_BLOCK_PAGE:-$top_srcdir/etc/block.html}
ww_url_so=$WW_MODULES_DIR/srv_webwarden_url.so
ww_scan_so=$WW_MODULES_DIR/srv_webwarden_scan.so
iport=$(bl_free_port)
bl_cicap_conf "$tmp/c-icap.conf" "$iport" "$tmp/cicap" 64 || bl_die "cannot write c-icap.conf"
if [ "$use_ww" = 1 ] && [ -r "$ww_url_so" ] && [ -r "$ww_scan_so" ]; then
    bl_make_sigs "$tmp/sigs" 0 # EICAR only
    # Default hold_max: bodies above it are streamed while scanned (issue 7).
    bl_ww_conf "$tmp/webwarden.conf" "$tmp" "$block_page" "$tmp/cicap/tmp" ||
        bl_die "cannot write webwarden.conf"
    if [ -x "$top_builddir/src/webwardenctl" ]; then
        "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >>"$outdir/webwardenctl-init.txt" 2>&1 ||
            bl_log "warning: webwardenctl init failed"
    fi
    cat >>"$tmp/c-icap.conf" <<EOF
Service webwarden_url $ww_url_so
webwarden_url.ConfigFile $tmp/webwarden.conf
Service webwarden_scan $ww_scan_so
webwarden_scan.ConfigFile $tmp/webwarden.conf
EOF
    cp "$tmp/webwarden.conf" "$outdir/webwarden.conf"
    have_ww=1
elif [ "$use_ww" = 1 ]; then
    bl_die "Webwarden services not built ($ww_url_so, $ww_scan_so): build them (./quickstart or make), set top_builddir or WW_MODULES_DIR, or pass --no-webwarden"
fi
cp "$tmp/c-icap.conf" "$outdir/c-icap.conf"
bl_start_cicap "$tmp/c-icap.conf" "$tmp/cicap" "$iport" || bl_die "c-icap did not start"
cicap_pid=$BL_CICAP_PID
pids+=("$cicap_pid")
BL_CICAP_PID=

# --- one Squid per configuration, all running, so repeats interleave without restarts --------
# squid_start NAME REQSVC RESPSVC [PREVIEW]: REQSVC/RESPSVC are ICAP service paths, or "" for
# none; PREVIEW is icap_preview_enable (default on, as docs/admin-guide.md ships it).
declare -A sq_port sq_pid
squid_start() {
    local name=$1 req=$2 resp=$3 preview=${4:-on} d=$tmp/squid-$1 port
    port=$(bl_free_port)
    mkdir -p "$d"
    cat >"$d/squid.conf" <<EOF
# squid.conf written by bench/run-squid.sh ($name)
http_port 127.0.0.1:$port
visible_hostname webwarden-bench
pid_filename $d/squid.pid
access_log stdio:$d/access.log
cache_log $d/cache.log
cache_store_log none
coredump_dir $d
netdb_filename none
pinger_enable off
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
cache deny all
cache_mem 8 MB
http_access allow localhost
http_access deny all
EOF
    if [ -n "$req$resp" ]; then
        cat >>"$d/squid.conf" <<EOF
icap_enable on
icap_preview_enable $preview
icap_persistent_connections on
icap_service_failure_limit -1
EOF
        [ -n "$req" ] && cat >>"$d/squid.conf" <<EOF
icap_service svc_req reqmod_precache icap://127.0.0.1:$iport/$req bypass=off
adaptation_access svc_req allow all
EOF
        [ -n "$resp" ] && cat >>"$d/squid.conf" <<EOF
icap_service svc_resp respmod_precache icap://127.0.0.1:$iport/$resp bypass=off
adaptation_access svc_resp allow all
EOF
    else
        echo "icap_enable off" >>"$d/squid.conf"
    fi
    cp "$d/squid.conf" "$outdir/squid-$name.conf"
    if [ "$(id -u)" = 0 ] && id proxy >/dev/null 2>&1; then chown -R proxy "$d"; fi
    "$SQUID" -N -n "wwb${name//_/}" -f "$d/squid.conf" >>"$d/out.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    sq_port[$name]=$port
    sq_pid[$name]=$pid
    bl_wait_port "$port" 60 "$pid" || {
        tail -n 20 "$d/cache.log" "$d/out.log" >&2
        bl_die "squid ($name) did not start"
    }
}
configs="squid squid_echo"
squid_start squid "" ""
squid_start squid_echo echo echo
# c-icap's echo answers every second previewed body with 204 (srv_echo.c's whattodo toggle), so
# behind a previewing Squid it returns only half the bodies. Without preview it returns all of
# them, like webwarden_scan does for every body over hold_max: the like-for-like baseline.
squid_start squid_echo_full echo echo off
configs="$configs squid_echo_full"
if [ "$have_ww" = 1 ]; then
    squid_start squid_webwarden webwarden_url webwarden_scan
    configs="$configs squid_webwarden"
fi

# Ready = a 1 KiB download through it returns 200 (ICAP OPTIONS exchange done), within 30 s.
# A configuration that never gets there is left out (its cache.log tail is in the results).
ready=""
for cfg in $configs; do
    end=$(($(date +%s) + 30))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:${sq_port[$cfg]}" \
        "http://127.0.0.1:$oport/1k.bin")" = 200 ]; do
        if [ "$(date +%s)" -ge "$end" ]; then
            bl_log "warning: $cfg: no 200 for a 1 KiB object within 30 s: left out (see $cfg-cache.log.tail, cicap-server.log.tail)"
            continue 2
        fi
        sleep 0.2
    done
    ready="$ready $cfg"
done
configs=$ready
case " $configs " in *" squid_echo "*) ;; *) bl_die "Squid + echo does not work" ;; esac
bl_log "ready: origin :$oport, c-icap :$iport, $(for c in $configs; do printf '%s :%s ' "$c" "${sq_port[$c]}"; done)"

# --- load -----------------------------------------------------------------------------------
# curl load: C loops, each running curl on a config of 500 URLs of the object over one kept-alive
# proxy connection, again and again, all killed at the end of the window (timeout signals the
# loop's whole process group). Each transfer writes "code seconds bytes" to stderr, which is
# unbuffered, so the kill loses nothing finished. Short configs keep curl's start cheap: on a
# busy box a config of thousands of URLs took a good part of a 2 s window to parse.
make_curl_cfg() {
    local obj=$1 f=$tmp/curl-$1.cfg i
    [ -f "$f" ] && return 0
    for ((i = 0; i < 500; i++)); do
        printf 'url = "http://127.0.0.1:%s/%s.bin"\noutput = "/dev/null"\n' "$oport" "$obj"
    done >"$f"
}

results=$outdir/results.jsonl
: >"$results"
# respmod_counts: "N204 N200", the RESPMOD answers c-icap logged so far.
respmod_counts() {
    # c-icap's default LogFormat has the status after the service ("%im %iu %is"), ours
    # right after the method: the first 3-digit field after RESPMOD is the status.
    awk '{ for (i = 1; i <= NF; i++) if ($i == "RESPMOD") break
           for (j = i + 1; j <= i + 2 && j <= NF; j++) if ($j ~ /^[0-9][0-9][0-9]$/) break
           if ($j == "204") a++; else if ($j == "200") b++ }
         END {print a + 0, b + 0}' "$tmp/cicap/log/access.log" 2>/dev/null || echo "0 0"
}
tck=$(getconf CLK_TCK)
run_cell() {
    local cfg=$1 obj=$2 c=$3 rep=$4 group raw cpu0 cpu1 ci0 ci1 o0 o1 a0 a1
    local proxy=http://127.0.0.1:${sq_port[$cfg]}
    group="$obj c=$c"
    raw=$outdir/raw-$obj-c$c-$cfg-r$rep
    cpu0=$(bl_cpu_ticks "${sq_pid[$cfg]}")
    ci0=$(bl_cpu_ticks "$cicap_pid")
    o0=$(bl_cpu_ticks "$origin_pid")
    a0=$(respmod_counts)
    if [ "$load" = wrk ]; then
        timeout $((dur + req_timeout + 30)) wrk -t1 -c "$c" -d "${dur}s" --timeout "${req_timeout}s" \
            -s "$BL_DIR/wrk-proxy.lua" "$proxy/" -- "http://127.0.0.1:$oport/$obj.bin" \
            >"$raw.txt" 2>&1
    else
        local i cp=()
        # Enough URLs for 6000 req/s per connection, more than Squid gives one connection here.
        make_curl_cfg "$obj"
        for ((i = 0; i < c; i++)); do
            # shellcheck disable=SC2016
            timeout -s TERM "$dur" bash -c 'while :; do curl -s -x "$0" --max-time "$1" -K "$2" \
                -w "%{stderr}%{http_code} %{time_total} %{size_download}\n"; done' \
                "$proxy" "$req_timeout" "$tmp/curl-$obj.cfg" 2>"$raw.$i.txt" &
            cp+=($!)
        done
        for i in "${cp[@]}"; do wait "$i" 2>/dev/null; done
    fi
    cpu1=$(bl_cpu_ticks "${sq_pid[$cfg]}")
    ci1=$(bl_cpu_ticks "$cicap_pid")
    o1=$(bl_cpu_ticks "$origin_pid")
    sleep 0.3 # c-icap logs a transaction after it ends
    a1=$(respmod_counts)
    local icap_ticks=$((ci1 - ci0))
    [ "$cfg" = squid ] && icap_ticks=
    "$BL_PY" - "$load" "$raw" "$c" "$group" "$cfg" "$rep" "$dur" "$tck" "$((cpu1 - cpu0))" \
        "$icap_ticks" "$((o1 - o0))" "$obj" "$req_timeout" "$a0" "$a1" >>"$results" <<'EOF'
import glob, json, sys
load, raw, c, group, cfg, rep, dur, tck, sq, ic, og, obj, req_timeout, a0, a1 = sys.argv[1:]
req_timeout = float(req_timeout)
size = {"1k": 1024, "60k": 61440, "100k": 102400, "1m": 1048576}[obj]
dur = float(dur)
# Only Webwarden is compared with echo: "squid alone" is the ceiling, not a competitor.
res = {"group": group, "name": cfg, "repeat": int(rep),
       "baseline": "squid_echo" if cfg == "squid_webwarden" else None,
       "vs": "squid_echo_full" if cfg == "squid_webwarden" else None}
if load == "wrk":
    j = None
    try:
        for line in open(raw + ".txt"):
            if line.startswith("WRKJSON "):
                j = json.loads(line[8:])
    except OSError:
        pass
    if j is None:
        j = {"requests": 0, "duration_s": dur, "connect": 1, "read": 0, "write": 0,
             "status": 0, "timeout": 0}
    errors = j["connect"] + j["read"] + j["write"] + j["status"]
    ok = max(j["requests"] - j["status"], 0)
    # wrk looks for overdue requests only every 2 s and never counts a request still open at
    # the end: a connection that got no answer at all in the window counts as one timeout.
    timeouts = max(j["timeout"], int(c) - j["requests"])
    res.update(rps=ok / j["duration_s"] if j["duration_s"] else 0, requests=j["requests"],
               errors=errors, timeouts=timeouts, p50=j.get("p50"), p90=j.get("p90"),
               p99=j.get("p99"), max=j.get("max"))
    n_ok = ok
else:
    lat, errors, timeouts, n_ok = [], 0, 0, 0
    for fn in glob.glob(raw + ".*.txt"):
        for line in open(fn, errors="replace"):
            if not line.endswith("\n"):
                continue
            p = line.split()
            if len(p) != 3:
                continue
            code, t, nbytes = p[0], float(p[1]), int(float(p[2]))
            if code == "200" and nbytes == size:
                n_ok += 1
                lat.append(t * 1000)
            elif code == "000" and t >= 0.9 * req_timeout:
                timeouts += 1  # curl gave up at --max-time: a stall
            else:
                errors += 1
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else None
    res.update(rps=n_ok / dur, requests=n_ok, errors=errors, timeouts=timeouts, p50=q(0.5),
               p90=q(0.9), p99=q(0.99), max=lat[-1] if lat else None)
res["mib_s"] = res["rps"] * size / 1048576
# RESPMOD answers of c-icap during the cell (access log): a 204 sent no body back to Squid.
(n204a, n200a), (n204b, n200b) = (map(int, a.split()) for a in (a0, a1))
if cfg != "squid":
    res["status"] = {"204": n204b - n204a, "200": n200b - n200a, "other": 0}
per = lambda ticks: (int(ticks) / int(tck) * 1e6 / n_ok) if ticks and n_ok else None
res["cpu_us_req"] = {"squid": per(sq), "c-icap": per(ic), "origin": per(og)}
print(json.dumps(res))
EOF
    tail -n 1 "$results" | "$BL_PY" -c 'import json, sys
j = json.loads(sys.stdin.read())
print("%s %s r%d: %.1f req/s, errors %d, timeouts %d, p50 %.3f ms" % (j["group"], j["name"],
      j["repeat"], j["rps"], j["errors"], j["timeouts"], j["p50"] or 0))' >&2
}

cells=()
for c in ${concs//,/ }; do
    for obj in ${objects//,/ }; do
        for cfg in $configs; do cells+=("$cfg $obj $c"); done
    done
done
bl_log "${#cells[@]} cells x $repeats repeats x $dur s = about $((${#cells[@]} * repeats * dur)) s"
for rep in $(seq 1 "$repeats"); do
    for cell in "${cells[@]}"; do
        # shellcheck disable=SC2086
        run_cell $cell "$rep"
    done
done

{
    echo "# Squid end-to-end benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Loopback: $load -> Squid $(dpkg-query -W -f '${Version}' squid 2>/dev/null) (cache deny all,"
    echo "ICAP preview on) -> origin ($origin_kind); c-icap $(dpkg-query -W -f '${Version}' c-icap 2>/dev/null)."
    echo "$repeats interleaved repeats of $dur s per cell, per-request timeout $req_timeout s."
    echo "squid = Squid alone; squid_echo = c-icap echo for REQMOD and RESPMOD (echo answers every"
    echo "second previewed body with 204); squid_echo_full = the same with icap_preview_enable off, so"
    echo "echo returns every body;"
    echo "squid_webwarden = webwarden_url (REQMOD) + webwarden_scan (RESPMOD)."
    echo "\"vs baseline\" = squid_webwarden's req/s / squid_echo's req/s. CPU-µs/req per process over the window."
    echo "Load average at start: $(sed -n 's/^load average at start: //p' "$outdir/env.txt")."
    echo
    bl_summary "$results"
} >"$outdir/summary.md"
cat "$outdir/summary.md"

-- bench/wrk-proxy.lua - makes wrk talk to an HTTP proxy: wrk connects to the proxy given as its
-- URL and asks for the absolute URL given after "--". At the end it prints one JSON line
-- starting with "WRKJSON " (latency in ms), read by bench/run-squid.sh.
--   wrk -t1 -c8 -d5s --timeout 5s -s bench/wrk-proxy.lua http://127.0.0.1:3128/ -- http://127.0.0.1:8081/1k.bin
local target

function init(args)
    target = args[1]
    if target == nil then
        error("wrk-proxy.lua: give the absolute URL to fetch after --")
    end
end

function request()
    return wrk.format("GET", target)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_s":%.3f,"bytes":%d,"connect":%d,"read":%d,' ..
        '"write":%d,"status":%d,"timeout":%d,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f}\n',
        summary.requests, summary.duration / 1e6, summary.bytes, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
        latency:percentile(99) / 1e3, latency.max / 1e3))
end

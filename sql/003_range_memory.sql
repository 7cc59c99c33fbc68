-- 003: what was cut or blocked, remembered so a resumed download (Range, 206) cannot complete it
-- (issue 12). One row per URL; written by the c-icap children's tick with the detections, read
-- by webwarden_scan on a partial response. Rows older than the TTL (1 day) are ignored and pruned.
CREATE TABLE range_memory (
    url TEXT PRIMARY KEY,
    etag TEXT NOT NULL DEFAULT '',          -- the response's ETag, '' = none
    last_modified TEXT NOT NULL DEFAULT '', -- the response's Last-Modified, '' = none
    threat TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL                     -- when it was cut or blocked (unix seconds)
);
CREATE INDEX range_memory_at ON range_memory (at);

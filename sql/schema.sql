-- sql/schema.sql - Webwarden state database, schema version 1.
--
-- One SQLite file (state.database in webwarden.conf, WAL mode) shared by c-icap's children,
-- webwardend and webwardenctl. `webwardenctl init` creates it; the programs refuse a database
-- whose schema is older than they need.
--
-- Versions: the schema version is SQLite's own header field, PRAGMA user_version
-- (`sqlite3 state.db 'PRAGMA user_version'`). This file is version 1; each later change is a
-- new file sql/NNN_<what>.sql (002, 003, ...) that is applied once, in order, with the version
-- bump, inside one transaction: forward only, never edit a released file. The files are
-- compiled into the programs (mk/embed-sql.sh); the copies installed under share/webwarden/sql
-- are for reading. The programs set user_version themselves, so these files do not, and they
-- hold no BEGIN/COMMIT (the program wraps each upgrade in BEGIN IMMEDIATE ... COMMIT).
--
-- Times are unix seconds (INTEGER, UTC). The *_v views show them as ISO 8601 for people:
--   sqlite3 -box state.db 'SELECT * FROM events_v ORDER BY id DESC LIMIT 20'

-- Small settings and job results: appliance_id (sent as X-Webwarden-Appliance), last run and
-- result of each webwardend job, ... Keys are dotted names owned by the code that writes them.
CREATE TABLE kv (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Monotonic counters that must survive restarts (feedback_dropped: feedback events thrown
-- away, oldest first, because the queue was full).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL DEFAULT 0
);
INSERT INTO counters (name, value) VALUES ('feedback_dropped', 0);

-- The scan method in force (exactly one row, id 1): 'smart' = local patterns plus the Smart
-- Protection Server, 'conventional' = local patterns only. webwardend switches to
-- conventional after failed health checks; the admin switches back (webwardenctl scan-method).
-- A new database starts with smart scan, as the original product does when licensed.
CREATE TABLE scan_method (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    method     TEXT NOT NULL CHECK (method IN ('smart', 'conventional')),
    changed_by TEXT NOT NULL, -- 'init', 'webwardend', 'webwardenctl'
    reason     TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
INSERT INTO scan_method (id, method, changed_by, reason, changed_at)
VALUES (1, 'smart', 'init', 'initial setting', CAST(strftime('%s', 'now') AS INTEGER));

-- Every scan-method change, oldest first (including the initial setting).
CREATE TABLE scan_method_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    method     TEXT NOT NULL CHECK (method IN ('smart', 'conventional')),
    changed_by TEXT NOT NULL,
    reason     TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
INSERT INTO scan_method_log (method, changed_by, reason, changed_at)
SELECT method, changed_by, reason, changed_at FROM scan_method;

-- Smart Protection Server health checks, one row per check (ok 1 = answered in time).
-- The newest 10000 rows are kept (about a month at one check per 5 minutes).
CREATE TABLE health_checks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    server     TEXT NOT NULL,
    ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),
    latency_ms INTEGER NOT NULL,
    detail     TEXT NOT NULL -- why it failed ("timeout", "HTTP 500", ...), or ""
);
-- Finds the last good (or bad) check quickly: the streak is everything after it.
CREATE INDEX health_checks_ok ON health_checks (ok);

-- Events and audit log: what an admin should know (scan method changes, updates, license).
-- The newest 100000 rows are kept.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    level   TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    source  TEXT NOT NULL, -- 'scan', 'update', 'license', 'feedback', ...
    message TEXT NOT NULL
);

-- Web reputation feedback waiting for upload, oldest first. Written by c-icap's children,
-- sent and deleted by webwardend once the feedback server confirmed it. Bounded by
-- feedback.max_queued: the oldest rows are dropped and counted (counters.feedback_dropped).
-- ids only grow (AUTOINCREMENT), so "delete up to id N" never hits a newer row.
CREATE TABLE feedback_queue (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT NOT NULL,
    score      INTEGER NOT NULL,
    categories TEXT NOT NULL, -- comma-separated category names
    action     TEXT NOT NULL CHECK (action IN ('allow', 'block')),
    threat     TEXT NOT NULL, -- "" = none
    at         INTEGER NOT NULL
);

-- Installed components ('pattern', 'urldb', 'engine') and every earlier version, for
-- rollback. current = 1 marks the version in force, at most one per name.
CREATE TABLE components (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    path         TEXT NOT NULL, -- installed file or folder; "" for the engine
    sha256       TEXT NOT NULL, -- hex
    installed_at INTEGER NOT NULL,
    current      INTEGER NOT NULL DEFAULT 0 CHECK (current IN (0, 1))
);
CREATE UNIQUE INDEX components_one_current ON components (name) WHERE current = 1;
CREATE INDEX components_history ON components (name, installed_at, id);

-- The license (exactly one row, id 1). The activation code is kept in full: this is why the
-- database file is created with mode 0640. Programs never print or log it in full.
CREATE TABLE license (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    activation_code TEXT NOT NULL, -- "" = none
    status          TEXT NOT NULL, -- 'active', 'expired', 'invalid', "" = never checked
    product         TEXT NOT NULL,
    edition         TEXT NOT NULL,
    expires         TEXT NOT NULL, -- YYYY-MM-DD, "" = unknown
    seats           INTEGER NOT NULL,
    grace_days      INTEGER NOT NULL,
    checked_at      INTEGER NOT NULL -- last online check, 0 = never
);
INSERT INTO license (id, activation_code, status, product, edition, expires, seats, grace_days,
                     checked_at)
VALUES (1, '', '', '', '', '', 0, 0, 0);

-- Views for people using sqlite3: the same rows with readable UTC times.
CREATE VIEW events_v AS
SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at, level, source, message
FROM events;

CREATE VIEW scan_method_log_v AS
SELECT id, method, changed_by, reason,
       strftime('%Y-%m-%dT%H:%M:%SZ', changed_at, 'unixepoch') AS changed_at
FROM scan_method_log;

CREATE VIEW health_checks_v AS
SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at, server, ok, latency_ms, detail
FROM health_checks;

CREATE VIEW components_v AS
SELECT id, name, version, current,
       strftime('%Y-%m-%dT%H:%M:%SZ', installed_at, 'unixepoch') AS installed_at, sha256, path
FROM components;

-- The license without the activation code (all but its last 5 characters hidden).
CREATE VIEW license_v AS
SELECT CASE WHEN length(activation_code) > 5
            THEN substr('****************************************************************',
                        1, length(activation_code) - 5) || substr(activation_code, -5)
            ELSE substr('*****', 1, length(activation_code)) END AS activation_code,
       status, product, edition, expires, seats, grace_days,
       CASE WHEN checked_at = 0 THEN 'never'
            ELSE strftime('%Y-%m-%dT%H:%M:%SZ', checked_at, 'unixepoch') END AS checked_at
FROM license;

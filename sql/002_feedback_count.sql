-- 002: aggregated feedback (issue 15). A c-icap child now records one row per URL and verdict
-- with the number of lookups and the first and last time it saw them (at = last seen), and a
-- flush merges into the row of that URL and verdict not yet taken by an upload, so the queue
-- holds one record per URL and verdict per upload interval. feedback.max_queued now bounds
-- distinct records. Rows written before this version count once, first seen = at.
ALTER TABLE feedback_queue ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE feedback_queue ADD COLUMN first_seen INTEGER NOT NULL DEFAULT 0; -- 0 = same as at
-- The merge looks rows up by URL and verdict.
CREATE INDEX feedback_queue_url ON feedback_queue (url, action);

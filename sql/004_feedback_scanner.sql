-- 004: which scanner found a download's threat (issue 13): "fast" (Webwarden's pattern engine),
-- "clamav" (the deep scanner) or "smart" (smart scan); '' for URL verdicts and older rows. A
-- merge keeps the newest non-empty value. Sent as the feedback event's optional "scanner".
ALTER TABLE feedback_queue ADD COLUMN scanner TEXT NOT NULL DEFAULT '';

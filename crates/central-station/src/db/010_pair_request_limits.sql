-- Pair requests admitted in the last minute (issue 16): the rate limits
-- live in the database, so every station instance on it counts the same
-- requests, and a restart does not forget them. `subject` is
-- 'device:<device ID>' or 'technician:<username>'.
CREATE TABLE pair_request_hits (
    subject TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL
);
CREATE INDEX pair_request_hits_subject ON pair_request_hits(subject, at_ms);
CREATE INDEX pair_request_hits_at ON pair_request_hits(at_ms);

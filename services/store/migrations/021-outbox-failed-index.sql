-- Every ten minutes each instance gives rows that failed for a retryable reason another round
-- (Outbox.rearmFailed): without an index on failed rows that too read the whole outbox.
CREATE INDEX IF NOT EXISTS outbox_failed ON outbox (due_at) WHERE status = 'failed';

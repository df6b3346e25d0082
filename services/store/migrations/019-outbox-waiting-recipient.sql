-- A chat becoming known wakes what waited for it (Outbox.nudgeRecipient): rows pending for the
-- recipient, and an outcome Teams refused for good (status 'undeliverable'). The index on recipient
-- covered pending rows only, so the OR made every new chat's first activity read the whole outbox,
-- every message ever owed: at 200,000 rows a sequential scan of about 37 ms on PostgreSQL, where an
-- index covering both states answers in about 0.1 ms (EXPLAIN ANALYZE, PostgreSQL 15). Rows waiting
-- or refused are few; delivered ones, the bulk, stay out of it.
DROP INDEX IF EXISTS outbox_recipient;
CREATE INDEX outbox_recipient ON outbox (recipient) WHERE status IN ('pending', 'undeliverable');


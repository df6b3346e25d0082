-- The NAS Operations workspace: the queue is filtered by status, reviewer, organisation and age,
-- searched by reference and organisation words, and ordered oldest first; the picture of the
-- work counts requests received and decided per week. Each filter has an index that leads with
-- it and ends in the queue's order, so a page is read in order and stops at its limit.
-- The search by account address uses request_accounts_email (lower(email)) from 001.

-- Every request, oldest first (the queue without a status filter).
CREATE INDEX transfer_requests_queue ON transfer_requests (created_at, id);

-- The open queue (the default view, and overdue), oldest first: a few hundred rows among many thousands closed.
CREATE INDEX transfer_requests_open_queue ON transfer_requests (created_at, id) WHERE status IN ('submitted', 'in_review');

-- Reviewer: "mine", a named reviewer, or unassigned (claimed_by_id IS NULL).
CREATE INDEX transfer_requests_reviewer ON transfer_requests (claimed_by_id, created_at, id);

-- Organisation, by ODS code.
CREATE INDEX transfer_requests_organisation ON transfer_requests (organisation_ods, created_at, id);

-- A reference typed in part (NTR-1000...): a left-anchored LIKE.
CREATE INDEX transfer_requests_reference_prefix ON transfer_requests (reference text_pattern_ops);

-- Words of the organisation's name or its ODS code, each matched as a prefix (to_tsquery ':*').
CREATE INDEX transfer_requests_organisation_words ON transfer_requests USING GIN (to_tsvector('simple', organisation_name || ' ' || organisation_ods));

-- Requests decided per week, and the time they took.
CREATE INDEX transfer_requests_decided ON transfer_requests (decided_at) WHERE decided_at IS NOT NULL

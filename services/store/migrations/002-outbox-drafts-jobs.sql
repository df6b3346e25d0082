-- Idempotent submission, the transactional outbox, durable screening jobs, refusals in the audit.

-- A conversation's draft can become at most one request, however often Submit is pressed.
ALTER TABLE transfer_requests ADD COLUMN draft_id TEXT;
CREATE UNIQUE INDEX transfer_requests_draft ON transfer_requests (draft_id);

-- Every message the bot owes, written in the same transaction as the change it reports.
-- dedupe_key makes each message owed once (an ops card post, an outcome); a card update is
-- one row per request, re-armed (version + 1) by each change and delivered from the store.
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  dedupe_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  request_id INTEGER REFERENCES transfer_requests (id),
  recipient TEXT,
  payload JSONB NOT NULL DEFAULT '{}'::jsonb,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'undeliverable', 'failed')),
  version INTEGER NOT NULL DEFAULT 1,
  attempts INTEGER NOT NULL DEFAULT 0,
  due_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_until TIMESTAMPTZ,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  delivered_at TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (due_at) WHERE status = 'pending';
CREATE INDEX outbox_request ON outbox (request_id, kind);
CREATE INDEX outbox_recipient ON outbox (recipient) WHERE status = 'pending';

-- Screening runs off the turn: a job per list, resumed or rerun after a restart.
CREATE TABLE screening_jobs (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  organisation_ods TEXT NOT NULL,
  organisation_name TEXT NOT NULL,
  entries JSONB NOT NULL,
  total INTEGER NOT NULL,
  checked INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  result JSONB,
  error_code TEXT,
  progress_activity_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ
);
CREATE INDEX screening_jobs_runnable ON screening_jobs (created_at) WHERE status IN ('queued', 'running')

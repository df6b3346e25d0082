-- Facts change: accounts are screened again while a request is open, and a transfer is
-- confirmed from the directory rather than only from a click.

-- The latest re-screening of each account (the verdict, reasons and evidence as seen then) and,
-- when it differs from submission, what changed and when that was first seen. The verdict
-- columns from submission stay as they were: they are what the requester submitted.
ALTER TABLE request_accounts ADD COLUMN rechecked_at TIMESTAMPTZ;
ALTER TABLE request_accounts ADD COLUMN rechecked_verdict TEXT CHECK (rechecked_verdict IN ('eligible', 'ineligible', 'review'));
ALTER TABLE request_accounts ADD COLUMN rechecked_reasons JSONB;
ALTER TABLE request_accounts ADD COLUMN rechecked_evidence JSONB;
ALTER TABLE request_accounts ADD COLUMN change_summary TEXT;
ALTER TABLE request_accounts ADD COLUMN changed_at TIMESTAMPTZ;
-- Marked as a leaver after submission: the requester has been told (once per account).
ALTER TABLE request_accounts ADD COLUMN leaver_alerted_at TIMESTAMPTZ;

-- Transfer confirmation: seen moved in the directory (its administering organisation is a NAS
-- one), or overridden by NAS Operations with a reason; and when the directory was last read.
ALTER TABLE request_accounts ADD COLUMN transfer_confirmed_at TIMESTAMPTZ;
ALTER TABLE request_accounts ADD COLUMN transfer_checked_at TIMESTAMPTZ;
ALTER TABLE request_accounts ADD COLUMN transfer_overridden_at TIMESTAMPTZ;
ALTER TABLE request_accounts ADD COLUMN transfer_overridden_by_id TEXT;
ALTER TABLE request_accounts ADD COLUMN transfer_overridden_by_name TEXT;
ALTER TABLE request_accounts ADD COLUMN transfer_override_reason TEXT;

-- Approved accounts not yet moved are flagged in the channel once per period of working days.
ALTER TABLE transfer_requests ADD COLUMN transfer_chased_at TIMESTAMPTZ;
ALTER TABLE transfer_requests ADD COLUMN transfer_chase_count INTEGER NOT NULL DEFAULT 0;

-- Background checks owed on a request: one row per request and kind ('recheck': screen its
-- accounts again; 'transfer': read its approved accounts in the directory), re-armed when owed
-- again, claimed with a lease so one instance runs each at a time.
CREATE TABLE request_checks (
  request_id INTEGER NOT NULL REFERENCES transfer_requests (id),
  kind TEXT NOT NULL CHECK (kind IN ('recheck', 'transfer')),
  trigger TEXT NOT NULL,
  due_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_until TIMESTAMPTZ,
  claim_token TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_run_at TIMESTAMPTZ,
  last_error TEXT,
  PRIMARY KEY (request_id, kind)
);
CREATE INDEX request_checks_due ON request_checks (due_at)

-- The whole lifecycle: submitted -> in review (claimed) -> decided -> completed, or withdrawn.
ALTER TABLE transfer_requests DROP CONSTRAINT transfer_requests_status_check;
UPDATE transfer_requests SET status = 'submitted' WHERE status = 'awaiting_decision';
ALTER TABLE transfer_requests ALTER COLUMN status SET DEFAULT 'submitted';
ALTER TABLE transfer_requests ADD CONSTRAINT transfer_requests_status_check CHECK (status IN ('submitted', 'in_review', 'decided', 'completed', 'withdrawn'));
ALTER TABLE transfer_requests ADD COLUMN claimed_by_id TEXT;
ALTER TABLE transfer_requests ADD COLUMN claimed_by_name TEXT;
ALTER TABLE transfer_requests ADD COLUMN claimed_at TIMESTAMPTZ;
ALTER TABLE transfer_requests ADD COLUMN completed_at TIMESTAMPTZ;
ALTER TABLE transfer_requests ADD COLUMN withdrawn_at TIMESTAMPTZ;

-- NAS Operations record each approved account as actually moved.
ALTER TABLE request_accounts ADD COLUMN transferred_at TIMESTAMPTZ;
ALTER TABLE request_accounts ADD COLUMN transferred_by_id TEXT;
ALTER TABLE request_accounts ADD COLUMN transferred_by_name TEXT;
ALTER TABLE request_accounts ADD COLUMN transfer_note TEXT

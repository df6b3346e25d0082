-- Requests left undecided are flagged in the ops channel once per period of working days.
ALTER TABLE transfer_requests ADD COLUMN last_chased_at TIMESTAMPTZ;
ALTER TABLE transfer_requests ADD COLUMN chase_count INTEGER NOT NULL DEFAULT 0

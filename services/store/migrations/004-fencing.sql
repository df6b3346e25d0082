-- Fencing for work held under a lease: whoever settles a claim must still hold it.

-- The token of the claim that holds an outbox row; settling with another token changes nothing.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;

-- Each run of a screening job (a retry after failure is a new run) owes its own results message.
ALTER TABLE screening_jobs ADD COLUMN run INTEGER NOT NULL DEFAULT 1

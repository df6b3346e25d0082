-- The messages a requester sends the users a transfer affects, from their own mailbox
-- (services/duties): one row per account, stage and round of sending, audited per recipient.
-- The text is kept only while the message is owed: once sent or given up it is cleared, and
-- what stays is who was told what kind of message, when, and how it went.
CREATE TABLE affected_user_messages (
  id BIGSERIAL PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES transfer_requests (id),
  account_id INTEGER NOT NULL REFERENCES request_accounts (id),
  stage TEXT NOT NULL CHECK (stage IN ('submitted', 'outcome')),
  message_group TEXT NOT NULL CHECK (message_group IN ('transferring', 'notEligible', 'keptLocally')),
  recipient TEXT NOT NULL,
  subject TEXT,
  body TEXT,
  -- The requester whose mailbox sends it (their Entra object id): their delegated token is used, no one else's.
  sender_id TEXT NOT NULL,
  -- Raised each time a failed message is queued again, so the outbox owes it afresh.
  round INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  error_code TEXT,
  queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  settled_at TIMESTAMPTZ,
  UNIQUE (request_id, stage, account_id)
);
CREATE INDEX affected_user_messages_request ON affected_user_messages (request_id, stage, status);

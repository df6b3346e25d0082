-- The affected users' messages quote how long transfers took in the last 90 days
-- (TransferTimescaleHistory.transfers, read whenever a requester is offered the drafts): a request
-- whose last account was seen moved in the window has an account seen moved in the window, and
-- this index finds those, where the read had joined every approved account of every completed
-- request still kept. Seeing an account moved (once in its life) now writes an entry here, so that
-- one update is no longer heap-only (020); decisions and the daily re-checks still are.
CREATE INDEX IF NOT EXISTS request_accounts_transfer_confirmed ON request_accounts (transfer_confirmed_at) WHERE transfer_confirmed_at IS NOT NULL;

-- Where the requester's outcome card was sent, so a decision changed after they were told
-- updates that card in place (Teams lets a bot update its own message), as the ops card is.
ALTER TABLE transfer_requests ADD COLUMN outcome_conversation_id TEXT;
ALTER TABLE transfer_requests ADD COLUMN outcome_activity_id TEXT;

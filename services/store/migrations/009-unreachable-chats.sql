-- A chat Teams refused for good (403: the bot was removed or blocked; 404: the conversation is
-- gone) is marked, not forgotten: owed messages wait for it, NAS Operations see it in `pending`
-- and /readyz, and the mark is cleared when any activity shows the chat is back.
ALTER TABLE conversation_references ADD COLUMN unreachable_since TIMESTAMPTZ;
ALTER TABLE conversation_references ADD COLUMN unreachable_status INTEGER;

-- NAS Operations members the bot has seen act, by their Teams user id (MRI): the ops card's
-- refresh.userIds, so their view refreshes to the one with buttons.
CREATE TABLE ops_members_seen (
  teams_user_id TEXT PRIMARY KEY,
  aad_object_id TEXT NOT NULL,
  seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ops_members_seen_recent ON ops_members_seen (seen_at DESC)

-- NAS Operations ask the requester a question from the card; the answer comes back in the chat.
CREATE TABLE request_questions (
  id SERIAL PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES transfer_requests (id),
  asked_by_id TEXT NOT NULL,
  asked_by_name TEXT NOT NULL,
  question TEXT NOT NULL,
  asked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  answer TEXT,
  answered_at TIMESTAMPTZ,
  chased_at TIMESTAMPTZ
);
CREATE INDEX request_questions_request ON request_questions (request_id, id)

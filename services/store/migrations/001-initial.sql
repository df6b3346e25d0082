-- Transfer requests, their accounts and verdicts, decisions, audit, and bot state.
CREATE SEQUENCE request_reference_seq START WITH 100001;

CREATE TABLE transfer_requests (
  id SERIAL PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  organisation_ods TEXT NOT NULL,
  organisation_name TEXT NOT NULL,
  requester_id TEXT NOT NULL,
  requester_name TEXT NOT NULL,
  reason TEXT NOT NULL,
  attestations JSONB NOT NULL,
  policy_version TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'awaiting_decision' CHECK (status IN ('awaiting_decision', 'decided')),
  ops_conversation_id TEXT,
  ops_activity_id TEXT,
  outcome_notified_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  decided_at TIMESTAMPTZ
);
CREATE INDEX transfer_requests_requester ON transfer_requests (requester_id, created_at DESC);
CREATE INDEX transfer_requests_status ON transfer_requests (status, created_at);

CREATE TABLE request_accounts (
  id SERIAL PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES transfer_requests (id),
  position INTEGER NOT NULL,
  email TEXT NOT NULL,
  site_ods TEXT,
  specialism TEXT,
  verdict TEXT NOT NULL CHECK (verdict IN ('eligible', 'ineligible', 'review')),
  reasons JSONB NOT NULL,
  evidence JSONB NOT NULL,
  decision TEXT CHECK (decision IN ('approved', 'rejected')),
  decision_reason TEXT,
  decided_by_id TEXT,
  decided_by_name TEXT,
  decided_at TIMESTAMPTZ,
  UNIQUE (request_id, position),
  CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX request_accounts_email ON request_accounts (lower(email));

CREATE TABLE audit_events (
  id BIGSERIAL PRIMARY KEY,
  occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id INTEGER REFERENCES transfer_requests (id),
  account_id INTEGER REFERENCES request_accounts (id),
  detail JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_request ON audit_events (request_id, occurred_at);

CREATE TABLE conversation_references (
  key TEXT PRIMARY KEY,
  reference JSONB NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE bot_state (
  key TEXT PRIMARY KEY,
  document JSONB NOT NULL,
  etag INTEGER NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

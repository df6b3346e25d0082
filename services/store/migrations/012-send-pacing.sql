-- Pacing of what the bot sends to Teams (services/store/send-budget.ts): one row per request
-- that left for Teams in each scope it counts against ('conversation:<id>', 'tenant:<id>'),
-- shared by every instance, so that together they stay inside Teams' rolling windows. Rows
-- older than the longest window are pruned as new ones are written.
CREATE TABLE send_budget (
  id BIGSERIAL PRIMARY KEY,
  scope TEXT NOT NULL,
  sent_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX send_budget_scope_time ON send_budget (scope, sent_at DESC);

-- A row of the pacing ledger (send_budget, services/store/send-budget.ts) may stand for more than
-- one request: a turn's replies, counted in memory, are written every 100 ms as one row per scope
-- (services/outbox/spent-tally.ts), not one row per reply. Under 1,000 turns a second that was
-- some 290 rows a flush, 4 to 7 ms of the embedded database's one connection each time, and a
-- table that grew by a row per reply for the hour of Teams' longest window (bench/turns.ts,
-- issue 23). Every existing row, and every slot the pacer takes, is one request.
ALTER TABLE send_budget ADD COLUMN requests INTEGER NOT NULL DEFAULT 1 CHECK (requests > 0);

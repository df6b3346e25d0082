-- A screening job's result is kept in chunks of accounts (services/store/screening-jobs.ts), not as
-- one value in screening_jobs.result: a 500-account result is some 650,000 characters of JSON, and
-- writing it in one statement held the embedded database's one connection for 50 to 260 ms, reading
-- it back 20 to 95 ms, while every turn waited (bench/busy.ts, issue 23). A chunk belongs to one
-- attempt of one run of the job, the claim that wrote it, so chunks of a runner whose lease lapsed
-- never mix with another's; the job row, once done, says how many chunks its result has. A job
-- deleted (retention) takes its chunks with it.
CREATE TABLE screening_job_results (
  job_id TEXT NOT NULL REFERENCES screening_jobs (id) ON DELETE CASCADE,
  run INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  accounts JSONB NOT NULL,
  PRIMARY KEY (job_id, run, attempt, chunk)
);

-- What the result says besides its accounts, and how many chunks hold them; NULL until done (and
-- for jobs done before this migration, whose result is still whole in screening_jobs.result).
ALTER TABLE screening_jobs ADD COLUMN result_policy_version TEXT;
ALTER TABLE screening_jobs ADD COLUMN result_chunks INTEGER

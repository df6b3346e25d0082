import { setImmediate as turnsFirst } from 'node:timers/promises';
import { AppError } from '../../core/errors';
import type { AccountEntry } from '../account-list';
import type { ScreenedAccount, ScreeningResult } from '../eligibility/types';
import type { SqlDatabase } from './database';
import { dedupeKeys, enqueue } from './outbox';

/**
 * Accounts per chunk of a stored result (migration 022): some 65,000 characters of JSON, a few
 * milliseconds of the embedded database's one connection to write or read, where a 500-account
 * result in one value held it for 50 to 260 ms to write and 20 to 95 ms to read while turns
 * waited (bench/busy.ts, issue 23).
 */
export const RESULT_CHUNK_ACCOUNTS = 50;

export type ScreeningJobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ScreeningJob {
  id: string;
  ownerId: string;
  organisationOds: string;
  organisationName: string;
  entries: AccountEntry[];
  total: number;
  checked: number;
  status: ScreeningJobStatus;
  result: ScreeningResult | null;
  errorCode: string | null;
  progressActivityId: string | null;
  attempts: number;
  /** Which run this is: a retry after a failure is a new run, owing its own results message. */
  run: number;
}

export interface NewScreeningJob {
  id: string;
  ownerId: string;
  organisationOds: string;
  organisationName: string;
  entries: readonly AccountEntry[];
}

interface JobRow {
  id: string;
  owner_id: string;
  organisation_ods: string;
  organisation_name: string;
  entries: AccountEntry[];
  total: number;
  checked: number;
  status: ScreeningJobStatus;
  result: ScreeningResult | null;
  error_code: string | null;
  progress_activity_id: string | null;
  attempts: number;
  run: number;
  /** Set when done (migration 022): the result's policy version and how many chunks hold its accounts. */
  result_policy_version: string | null;
  result_chunks: number | null;
}

/**
 * Screening as durable jobs, so a long list never holds a turn and a restart resumes it: a
 * job whose runner died is claimed again when its lease runs out, and rerun.
 */
export class ScreeningJobs {
  constructor(private readonly db: SqlDatabase) {}

  /** Creating the same job again (a retried turn) is a no-op. */
  async create(job: NewScreeningJob): Promise<ScreeningJob> {
    await this.db.query(
      `INSERT INTO screening_jobs (id, owner_id, organisation_ods, organisation_name, entries, total) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING`,
      [job.id, job.ownerId, job.organisationOds, job.organisationName, JSON.stringify(job.entries), job.entries.length],
    );
    return (await this.get(job.id)) as ScreeningJob;
  }

  async get(id: string): Promise<ScreeningJob | null> {
    const [row] = await this.db.query<JobRow>('SELECT * FROM screening_jobs WHERE id = $1', [id]);
    if (!row) return null;
    if (row.result_chunks === null) return toJob(row, row.result);
    const accounts = await this.storedAccounts(row);
    return accounts ? toJob(row, { policyVersion: row.result_policy_version ?? '', accounts }) : null;
  }

  /**
   * A done job's accounts, chunk by chunk, one statement each: turns waiting for the database go
   * between them. Null when the job was deleted meanwhile (retention). A chunk missing from a job
   * that is still there fails: part of a list is never shown as the whole of it.
   */
  private async storedAccounts(row: JobRow): Promise<ScreenedAccount[] | null> {
    const accounts: ScreenedAccount[] = [];
    for (let chunk = 0; chunk < (row.result_chunks ?? 0); chunk++) {
      const [stored] = await this.db.query<{ accounts: ScreenedAccount[] }>(
        'SELECT accounts FROM screening_job_results WHERE job_id = $1 AND run = $2 AND attempt = $3 AND chunk = $4',
        [row.id, row.run, row.attempts, chunk],
      );
      if (!stored) {
        const [still] = await this.db.query('SELECT 1 FROM screening_jobs WHERE id = $1', [row.id]);
        if (!still) return null;
        throw new AppError('REQUEST_FAILED', `The results of this screening are incomplete (part ${chunk + 1} of ${row.result_chunks} is missing).`);
      }
      accounts.push(...stored.accounts);
    }
    return accounts;
  }

  async recordProgressMessage(id: string, activityId: string): Promise<void> {
    await this.db.query('UPDATE screening_jobs SET progress_activity_id = $2 WHERE id = $1 AND progress_activity_id IS NULL', [id, activityId]);
  }

  /** Leases the oldest runnable job: queued, or running under a lease that ran out (its runner died). */
  async claimNext(leaseSeconds: number): Promise<ScreeningJob | null> {
    const [row] = await this.db.query<JobRow>(
      `UPDATE screening_jobs SET status = 'running', attempts = attempts + 1, checked = 0, lease_until = now() + make_interval(secs => $1), updated_at = now()
       WHERE id = (
         SELECT id FROM screening_jobs
         WHERE status = 'queued' OR (status = 'running' AND lease_until < now())
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [leaseSeconds],
    );
    return row ? toJob(row, row.result) : null;
  }

  /**
   * Progress, which also renews the lease: a live runner keeps its job. Every write a runner
   * makes names the claim it holds (the attempt number), so a runner whose lease lapsed and
   * whose job was claimed again changes nothing. False when the claim is no longer held.
   */
  async recordProgress(job: ScreeningJob, checked: number, leaseSeconds: number): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE screening_jobs SET checked = greatest(checked, $3), lease_until = now() + make_interval(secs => $4), updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id`,
      [job.id, job.attempts, checked, leaseSeconds],
    );
    return rows.length > 0;
  }

  /**
   * Done. The accounts are written in chunks of RESULT_CHUNK_ACCOUNTS, each by the claim that holds
   * the job (a runner whose lease lapsed writes nothing, and stops), each its own short statement
   * with turns let in between; then, in one transaction, the job is marked done with the number of
   * chunks, only if every one of them is there, and its results message is owed. Until then the job
   * is running and has no result: a list half written is never read as screened.
   */
  async complete(job: ScreeningJob, result: ScreeningResult): Promise<void> {
    const chunks: ScreenedAccount[][] = [];
    for (let start = 0; start < result.accounts.length; start += RESULT_CHUNK_ACCOUNTS)
      chunks.push(result.accounts.slice(start, start + RESULT_CHUNK_ACCOUNTS));
    for (const [chunk, accounts] of chunks.entries()) {
      const written = await this.db.query(
        `INSERT INTO screening_job_results (job_id, run, attempt, chunk, accounts)
         SELECT id, run, attempts, $4, $5 FROM screening_jobs WHERE id = $1 AND attempts = $2 AND run = $3 AND status = 'running'
         ON CONFLICT (job_id, run, attempt, chunk) DO UPDATE SET accounts = EXCLUDED.accounts
         RETURNING chunk`,
        [job.id, job.attempts, job.run, chunk, JSON.stringify(accounts)],
      );
      if (written.length === 0) return;
      // A turn that arrived meanwhile reaches the database before the next chunk does.
      await turnsFirst();
    }
    await this.db.transaction(async (tx) => {
      const [updated] = await tx.query<{ id: string }>(
        `UPDATE screening_jobs j SET status = 'done', result = NULL, result_policy_version = $4, result_chunks = $5,
           checked = total, lease_until = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND attempts = $2 AND run = $3 AND status = 'running'
           AND (SELECT count(*) FROM screening_job_results r WHERE r.job_id = j.id AND r.run = j.run AND r.attempt = j.attempts) = $5
         RETURNING id`,
        [job.id, job.attempts, job.run, result.policyVersion, chunks.length],
      );
      if (!updated) return;
      // Chunks of earlier claims (a runner that lapsed, or failed, part-way) are no part of the result.
      await tx.query('DELETE FROM screening_job_results WHERE job_id = $1 AND NOT (run = $2 AND attempt = $3)', [job.id, job.run, job.attempts]);
      await enqueue(tx, resultsMessage(job));
    });
  }

  /** Failed for now: queued again later, or given up after `maxAttempts` (the requester is told and may retry). */
  async fail(job: ScreeningJob, errorCode: string, maxAttempts: number, retryInSeconds: number): Promise<'retrying' | 'failed' | 'not_held'> {
    return this.db.transaction(async (tx) => {
      const held = `id = $1 AND attempts = $2 AND status = 'running'`;
      // A running job has no result yet: chunks an attempt wrote before it failed are only data to let go of.
      const dropChunks = () => tx.query('DELETE FROM screening_job_results WHERE job_id = $1', [job.id]);
      if (job.attempts < maxAttempts) {
        const rows = await tx.query(
          `UPDATE screening_jobs SET error_code = $3, lease_until = now() + make_interval(secs => $4), updated_at = now() WHERE ${held} RETURNING id`,
          [job.id, job.attempts, errorCode, retryInSeconds],
        );
        if (rows.length === 0) return 'not_held';
        await dropChunks();
        return 'retrying';
      }
      const rows = await tx.query(
        `UPDATE screening_jobs SET status = 'failed', error_code = $3, lease_until = NULL, finished_at = now(), updated_at = now() WHERE ${held} RETURNING id`,
        [job.id, job.attempts, errorCode],
      );
      if (rows.length === 0) return 'not_held';
      await dropChunks();
      await enqueue(tx, resultsMessage(job));
      return 'failed';
    });
  }

  /** The requester asked to try a failed job again: a new run, which will owe its own results message. */
  async requeue(id: string): Promise<void> {
    await this.db.query(
      `UPDATE screening_jobs SET status = 'queued', run = run + 1, attempts = 0, checked = 0, error_code = NULL, progress_activity_id = NULL, updated_at = now() WHERE id = $1 AND status = 'failed'`,
      [id],
    );
  }
}

function resultsMessage(job: ScreeningJob) {
  return {
    kind: 'screening.results' as const,
    dedupeKey: dedupeKeys.screeningResults(job.id, job.run),
    recipient: job.ownerId,
    payload: { jobId: job.id, run: job.run },
  };
}

function toJob(row: JobRow, result: ScreeningResult | null): ScreeningJob {
  return {
    id: row.id,
    ownerId: row.owner_id,
    organisationOds: row.organisation_ods,
    organisationName: row.organisation_name,
    entries: row.entries,
    total: row.total,
    checked: row.checked,
    status: row.status,
    result,
    errorCode: row.error_code,
    progressActivityId: row.progress_activity_id,
    attempts: row.attempts,
    run: row.run,
  };
}

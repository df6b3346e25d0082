import type { AccountEntry } from '../account-list';
import type { ScreeningResult } from '../eligibility/types';
import type { SqlDatabase } from './database';
import { dedupeKeys, enqueue } from './outbox';

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
    return row ? toJob(row) : null;
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
    return row ? toJob(row) : null;
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

  /** Done: the result is stored and its message owed to the requester, in one transaction. */
  async complete(job: ScreeningJob, result: ScreeningResult): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [updated] = await tx.query<{ id: string }>(
        `UPDATE screening_jobs SET status = 'done', result = $2, checked = total, lease_until = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND attempts = $3 AND status = 'running' RETURNING id`,
        [job.id, JSON.stringify(result), job.attempts],
      );
      if (updated) await enqueue(tx, resultsMessage(job));
    });
  }

  /** Failed for now: queued again later, or given up after `maxAttempts` (the requester is told and may retry). */
  async fail(job: ScreeningJob, errorCode: string, maxAttempts: number, retryInSeconds: number): Promise<'retrying' | 'failed' | 'not_held'> {
    return this.db.transaction(async (tx) => {
      const held = `id = $1 AND attempts = $2 AND status = 'running'`;
      if (job.attempts < maxAttempts) {
        const rows = await tx.query(
          `UPDATE screening_jobs SET error_code = $3, lease_until = now() + make_interval(secs => $4), updated_at = now() WHERE ${held} RETURNING id`,
          [job.id, job.attempts, errorCode, retryInSeconds],
        );
        return rows.length > 0 ? 'retrying' : 'not_held';
      }
      const rows = await tx.query(
        `UPDATE screening_jobs SET status = 'failed', error_code = $3, lease_until = NULL, finished_at = now(), updated_at = now() WHERE ${held} RETURNING id`,
        [job.id, job.attempts, errorCode],
      );
      if (rows.length === 0) return 'not_held';
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

function toJob(row: JobRow): ScreeningJob {
  return {
    id: row.id,
    ownerId: row.owner_id,
    organisationOds: row.organisation_ods,
    organisationName: row.organisation_name,
    entries: row.entries,
    total: row.total,
    checked: row.checked,
    status: row.status,
    result: row.result,
    errorCode: row.error_code,
    progressActivityId: row.progress_activity_id,
    attempts: row.attempts,
    run: row.run,
  };
}

import { describeErrorForLog, findAppError } from '../core/errors';
import type { Logger } from '../core/log';
import type { ScreeningService } from './screening';
import type { ScreeningJob, ScreeningJobs } from './store/screening-jobs';

/** Another runner holds the job now (this one's lease lapsed): stop, and leave it to them. */
class ClaimLapsed extends Error {}

/** Where progress is shown (the requester's chat, updated in place); best effort, never fatal. */
export interface ScreeningProgress {
  report(job: ScreeningJob, checked: number): Promise<void>;
}

export interface ScreeningRunnerPolicy {
  leaseSeconds: number;
  /** Progress is shown at most this often, so a fast list does not flood Teams with updates. */
  progressEverySeconds: number;
  maxAttempts: number;
  retryInSeconds: number;
}

export const DEFAULT_SCREENING_POLICY: ScreeningRunnerPolicy = { leaseSeconds: 60, progressEverySeconds: 3, maxAttempts: 3, retryInSeconds: 20 };

/**
 * Runs screening jobs off the turn. A job claimed by a runner that then died is claimed
 * again when its lease runs out and run from the start: screening reads only, so a rerun is safe.
 */
export class ScreeningRunner {
  constructor(
    private readonly jobs: ScreeningJobs,
    private readonly screening: ScreeningService,
    private readonly progress: ScreeningProgress,
    private readonly logger: Logger,
    private readonly policy: ScreeningRunnerPolicy = DEFAULT_SCREENING_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs the next job, if any. True when it ran one (there may be more). */
  async runNext(): Promise<boolean> {
    const job = await this.jobs.claimNext(this.policy.leaseSeconds);
    if (!job) return false;
    let lastShown = this.now();
    let checkedSoFar = 0;
    const started = lastShown;
    // The lease is renewed on a timer as well as with progress: a slow directory (throttling,
    // retries) must not let the lease lapse while this runner is still at work.
    const keepAlive = setInterval(
      () => {
        void this.jobs.recordProgress(job, checkedSoFar, this.policy.leaseSeconds).catch(() => undefined);
      },
      (this.policy.leaseSeconds * 1000) / 3,
    );
    keepAlive.unref();
    try {
      const result = await this.screening.screen(job.organisationOds, job.entries, {
        onProgress: async (checked) => {
          checkedSoFar = checked;
          if (!(await this.jobs.recordProgress(job, checked, this.policy.leaseSeconds))) throw new ClaimLapsed();
          if (checked < job.total && this.now() - lastShown >= this.policy.progressEverySeconds * 1000) {
            lastShown = this.now();
            // Shown without waiting: a slow Teams must not slow the screening down.
            void this.progress.report(job, checked).catch(() => undefined);
          }
        },
      });
      await this.jobs.complete(job, result);
      this.logger.info('screening.done', { jobId: job.id, accounts: job.total, ms: this.now() - started });
    } catch (error) {
      if (error instanceof ClaimLapsed) {
        this.logger.warn('screening.claim_lapsed', { jobId: job.id, attempt: job.attempts });
        return true;
      }
      const code = findAppError(error)?.code ?? 'SCREENING_FAILED';
      const outcome = await this.jobs.fail(job, code, this.policy.maxAttempts, this.policy.retryInSeconds);
      this.logger.warn('screening.failed', { jobId: job.id, outcome, attempt: job.attempts, ...describeErrorForLog(error) });
    } finally {
      clearInterval(keepAlive);
    }
    return true;
  }
}

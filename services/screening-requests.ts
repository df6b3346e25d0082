import type { NewScreeningJob, ScreeningJob, ScreeningJobs } from './store/screening-jobs';

export type { NewScreeningJob, ScreeningJob } from './store/screening-jobs';

/**
 * Screening a requester's list, as the dialogs ask for it: a durable job (a retried turn finds
 * the same one), then a signal that wakes the screening worker. The dialogs never see the store.
 */
export class ScreeningRequests {
  constructor(
    private readonly jobs: ScreeningJobs,
    /** A job was queued: the screening worker (and the delivery of its results) look now. */
    private readonly screeningQueued: () => void,
  ) {}

  /** Queues the job; queuing the same id again (a retried turn) returns the job already there. */
  async start(job: NewScreeningJob): Promise<ScreeningJob> {
    const queued = await this.jobs.create(job);
    this.screeningQueued();
    return queued;
  }

  /** A failed job runs again, as a new run owing its own results. */
  async retry(id: string): Promise<void> {
    await this.jobs.requeue(id);
    this.screeningQueued();
  }

  get(id: string): Promise<ScreeningJob | null> {
    return this.jobs.get(id);
  }

  /** The "Checking…" message the runner updates with its progress. */
  recordProgressMessage(id: string, activityId: string): Promise<void> {
    return this.jobs.recordProgressMessage(id, activityId);
  }
}

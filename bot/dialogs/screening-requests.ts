import type { ScreeningJobs } from '../../services/store/screening-jobs';

/** Where the screening job runs and how it is started; the transfer and review dialogs only ask for it. */
export interface ScreeningRequests {
  jobs: ScreeningJobs;
  /** Work was queued (a job, an owed message): the background workers look now. */
  wake(): void;
}

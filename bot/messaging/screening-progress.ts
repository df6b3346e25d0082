import { MessageFactory } from 'botbuilder';
import type { ScreeningProgress } from '../../services/screening-runner';
import type { ScreeningJob, ScreeningJobs } from '../../services/store/screening-jobs';
import { ConversationReferences } from '../state/conversation-references';
import type { Messenger } from './messenger';

/**
 * Shows a running screening's progress by updating the "Checking…" message in place. Best
 * effort: a lost progress update costs nothing, so it does not go through the outbox.
 */
export class ChatScreeningProgress implements ScreeningProgress {
  constructor(
    private readonly jobs: ScreeningJobs,
    private readonly references: ConversationReferences,
    private readonly messenger: Messenger,
  ) {}

  async report(job: ScreeningJob, checked: number): Promise<void> {
    // The runner may have claimed the job before the turn that queued it had sent the message.
    const progressActivityId = job.progressActivityId ?? (await this.jobs.get(job.id))?.progressActivityId;
    if (!progressActivityId) return;
    const reference = await this.references.get(ConversationReferences.forUser(job.ownerId));
    if (!reference) return;
    const text = `Checking ${job.total.toLocaleString('en-GB')} accounts against the transfer policy… ${checked.toLocaleString('en-GB')} of ${job.total.toLocaleString('en-GB')} checked so far.`;
    await this.messenger.update(reference, progressActivityId, MessageFactory.text(text));
  }
}

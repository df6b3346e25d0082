import { MessageFactory } from 'botbuilder';
import { UNPACED, type SendPacer } from '../../services/outbox/send-pacing';
import type { ScreeningProgress } from '../../services/screening-runner';
import type { ScreeningJob, ScreeningRequests } from '../../services/screening-requests';
import { ConversationReferences } from '../state/conversation-references';
import { destinationOf } from './delivery-kinds';
import type { Messenger } from './messenger';

/** A slot further off than this is not waited for: the next report (or the results) will say more. */
const LONGEST_WAIT_MS = 10_000;

/**
 * Shows a running screening's progress by updating the "Checking…" message in place. Best
 * effort: a lost progress update costs nothing, so it does not go through the outbox. Only the
 * latest count matters, so reports are coalesced: one update per job in flight at a time,
 * each taking a slot in the send budget like any other request to Teams, and a report that
 * arrives meanwhile replaces the one waiting.
 */
export class ChatScreeningProgress implements ScreeningProgress {
  /** Per job, the latest count not yet shown, while an update for it is in flight or waiting for a slot. */
  private readonly waiting = new Map<string, { job: ScreeningJob; checked: number } | null>();

  constructor(
    private readonly jobs: Pick<ScreeningRequests, 'get'>,
    private readonly references: ConversationReferences,
    private readonly messenger: Messenger,
    private readonly pacer: SendPacer = UNPACED,
  ) {}

  async report(job: ScreeningJob, checked: number): Promise<void> {
    if (this.waiting.has(job.id)) {
      this.waiting.set(job.id, { job, checked });
      return;
    }
    this.waiting.set(job.id, null);
    try {
      let next: { job: ScreeningJob; checked: number } | null = { job, checked };
      while (next) {
        await this.show(next.job, next.checked);
        next = this.waiting.get(job.id) ?? null;
        this.waiting.set(job.id, null);
      }
    } finally {
      this.waiting.delete(job.id);
    }
  }

  private async show(job: ScreeningJob, checked: number): Promise<void> {
    // The runner may have claimed the job before the turn that queued it had sent the message.
    const progressActivityId = job.progressActivityId ?? (await this.jobs.get(job.id))?.progressActivityId;
    if (!progressActivityId) return;
    const reference = await this.references.get(ConversationReferences.forUser(job.ownerId));
    if (!reference) return;
    let probe = false;
    for (;;) {
      const reservation = await this.pacer.reserve(destinationOf(reference));
      probe = reservation.granted && reservation.probe === true;
      if (reservation.granted) break;
      if (reservation.waitMs > LONGEST_WAIT_MS) return;
      await new Promise((resolve) => setTimeout(resolve, reservation.waitMs));
      // A newer count arrived while waiting: show that one instead (the caller's loop picks it up).
      if (this.waiting.get(job.id)) return;
    }
    const text = `Checking ${job.total.toLocaleString('en-GB')} accounts against the transfer policy… ${checked.toLocaleString('en-GB')} of ${job.total.toLocaleString('en-GB')} checked so far.`;
    await this.messenger.update(reference, progressActivityId, MessageFactory.text(text));
    // The chat had been found down and this update was its probe: taken, so what waits for the chat may go. (Had it
    // failed, the probe's lease lapses and the next probe goes then.)
    if (probe) await this.pacer.serviceBack?.(destinationOf(reference));
  }
}

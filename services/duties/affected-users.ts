import { requestAccess } from '../request-access';
import { AppError } from '../../core/errors';
import type { Actor, StoredRequest } from '../model';
import type { AffectedUserMailStore, QueueOutcome, SendTally } from '../store/affected-user-messages';
import type { TransferTimescaleHistory } from '../store/transfer-timescales';
import { allDrafts, checkRecipients, draftMessages, type DraftSet, type MeasuredTimescales } from './drafts';
import type { AffectedUserMessages, MessageStage } from './message-templates';
import { measureTimescale } from './timescales';

export interface OfferedDrafts {
  request: StoredRequest;
  drafts: DraftSet;
  timescales: MeasuredTimescales;
  /** How sending went so far, per stage. */
  tallies: SendTally[];
}

/**
 * The requester's duties to the users a transfer affects, as use cases: the drafts for a
 * request at its current stage (only to the person who raised it), and sending them, each
 * message owed in the outbox to go from the requester's own mailbox.
 */
export class AffectedUserDuties {
  constructor(
    private readonly requests: { get(id: number): Promise<StoredRequest | null>; getByReference(reference: string): Promise<StoredRequest | null> },
    private readonly history: TransferTimescaleHistory,
    private readonly mail: AffectedUserMailStore,
    private readonly messages: AffectedUserMessages,
    private readonly holidays: ReadonlySet<string>,
    /** Called after messages are owed: the delivery worker looks at once. */
    private readonly workQueued: () => void,
  ) {}

  /** The stage a request is at for its messages: the outcome once every account is decided. */
  static stageOf(request: Pick<StoredRequest, 'status'>): MessageStage {
    if (request.status === 'withdrawn') throw new AppError('INVALID_INPUT', 'That request was withdrawn: nobody needs to be told about a transfer.');
    return request.status === 'decided' || request.status === 'completed' ? 'outcome' : 'submitted';
  }

  async offer(requestId: number, requesterId: string): Promise<OfferedDrafts> {
    const request = await this.ownRequest(requestId, requesterId);
    const timescales = await this.timescales();
    return {
      request,
      drafts: draftMessages(request, AffectedUserDuties.stageOf(request), this.messages, timescales),
      timescales,
      tallies: await this.mail.tallies(request.id),
    };
  }

  async offerByReference(reference: string, requesterId: string): Promise<OfferedDrafts> {
    const request = await this.requests.getByReference(reference);
    if (!request) throw new AppError('REQUEST_NOT_FOUND');
    return this.offer(request.id, requesterId);
  }

  /**
   * Owes every draft of the stage the card showed, drafted again now (from the store, never
   * from the card): the stage must still be the request's, and every address must be one of its
   * accounts. Messages already sent are not sent again.
   */
  async send(requestId: number, stage: MessageStage, sender: Actor): Promise<QueueOutcome & { total: number }> {
    const { request, drafts } = await this.offer(requestId, sender.id);
    if (drafts.stage !== stage)
      throw new AppError('CARD_DATA_INVALID', 'The request has moved on since that card: type **tell ' + request.reference + '** for the current messages.');
    const all = allDrafts(drafts);
    checkRecipients(
      request,
      all.map((draft) => draft.to),
    );
    const outcome = await this.mail.queue(request.id, stage, sender, all);
    if (outcome.queued > 0) this.workQueued();
    return { ...outcome, total: all.length };
  }

  tallies(requestId: number): Promise<SendTally[]> {
    return this.mail.tallies(requestId);
  }

  /**
   * The request, if it is `requesterId`'s and at a stage with messages (not withdrawn): what `offer`
   * checks, without drafting every message, reading the tallies and the measured timescales. For a
   * check before a sign-in, which `send` follows with the whole offer, read afresh.
   */
  async ownRequest(requestId: number, requesterId: string): Promise<StoredRequest> {
    const request = await this.requests.get(requestId);
    if (!request) throw new AppError('REQUEST_NOT_FOUND');
    if (!requestAccess(request, { kind: 'person', userId: requesterId }).own) throw new AppError('NOT_YOUR_REQUEST');
    AffectedUserDuties.stageOf(request);
    return request;
  }

  private async timescales(): Promise<MeasuredTimescales> {
    const [decisions, transfers] = await Promise.all([this.history.decisions(), this.history.transfers()]);
    return { decision: measureTimescale(decisions, this.holidays), transfer: measureTimescale(transfers, this.holidays) };
  }
}

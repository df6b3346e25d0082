import type { Attachment } from 'botbuilder';
import { MessageFactory } from 'botbuilder';
import type { ScreenedAccount } from './eligibility/types';
import { describeErrorForLog } from '../core/errors';
import type { Logger } from '../core/log';
import type { Messenger } from './notifier';
import type { Attestations, DecisionOutcome, RequestStore, StoredRequest } from './store/request-store';

export interface RequesterContext {
  id: string;
  name: string;
  organisationOds: string;
  organisationName: string;
}

export interface Submission {
  requester: RequesterContext;
  reason: string;
  attestations: Attestations;
  policyVersion: string;
  /** Every screened account; the ineligible ones stay with the requester. */
  accounts: readonly ScreenedAccount[];
}

export interface CardRenderers {
  opsRequest(request: StoredRequest, start?: number): Attachment;
  outcome(request: StoredRequest): Attachment;
}

/**
 * The transfer's life after screening: store the request, put it before NAS Operations,
 * keep their card current, and tell the requester once every account is decided.
 */
export class TransferWorkflow {
  constructor(
    private readonly store: RequestStore,
    private readonly messenger: Messenger,
    private readonly cards: CardRenderers,
    private readonly logger: Logger,
  ) {}

  async submit(submission: Submission): Promise<{ request: StoredRequest; postedToOps: boolean }> {
    const request = await this.store.createRequest({
      organisationOds: submission.requester.organisationOds,
      organisationName: submission.requester.organisationName,
      requester: { id: submission.requester.id, name: submission.requester.name },
      reason: submission.reason,
      attestations: submission.attestations,
      policyVersion: submission.policyVersion,
      accounts: submission.accounts.filter((account) => account.verdict !== 'ineligible'),
    });
    this.logger.info('request.submitted', { requestId: request.id, reference: request.reference, accountCount: request.accounts.length });
    return { request, postedToOps: await this.postToOps(request) };
  }

  /** Posts every stored request the ops channel has not seen yet (after the channel becomes known). */
  async postPendingToOps(): Promise<number> {
    let posted = 0;
    for (const requestId of await this.store.listNotPostedToOps()) {
      const request = await this.store.getRequest(requestId);
      if (request && (await this.postToOps(request))) posted++;
    }
    return posted;
  }

  /** After a decision: refresh the ops card for everyone, and notify the requester if it settled the request. */
  async afterDecision(requestId: number, outcome: DecisionOutcome, start = 0): Promise<StoredRequest> {
    const request = (await this.store.getRequest(requestId)) as StoredRequest;
    if (request.opsConversationId && request.opsActivityId) {
      await this.messenger
        .updateOpsMessage({ conversationId: request.opsConversationId, activityId: request.opsActivityId }, this.cards.opsRequest(request, start))
        .catch((error: unknown) => this.logger.warn('ops_card.update_failed', { requestId, ...describeErrorForLog(error) }));
    }
    if (outcome.requestNowDecided) await this.notifyOutcome(request);
    return request;
  }

  /** Sends the requester any outcome that could not be delivered when it was decided. */
  async deliverUndeliveredOutcomes(requesterId: string): Promise<number> {
    let delivered = 0;
    for (const requestId of await this.store.listUndeliveredOutcomes(requesterId)) {
      const request = await this.store.getRequest(requestId);
      if (request && (await this.notifyOutcome(request))) delivered++;
    }
    return delivered;
  }

  async notifyOutcome(request: StoredRequest): Promise<boolean> {
    const sent = await this.messenger
      .sendToUser(request.requester.id, MessageFactory.attachment(this.cards.outcome(request)))
      .catch((error: unknown) => {
        this.logger.warn('outcome.notify_failed', { requestId: request.id, ...describeErrorForLog(error) });
        return false;
      });
    if (sent) await this.store.markOutcomeNotified(request.id);
    else this.logger.warn('outcome.not_notified', { requestId: request.id });
    return sent;
  }

  private async postToOps(request: StoredRequest): Promise<boolean> {
    const posted = await this.messenger.postToOpsChannel(this.cards.opsRequest(request)).catch((error: unknown) => {
      this.logger.warn('ops_card.post_failed', { requestId: request.id, ...describeErrorForLog(error) });
      return null;
    });
    if (!posted) return false;
    await this.store.recordOpsMessage(request.id, posted.conversationId, posted.activityId);
    return true;
  }
}


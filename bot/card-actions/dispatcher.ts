import type { AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, Attachment, TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { OpsCardView } from '../../cards/ops-request';
import { requestIdField, startField, typedTextRefusalOf } from './card-data';
import { AppError, describeErrorForLog, findAppError, type ErrorCode } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Actor, StoredRequest } from '../../services/model';
import { requestAccess, type RequestViewer } from '../../services/request-access';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import { cardVerbOf, OPS_ACTIONS, opsActionOfVerb } from '../ops-actions';
import { userWords } from '../refusal-words';

/** The card as it is now, for whoever may see it: no action, nothing changes. */
export const REFRESH_VERB = 'refreshCard';
/** Another page of the card's accounts, for NAS Operations: no action, nothing changes. */
export const SHOW_PAGE_VERB = 'showPage';
const onRequest = z.object({ requestId: requestIdField });
const refreshSchema = z.object({ requestId: requestIdField, start: startField });
/** The ids of an action refused for its typed text: enough to show the refusal by the button pressed. */
const refusedTextIds = z.object({ requestId: requestIdField, accountId: requestIdField.optional() });

const ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  CARD_DATA_INVALID: 400,
  REQUEST_NOT_FOUND: 404,
  NOT_OPS: 403,
  DIRECTORY_UNAVAILABLE: 503,
  OPS_UNCONFIRMED: 503,
  SERVICE_BRIEFLY_UNAVAILABLE: 503,
};
/** Refusals that are audited: someone outside NAS Operations, or someone the directory could not confirm. */
const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set(['NOT_OPS', 'OPS_UNCONFIRMED']);

/** NAS Operations members seen acting, whose cards Teams refreshes to their own view (Universal Actions refresh.userIds). */
export interface OpsViewers {
  record(teamsUserId: string, aadObjectId: string): Promise<void>;
  refreshUserIds(): Promise<string[]>;
}

export interface CardActionCollaborators {
  requests: TransferRequests;
  access: Pick<AccessControl, 'opsMember' | 'viewer'>;
  renderCard: (request: StoredRequest, start: number, notice: string, noticeAccountId: number | undefined, view: OpsCardView) => Attachment;
  opsMembers: OpsViewers;
  logger: Logger;
}

/**
 * Routes each Action.Execute verb to its action in the table of actions (bot/ops-actions.ts).
 * The invoke is answered from the store alone: the decision commits with the messages it makes
 * owed, the request is read once and rendered once, and the shared card update and
 * notifications go out through the outbox, so a slow Teams or a slow requester chat never
 * holds the person who clicked.
 */
export class CardActionDispatcher {
  constructor(private readonly parts: CardActionCollaborators) {}

  async dispatch(context: TurnContext, invoke: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = invoke.action?.verb;
    if (verb === REFRESH_VERB) return this.refresh(context, invoke);
    const name = opsActionOfVerb(verb);
    const action = name ? OPS_ACTIONS[name] : undefined;
    const input = action?.input ?? (verb === SHOW_PAGE_VERB ? onRequest : undefined);
    const raw = { ...(invoke.action?.data as object | undefined) } as Record<string, unknown>;
    const parsed = input?.safeParse(raw);
    const start = startField.safeParse(raw.start);
    // Typed text that cannot be kept (unreadable, too long) is told by the button pressed, like any refusal; other bad data is not recognised.
    const textRefusal = parsed && !parsed.success ? typedTextRefusalOf(parsed.error) : undefined;
    const ids = textRefusal ? refusedTextIds.safeParse(raw) : undefined;
    if (!input || !start.success || (!parsed?.success && !ids?.success)) return errorResponse(new AppError('CARD_DATA_INVALID'));
    const data = (parsed?.success ? parsed.data : ids!.data!) as { requestId: number; accountId?: number };
    // The one name of the action, in the audit of a refusal and the log; the card's own verb places a refusal by its button.
    const named = name ?? SHOW_PAGE_VERB;
    const noticeVerb = name ? cardVerbOf(name) : SHOW_PAGE_VERB;

    // Who is asking comes first: someone outside NAS Operations learns nothing, not even whether the request exists.
    let actor: Actor;
    try {
      actor = await this.parts.access.opsMember(context.activity.from?.aadObjectId);
    } catch (error) {
      return this.refused(context, named, data.requestId, error);
    }
    // Then the one rule of who may act on which request (services/request-access.ts), as the workspace and a refresh ask it,
    // from who raised it alone: the request is read whole once, as it is after the action, to draw the card.
    if (!requestAccess(await this.parts.requests.requesterOf(data.requestId), { kind: 'ops', actor }).operate) {
      return errorResponse(new AppError('REQUEST_NOT_FOUND'));
    }
    await this.rememberOpsMember(context);

    let notice = textRefusal ? userWords(textRefusal) : '';
    if (action && !textRefusal) {
      try {
        await action.run(this.parts.requests, actor, data);
        this.parts.logger.info('card_action.done', { verb: named, requestId: data.requestId });
      } catch (error) {
        const appError = findAppError(error);
        if (!appError) throw error;
        notice = userWords(appError);
      }
    }
    // As it is now: changed by this action, or by whoever acted first when it was refused.
    const current = await this.parts.requests.get(data.requestId);
    if (!current) return errorResponse(new AppError('REQUEST_NOT_FOUND'));
    return cardResponse(this.parts.renderCard(current, start.data, notice, data.accountId, await this.view(true, actor.id, noticeVerb)));
  }

  /**
   * Universal Actions refresh (automatic when the card is shown, or the user's own refresh):
   * the card as it is now, with the buttons for NAS Operations and read-only for others in
   * the ops channel, where the card is posted. Anyone else (a refresh sent from another chat,
   * naming any request) is refused like an action, before the request is even looked up, so
   * unknown and foreign references get the same answer.
   */
  private async refresh(context: TurnContext, invoke: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const parsed = refreshSchema.safeParse({ ...(invoke.action?.data as object | undefined) });
    if (!parsed.success) return errorResponse(new AppError('CARD_DATA_INVALID'));
    let viewer: RequestViewer;
    try {
      viewer = await this.parts.access.viewer(context.activity);
    } catch (error) {
      return this.refused(context, REFRESH_VERB, parsed.data.requestId, error);
    }
    if (viewer.kind === 'person') return this.refused(context, REFRESH_VERB, parsed.data.requestId, new AppError('NOT_OPS'));
    if (viewer.kind === 'ops') await this.rememberOpsMember(context);
    const request = await this.parts.requests.get(parsed.data.requestId);
    const access = requestAccess(request, viewer);
    if (!request || !access.see) return errorResponse(new AppError('REQUEST_NOT_FOUND'));
    return cardResponse(
      this.parts.renderCard(request, parsed.data.start, '', undefined, await this.view(access.operate, viewer.kind === 'ops' ? viewer.actor.id : undefined)),
    );
  }

  /** The card as `viewerId` sees it (a refresh or their own click); a refusal of `noticeVerb` is shown by its button. */
  private async view(actionable: boolean, viewerId?: string, noticeVerb?: string): Promise<OpsCardView> {
    return { actionable, viewerId, noticeVerb, refreshUserIds: await this.parts.opsMembers.refreshUserIds() };
  }

  /** Those who act as NAS Operations get the card refreshed to their view automatically. */
  private async rememberOpsMember(context: TurnContext): Promise<void> {
    const from = context.activity.from;
    if (from?.id && from.aadObjectId) await this.parts.opsMembers.record(from.id, from.aadObjectId);
  }

  /**
   * Someone outside NAS Operations (or a directory that could not say) is told no, with
   * nothing of the request in the answer, and the attempt is audited.
   */
  private async refused(context: TurnContext, verb: string, requestId: number, error: unknown): Promise<AdaptiveCardInvokeResponse> {
    const appError = findAppError(error);
    if (!appError) throw error;
    const from = context.activity.from;
    const actor = { id: from?.aadObjectId ?? from?.id ?? 'unknown', name: from?.name ?? 'unknown' };
    if (AUDITED_REFUSALS.has(appError.code)) await this.parts.requests.recordRefusal(actor, verb, requestId, appError.code);
    this.parts.logger.warn('card_action.refused', { verb, requestId, ...describeErrorForLog(appError) });
    return errorResponse(appError);
  }
}

function cardResponse(card: Attachment): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card.content as Record<string, unknown> };
}

function errorResponse(error: AppError): AdaptiveCardInvokeResponse {
  return {
    statusCode: ERROR_STATUS[error.code] ?? 400,
    type: 'application/vnd.microsoft.error',
    value: { code: error.code, message: userWords(error) },
  };
}

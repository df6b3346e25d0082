import type { AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, Attachment, TurnContext } from 'botbuilder';
import { AppError, describeErrorForLog, isAppError, type ErrorCode } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { RequestStore, StoredRequest } from '../../services/store/request-store';
import type { TransferWorkflow } from '../../services/transfer-workflow';
import type { AccessControl } from '../access-control';
import type { CardActionHandler } from './card-action';
import type { z } from 'zod';

type AnyHandler = CardActionHandler<z.ZodType<{ requestId: number }>>;

const ERROR_STATUS: Partial<Record<ErrorCode, number>> = { CARD_DATA_INVALID: 400, REQUEST_NOT_FOUND: 404, NOT_OPS: 403 };

/**
 * Routes each Action.Execute verb to its handler. Only NAS Operations may act; the card
 * shown afterwards is always rendered from the store, with any refusal written on it.
 */
export class CardActionDispatcher {
  private readonly handlers: Map<string, AnyHandler>;

  constructor(
    handlers: readonly AnyHandler[],
    private readonly store: RequestStore,
    private readonly access: AccessControl,
    private readonly workflow: TransferWorkflow,
    private readonly renderCard: (request: StoredRequest, start: number, notice: string) => Attachment,
    private readonly logger: Logger,
  ) {
    this.handlers = new Map(handlers.map((handler) => [handler.verb, handler]));
  }

  async dispatch(context: TurnContext, invoke: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const handler = this.handlers.get(invoke.action?.verb ?? '');
    const parsed = handler?.schema.safeParse({ ...(invoke.action?.data as object | undefined) });
    if (!handler || !parsed?.success) return errorResponse(new AppError('CARD_DATA_INVALID'));
    const data = parsed.data;
    const request = await this.store.getRequest(data.requestId);
    if (!request) return errorResponse(new AppError('REQUEST_NOT_FOUND'));
    const start = Number((data as { start?: number }).start ?? 0);
    try {
      const actor = await this.access.opsMember(context.activity.from?.aadObjectId);
      const result = await handler.handle(this.store, actor, data);
      this.logger.info('card_action.done', { verb: handler.verb, requestId: request.id, decided: result.decision?.decidedAccountIds.length ?? 0 });
      const current = result.decision ? await this.workflow.afterDecision(request.id, result.decision, result.start) : request;
      return cardResponse(this.renderCard(current, result.start, ''));
    } catch (error) {
      if (!isAppError(error) || error.code === 'DIRECTORY_UNAVAILABLE') {
        this.logger.warn('card_action.failed', { verb: handler.verb, requestId: request.id, ...describeErrorForLog(error) });
      }
      if (!isAppError(error)) throw error;
      const current = (await this.store.getRequest(request.id)) ?? request;
      return cardResponse(this.renderCard(current, start, error.userMessage));
    }
  }
}

function cardResponse(card: Attachment): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card.content as Record<string, unknown> };
}

function errorResponse(error: AppError): AdaptiveCardInvokeResponse {
  return {
    statusCode: ERROR_STATUS[error.code] ?? 400,
    type: 'application/vnd.microsoft.error',
    value: { code: error.code, message: error.userMessage } as unknown as Record<string, unknown>,
  };
}

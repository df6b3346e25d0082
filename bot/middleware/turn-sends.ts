import { ActivityEventNames, ActivityTypes, type Activity, type Middleware, type ResourceResponse, type TurnContext } from 'botbuilder';
import type { Logger } from '../../core/log';
import type { SendDestination } from '../../services/outbox/send-pacing';

/** Records requests that already went to Teams in the shared send budget (services/store/send-budget.ts). */
export interface SendsSpent {
  spent(destination: SendDestination, requests: number): Promise<void>;
}

/** Activities the adapter hands back in the HTTP response or never sends: Teams receives no request for them. */
const NOT_SENT: ReadonlySet<string> = new Set(['invokeResponse', 'delay', 'trace']);

/**
 * Counts a turn's own replies and updates against Teams' limits, so the background deliveries
 * that share the budget leave room for them. A turn's reply is never held for the budget (it
 * answers someone waiting), so it is recorded after it went, without waiting for the record:
 * a record that fails costs only accuracy, never the reply.
 */
export class TurnSendsCounted implements Middleware {
  constructor(
    private readonly budget: SendsSpent,
    private readonly logger: Logger,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    // The outbox's own sends (continueConversation turns) took their slot in the budget before they went: counted again here,
    // each would use two slots and a channel would get half of what Teams allows.
    if (context.activity.type === ActivityTypes.Event && context.activity.name === ActivityEventNames.ContinueConversation) return next();
    context.onSendActivities(async (turn, activities, send): Promise<ResourceResponse[]> => {
      const responses = await send();
      this.record(turn.activity, activities.filter((activity) => !NOT_SENT.has(activity.type ?? '')).length);
      return responses;
    });
    context.onUpdateActivity(async (turn, _activity, update) => {
      await update();
      this.record(turn.activity, 1);
    });
    context.onDeleteActivity(async (turn, _reference, remove) => {
      await remove();
      this.record(turn.activity, 1);
    });
    await next();
  }

  private record(activity: Partial<Activity>, requests: number): void {
    // A reply in the Bot Framework's own test channels or without a conversation goes nowhere Teams counts.
    if (requests === 0 || !activity.conversation?.id) return;
    const destination: SendDestination = { conversation: activity.conversation.id, tenant: activity.conversation.tenantId ?? '' };
    this.budget.spent(destination, requests).catch(() => this.logger.warn('send_budget.record_failed', { requests }));
  }
}

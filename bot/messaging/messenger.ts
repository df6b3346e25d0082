import { TeamsInfo, type Activity, type CloudAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import { DeliveryFailure as DeliveryError } from '../../services/outbox/delivery-engine';
import { removeConnectorClientRetries } from '../platform/botbuilder-internals';

/**
 * The Teams edge for messages the bot sends on its own (not in reply to a turn): posting a
 * card, updating one in place, writing to a person's chat. The outbox worker is its only caller.
 */
export interface Messenger {
  /** Returns the id Teams gave the new message. */
  send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string | undefined>;
  update(reference: Partial<ConversationReference>, activityId: string, activity: Partial<Activity>): Promise<void>;
  /**
   * How many members the conversation has, counted up to `atLeast` (enough to know it is
   * larger); undefined when Teams could not say.
   */
  memberCount?(reference: Partial<ConversationReference>, atLeast: number): Promise<number | undefined>;
}

/**
 * Teams refused or failed to take a message: the delivery engine's failure, with the HTTP
 * status the Bot Connector answered (undefined when it could not be reached) and its Retry-After.
 */
export { DeliveryFailure as DeliveryError } from '../../services/outbox/delivery-engine';

/** Proactive messages through botbuilder's CloudAdapter (continueConversationAsync). */
export class ConnectorMessenger implements Messenger {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
  ) {}

  async send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string | undefined> {
    let id: string | undefined;
    await this.continueIn(reference, async (context) => {
      id = (await context.sendActivity(activity))?.id;
    });
    return id;
  }

  /** One page of the roster (Teams' getPagedMembers, pageSize `atLeast`): a further page means more than that. */
  async memberCount(reference: Partial<ConversationReference>, atLeast: number): Promise<number | undefined> {
    let count: number | undefined;
    await this.continueIn(reference, async (context) => {
      const page = await TeamsInfo.getPagedMembers(context, atLeast);
      count = page.continuationToken ? Math.max(atLeast + 1, page.members.length + 1) : page.members.length;
    }).catch(() => undefined);
    return count;
  }

  async update(reference: Partial<ConversationReference>, activityId: string, activity: Partial<Activity>): Promise<void> {
    await this.continueIn(reference, async (context) => {
      await context.updateActivity({ ...activity, id: activityId, conversation: context.activity.conversation });
    });
  }

  /**
   * BotAdapter.runMiddleware hands an error thrown in the callback to onTurnError, which
   * would swallow it and make a refused message look sent; so the error is caught here and
   * thrown to the caller, who decides on a retry.
   */
  private async continueIn(reference: Partial<ConversationReference>, send: (context: TurnContext) => Promise<void>): Promise<void> {
    let failure: unknown;
    await this.adapter.continueConversationAsync(this.botAppId, reference, async (context) => {
      try {
        // The outbox is the one place that decides when to try again: the client's own retries would hold the call and hide the status.
        removeConnectorClientRetries(context, this.adapter);
        await send(context);
      } catch (error) {
        failure = error;
      }
    });
    if (failure !== undefined) throw toDeliveryError(failure);
  }
}

export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const failure = error as { statusCode?: unknown; status?: unknown; response?: { status?: unknown; headers?: unknown } } | undefined;
  const rawStatus = failure?.statusCode ?? failure?.status ?? failure?.response?.status;
  const status = typeof rawStatus === 'number' && rawStatus >= 100 ? rawStatus : undefined;
  return new DeliveryError(status, retryAfterSeconds(failure?.response?.headers));
}

/** Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3). */
function retryAfterSeconds(headers: unknown): number | undefined {
  const value =
    typeof (headers as { get?: unknown } | undefined)?.get === 'function'
      ? (headers as { get(name: string): string | undefined }).get('retry-after')
      : (headers as Record<string, string> | undefined)?.['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

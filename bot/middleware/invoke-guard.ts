import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import { AppError } from '../../core/errors';

/** What every Universal Actions invoke must carry before any handler reads it: an Action.Execute with a verb. */
const adaptiveCardActionSchema = z.object({ action: z.object({ type: z.literal('Action.Execute'), verb: z.string().max(100) }).loose() }).loose();

/**
 * Answers a malformed `adaptiveCard/action` invoke (no action, a string for a value, another
 * action type) with 400 and the catalogue's card-data error, as every other malformed card
 * data is answered. botbuilder's own check reads `value.action.type` unguarded, which throws a
 * TypeError and answers 501.
 */
export class InvokeGuard implements Middleware {
  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const activity = context.activity;
    if (activity.type === ActivityTypes.Invoke && activity.name === 'adaptiveCard/action' && !adaptiveCardActionSchema.safeParse(activity.value).success) {
      const error = new AppError('CARD_DATA_INVALID');
      await context.sendActivity({
        type: ActivityTypes.InvokeResponse,
        value: { status: 400, body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: error.code, message: error.userMessage } } },
      });
      return;
    }
    await next();
  }
}

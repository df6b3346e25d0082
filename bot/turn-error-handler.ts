import { randomUUID } from 'node:crypto';
import type { TurnContext } from 'botbuilder';
import { describeErrorForLog, findAppError } from '../core/errors';
import type { Logger } from '../core/log';

/**
 * The one place a failed turn is turned into words. Our own errors carry a message written
 * for the user; anything else gets an incident id that matches the log line, and never a
 * stack trace or upstream text.
 */
export function createTurnErrorHandler(logger: Logger) {
  return async (context: TurnContext, error: Error): Promise<void> => {
    const appError = findAppError(error);
    if (appError) {
      logger.info('turn.refused', { activityType: context.activity.type, ...describeErrorForLog(appError) });
      if (context.activity.type === 'message') await context.sendActivity(appError.userMessage);
      return;
    }
    const incident = randomUUID().slice(0, 8);
    logger.error('turn.failed', { incident, activityType: context.activity.type, ...describeErrorForLog(error) });
    if (context.activity.type === 'message') {
      await context
        .sendActivity(`Sorry, something went wrong on my side (incident ${incident}). Nothing you had entered was lost: send your last answer again, or type **help**.`)
        .catch(() => undefined);
    }
  };
}

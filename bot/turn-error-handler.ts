import { randomUUID } from 'node:crypto';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { AppError, describeErrorForLog, findAppError, type ErrorCode } from '../core/errors';
import type { Logger } from '../core/log';
import { userWords } from './refusal-words';

/** Failures that say "try again shortly" rather than "no": an invoke hears them as 503. */
const TRY_AGAIN_CODES: ReadonlySet<ErrorCode> = new Set([
  'SERVICE_BRIEFLY_UNAVAILABLE',
  'DIRECTORY_UNAVAILABLE',
  'ODS_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'OPS_UNCONFIRMED',
]);

/**
 * The one place a failed turn is turned into words. Our own errors carry a message written
 * for the user; anything else gets an incident id that matches the log line, and never a
 * stack trace or upstream text. A message hears it as a reply; an invoke (a card button)
 * as its answer, so the client shows it instead of a bare failure.
 */
export function createTurnErrorHandler(logger: Logger) {
  return async (context: TurnContext, error: Error): Promise<void> => {
    const appError = findAppError(error);
    if (appError) {
      logger.info('turn.refused', { activityType: context.activity.type, ...describeErrorForLog(appError) });
      if (context.activity.type === 'message') await context.sendActivity(userWords(appError));
      if (context.activity.type === 'invoke') await answerInvoke(context, TRY_AGAIN_CODES.has(appError.code) ? 503 : 400, appError);
      return;
    }
    const incident = randomUUID().slice(0, 8);
    logger.error('turn.failed', { incident, activityType: context.activity.type, ...describeErrorForLog(error) });
    if (context.activity.type === 'message') {
      await context
        .sendActivity(
          `Sorry, something went wrong on my side (incident ${incident}). Nothing you had entered was lost: send your last answer again, or type **help**.`,
        )
        .catch(() => undefined);
    }
    if (context.activity.type === 'invoke') await answerInvoke(context, 500, new AppError('REQUEST_FAILED', `Incident ${incident}.`)).catch(() => undefined);
  };
}

/**
 * An Action.Execute is answered as Universal Actions define an error (HTTP 200, the status in
 * the body), as the card action dispatcher answers its own refusals; any other invoke with the
 * status itself.
 */
async function answerInvoke(context: TurnContext, status: number, error: AppError): Promise<void> {
  const detail = { code: error.code, message: userWords(error) };
  const value =
    context.activity.name === 'adaptiveCard/action'
      ? { status: 200, body: { statusCode: status, type: 'application/vnd.microsoft.error', value: detail } }
      : { status, body: { error: detail } };
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value });
}

import { z } from 'zod';
import { AppError } from '../../core/errors';
import { cardAction } from './card-action';
import { decisionReasonField, requestIdField, startField } from './card-data';

/** Puts a question to the requester, who answers in their chat; both show on the card and in the audit. */
export const askRequester = cardAction({
  verb: 'askRequester',
  schema: z.object({ requestId: requestIdField, start: startField, question: decisionReasonField }),
  async handle({ questions }, actor, data) {
    if (!data.question) throw new AppError('INVALID_INPUT', 'Type the question in the box above the button.');
    await questions.ask(data.requestId, actor, data.question);
    return { start: data.start };
  },
});

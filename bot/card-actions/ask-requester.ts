import { z } from 'zod';
import { cardAction } from './card-action';
import { requestIdField, startField, typedTextField } from './card-data';

/** Puts a question to the requester, who answers in their chat; both show on the card and in the audit. */
export const askRequester = cardAction({
  verb: 'askRequester',
  schema: z.object({ requestId: requestIdField, start: startField, question: typedTextField('question') }),
  async handle({ requests }, actor, data) {
    await requests.ask(data.requestId, actor, data.question);
    return { start: data.start };
  },
});

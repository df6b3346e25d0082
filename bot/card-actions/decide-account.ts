import { z } from 'zod';
import { cardAction } from './card-action';
import { decisionReasonField, startField, requestIdField } from './card-data';

export const decideAccount = cardAction({
  verb: 'decideAccount',
  schema: z.object({
    requestId: requestIdField,
    accountId: requestIdField,
    decision: z.enum(['approved', 'rejected']),
    start: startField,
    decisionReason: decisionReasonField,
  }),
  async handle({ requests }, actor, data) {
    await requests.decideAccount(data.requestId, data.accountId, data.decision, actor, data.decisionReason);
    return { start: data.start };
  },
});

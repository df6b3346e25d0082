import { z } from 'zod';
import { AppError } from '../../core/errors';
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
  async handle({ decisions }, actor, data) {
    if (data.decision === 'rejected' && !data.decisionReason) throw new AppError('INVALID_INPUT', 'Give a reason to reject: the requester will see it.');
    await decisions.decideAccount(data.requestId, data.accountId, data.decision, actor, data.decisionReason ?? null);
    return { start: data.start };
  },
});

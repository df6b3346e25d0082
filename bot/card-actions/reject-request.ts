import { z } from 'zod';
import { AppError } from '../../core/errors';
import { cardAction } from './card-action';
import { decisionReasonField, startField, requestIdField } from './card-data';

export const rejectRequest = cardAction({
  verb: 'rejectRequest',
  schema: z.object({ requestId: requestIdField, start: startField, decisionReason: decisionReasonField }),
  async handle(store, actor, data) {
    if (!data.decisionReason) throw new AppError('INVALID_INPUT', 'Give a reason to reject: the requester will see it.');
    return { start: data.start, decision: await store.rejectRemaining(data.requestId, actor, data.decisionReason) };
  },
});

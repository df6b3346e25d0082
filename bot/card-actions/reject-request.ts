import { z } from 'zod';
import { AppError } from '../../core/errors';
import { cardAction } from './card-action';
import { decisionReasonField, startField, requestIdField } from './card-data';

export const rejectRequest = cardAction({
  verb: 'rejectRequest',
  schema: z.object({ requestId: requestIdField, start: startField, decisionReason: decisionReasonField }),
  async handle({ decisions }, actor, data) {
    if (!data.decisionReason) throw new AppError('INVALID_INPUT', 'Give a reason to reject: the requester will see it.');
    await decisions.rejectRemaining(data.requestId, actor, data.decisionReason);
    return { start: data.start };
  },
});

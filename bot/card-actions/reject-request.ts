import { z } from 'zod';
import { cardAction } from './card-action';
import { decisionReasonField, startField, requestIdField } from './card-data';

export const rejectRequest = cardAction({
  verb: 'rejectRequest',
  schema: z.object({ requestId: requestIdField, start: startField, decisionReason: decisionReasonField }),
  async handle({ requests }, actor, data) {
    await requests.rejectUndecided(data.requestId, actor, data.decisionReason);
    return { start: data.start };
  },
});

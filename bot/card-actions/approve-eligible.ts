import { z } from 'zod';
import { cardAction } from './card-action';
import { startField, requestIdField } from './card-data';

export const approveEligible = cardAction({
  verb: 'approveEligible',
  schema: z.object({ requestId: requestIdField, start: startField }),
  async handle({ requests }, actor, data) {
    await requests.approveEligible(data.requestId, actor);
    return { start: data.start };
  },
});

import { z } from 'zod';
import { cardAction } from './card-action';
import { startField, requestIdField } from './card-data';

export const approveEligible = cardAction({
  verb: 'approveEligible',
  schema: z.object({ requestId: requestIdField, start: startField }),
  async handle(store, actor, data) {
    return { start: data.start, decision: await store.approveEligible(data.requestId, actor) };
  },
});

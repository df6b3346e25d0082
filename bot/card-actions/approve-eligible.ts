import { z } from 'zod';
import { cardAction } from './card-action';
import { pageField, requestIdField } from './card-data';

export const approveEligible = cardAction({
  verb: 'approveEligible',
  schema: z.object({ requestId: requestIdField, page: pageField }),
  async handle(store, actor, data) {
    return { page: data.page, decision: await store.approveEligible(data.requestId, actor) };
  },
});

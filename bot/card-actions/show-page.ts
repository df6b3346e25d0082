import { z } from 'zod';
import { cardAction } from './card-action';
import { pageField, requestIdField } from './card-data';

export const showPage = cardAction({
  verb: 'showPage',
  schema: z.object({ requestId: requestIdField, page: pageField }),
  async handle(_store, _actor, data) {
    return { page: data.page };
  },
});

import { z } from 'zod';
import { cardAction } from './card-action';
import { startField, requestIdField } from './card-data';

export const showPage = cardAction({
  verb: 'showPage',
  schema: z.object({ requestId: requestIdField, start: startField }),
  async handle(_services, _actor, data) {
    return { start: data.start };
  },
});

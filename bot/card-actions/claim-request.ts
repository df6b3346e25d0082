import { z } from 'zod';
import { cardAction } from './card-action';
import { requestIdField, startField } from './card-data';

/** "Assign to me": everyone sees who is reviewing the request. */
export const claimRequest = cardAction({
  verb: 'claimRequest',
  schema: z.object({ requestId: requestIdField, start: startField }),
  async handle({ lifecycle }, actor, data) {
    await lifecycle.claim(data.requestId, actor);
    return { start: data.start };
  },
});

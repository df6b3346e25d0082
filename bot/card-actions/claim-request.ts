import { z } from 'zod';
import { cardAction } from './card-action';
import { requestIdField, startField } from './card-data';

/** "Assign to me": everyone sees who is reviewing the request. */
export const claimRequest = cardAction({
  verb: 'claimRequest',
  schema: z.object({ requestId: requestIdField, start: startField }),
  async handle({ requests }, actor, data) {
    await requests.claim(data.requestId, actor);
    return { start: data.start };
  },
});

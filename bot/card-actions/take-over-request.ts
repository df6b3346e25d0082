import { z } from 'zod';
import { cardAction } from './card-action';
import { requestIdField, startField } from './card-data';

/**
 * "Take over": a request someone else is reviewing becomes this member's. The card names the
 * reviewer it showed, so a take-over pressed on an out-of-date card is refused rather than
 * taking the request from someone else.
 */
export const takeOverRequest = cardAction({
  verb: 'takeOverRequest',
  schema: z.object({ requestId: requestIdField, start: startField, reviewerId: z.string().trim().min(1).max(100) }),
  async handle({ requests }, actor, data) {
    await requests.takeOver(data.requestId, actor, data.reviewerId);
    return { start: data.start };
  },
});

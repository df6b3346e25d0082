import { z } from 'zod';
import { cardAction } from './card-action';
import { decisionReasonField, requestIdField, startField } from './card-data';

/** NAS Operations vouch, with a reason, for a marked transfer the directory does not show yet; the bot stops checking it. */
export const overrideTransfer = cardAction({
  verb: 'overrideTransfer',
  schema: z.object({ requestId: requestIdField, accountId: requestIdField, start: startField, decisionReason: decisionReasonField }),
  async handle({ requests }, actor, data) {
    await requests.overrideTransfer(data.requestId, data.accountId, actor, data.decisionReason);
    return { start: data.start };
  },
});

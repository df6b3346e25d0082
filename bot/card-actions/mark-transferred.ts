import { z } from 'zod';
import { cardAction } from './card-action';
import { requestIdField, startField, typedTextField } from './card-data';

/** The approved accounts not yet marked are now administered by NAS; an optional note goes with them. */
export const markTransferred = cardAction({
  verb: 'markTransferred',
  schema: z.object({ requestId: requestIdField, start: startField, transferNote: typedTextField('note') }),
  async handle({ requests }, actor, data) {
    await requests.markTransferred(data.requestId, actor, 'all', data.transferNote);
    return { start: data.start };
  },
});

/** One approved account is now administered by NAS. */
export const markAccountTransferred = cardAction({
  verb: 'markAccountTransferred',
  schema: z.object({ requestId: requestIdField, accountId: requestIdField, start: startField, transferNote: typedTextField('note') }),
  async handle({ requests }, actor, data) {
    await requests.markTransferred(data.requestId, actor, data.accountId, data.transferNote);
    return { start: data.start };
  },
});

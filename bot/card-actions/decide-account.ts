import { cardAction } from './card-action';
import { accountDecisionData } from './card-data';

export const decideAccount = cardAction({
  verb: 'decideAccount',
  schema: accountDecisionData,
  async handle({ requests }, actor, data) {
    await requests.decideAccount(data.requestId, data.accountId, data.decision, actor, data.decisionReason);
    return { start: data.start };
  },
});

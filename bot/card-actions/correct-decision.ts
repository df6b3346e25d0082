import { cardAction } from './card-action';
import { accountDecisionData } from './card-data';

/** Changes a decision until the account is transferred; the reason is mandatory and both decisions stay in the audit. */
export const correctDecision = cardAction({
  verb: 'correctDecision',
  schema: accountDecisionData,
  async handle({ requests }, actor, data) {
    await requests.correctDecision(data.requestId, data.accountId, data.decision, actor, data.decisionReason);
    return { start: data.start };
  },
});

import { MessageFactory, type Activity, type Attachment } from 'botbuilder';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { renderOutcomeCard } from '../../cards/outcome';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import type { ScreeningJob } from '../../services/store/screening-jobs';
import type { OwedMessageRenderers } from './outbox-worker';

/** How each owed message looks, rendered from the store when it is delivered. */
export const owedMessageRenderers: OwedMessageRenderers = {
  opsRequest: (request): Attachment => renderOpsRequestCard(request),
  outcome: (request): Attachment => renderOutcomeCard(request),
  screeningResults: (job: ScreeningJob): Partial<Activity> => {
    if (job.status === 'done' && job.result) return MessageFactory.attachment(renderScreeningResultsCard(job.organisationName, job.result, 0).card);
    return MessageFactory.text(
      `I could not check the ${job.total} accounts: a data source did not answer after several tries. Nothing was lost. Type **retry** to try again, **edit** to change the list, or **cancel**.`,
    );
  },
};

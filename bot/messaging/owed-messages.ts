import { MessageFactory, type Activity, type Attachment } from 'botbuilder';
import { renderMinimalOpsCard, renderOpsRequestCard } from '../../cards/ops-request';
import { renderOutcomeCard } from '../../cards/outcome';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import { plural } from '../../cards/plural';
import { escapeMarkdown } from '../../core/text';
import type { ScreeningJob } from '../../services/screening-requests';
import { tallyWords } from '../../services/duties/tally-words';
import { MINIMAL_OPS_CARD, type OwedMessageRenderers } from './delivery-kinds';
import { outcomeChangedMessage } from './change-messages';
import { completionMessage } from './completion-message';
import { leaverAlertMessage, transferChaseMessage } from './recheck-messages';

/** Enough of an answer to read in the thread; the card above has all of it. */
const ANSWER_SHOWN = 500;

function clipWords(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 1);
  const boundary = cut.search(/\s\S*$/);
  return `${boundary > limit / 2 ? cut.slice(0, boundary) : cut}…`;
}

/** How each owed message looks, rendered from the store when it is delivered. */
export const owedMessageRenderers: OwedMessageRenderers = {
  leaverAlert: leaverAlertMessage,
  dutiesTally: (request, tally): Partial<Activity> => MessageFactory.text(tallyWords(request, tally, escapeMarkdown)),
  outcomeChanged: outcomeChangedMessage,
  transferChase: transferChaseMessage,
  // The card everyone in the channel sees; Teams refreshes it to each viewer's own view (buttons for NAS Operations).
  // In a channel of more than 60 members, those beyond refresh.userIds keep this card: read-only, with a button for their own view.
  opsRequest: (request, refreshUserIds, smaller, largeChannel = false): Attachment =>
    smaller >= MINIMAL_OPS_CARD
      ? renderMinimalOpsCard(request)
      : renderOpsRequestCard(request, 0, '', undefined, { actionable: !largeChannel, askForOwnView: largeChannel, refreshUserIds, smaller }),
  outcome: (request): Attachment => renderOutcomeCard(request),
  sourceProblem: (problem): Partial<Activity> =>
    MessageFactory.text(
      problem.loaded
        ? `The ${escapeMarkdown(problem.register)} was reloaded from ${escapeMarkdown(problem.file)}. ${escapeMarkdown(problem.message)} Type **sources** to see every source.`
        : `The new ${escapeMarkdown(problem.register)} file (${escapeMarkdown(problem.file)}) could not be used: ${escapeMarkdown(problem.message)} ` +
            (problem.keptPrevious
              ? 'Verdicts keep using the previous copy until a readable file replaces it.'
              : 'No copy is in use, so screening that needs it stops with a clear message rather than giving verdicts.') +
            ' Type **sources** to see every source.',
    ),
  cardTooLarge: (request, refused = false): Partial<Activity> =>
    MessageFactory.text(
      refused
        ? `Your request **${request.reference}** could not be shown to NAS Operations as a card: Teams refused it as too large, even as a short summary. ` +
            'NAS Operations have been told in their channel and open it in their NAS workspace: nothing is lost, and you will hear the outcome here as usual.'
        : `Your request **${request.reference}** reached NAS Operations as a short summary: Teams refused its full card as too large. ` +
            'Nothing is lost: they open the request in full in their NAS workspace, and you will hear the outcome here as usual.',
    ),
  opsCardRefused: (request): Partial<Activity> =>
    MessageFactory.text(
      `Transfer request **${request.reference}** (${plural(request.accounts.length, 'account')}) could not be posted here: Teams refused its card as too large, even its minimal summary. ` +
        `Open **${request.reference}** in the NAS workspace tab to review and decide it; ${escapeMarkdown(request.requester.name)} has been told.`,
    ),
  opsDelayed: (request): Partial<Activity> =>
    MessageFactory.text(
      `NAS Operations have not received your request **${request.reference}** yet: the bot cannot reach their Teams channel at the moment. ` +
        'Nothing is lost and you do not need to do anything: it will reach them as soon as the channel is back, and you will hear the outcome here as usual.',
    ),
  chase: (request, workingDays): Partial<Activity> =>
    MessageFactory.text(
      `Reminder: **${request.reference}** from ${escapeMarkdown(request.organisationName)} has waited ${workingDays} working days for a decision ` +
        (request.claimedBy ? `(being reviewed by ${escapeMarkdown(request.claimedBy.name)}).` : '(nobody has assigned it to themselves yet).') +
        ` Type **status ${request.reference}** to see it.`,
    ),
  question: (request, question, reminder): Partial<Activity> =>
    MessageFactory.text(
      (reminder ? 'Reminder: NAS Operations are still waiting for your answer. ' : '') +
        `${escapeMarkdown(question.askedBy.name)} in NAS Operations asks about **${request.reference}**:\n\n${escapeMarkdown(question.question)}\n\n` +
        `Reply with **answer ${request.reference}** followed by your answer, for example: answer ${request.reference} The site's DSPT was published on 3 December.`,
    ),
  completion: completionMessage,
  answerInThread: (request, question): Partial<Activity> =>
    MessageFactory.text(
      `${escapeMarkdown(request.requester.name)} answered the question on **${request.reference}**` +
        ` (asked by ${escapeMarkdown(question.askedBy.name)}):\n\n${escapeMarkdown(clipWords(question.answer ?? '', ANSWER_SHOWN))}\n\nThe answer is on the card above.`,
    ),
  screeningResults: (job: ScreeningJob): Partial<Activity> => {
    if (job.status === 'done' && job.result) return MessageFactory.attachment(renderScreeningResultsCard(job.organisationName, job.result, 0).card);
    return MessageFactory.text(
      `I could not check the ${job.total} accounts: a data source did not answer after several tries. Nothing was lost. Type **retry** to try again, **edit** to change the list, or **cancel**.`,
    );
  },
};

import { MessageFactory } from 'botbuilder';
import { ComponentDialog, WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from 'botbuilder-dialogs';
import { countVerdicts } from '../../cards/account-rows';
import { plural } from '../../cards/plural';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import { CardStepPrompt, type CardStepAnswer } from './card-step-prompt';
import type { ScreeningJob, ScreeningRequests } from '../../services/screening-requests';

export const REVIEW_DIALOG = 'reviewDialog';
const REVIEW_STEPS = 'reviewSteps';
const REVIEW_PROMPT = 'reviewPrompt';
const MORE = 'more';
const RETRY = 'retry';

export interface ReviewOptions {
  /** The screening job whose results are being reviewed; its results come from the store, never from the card. */
  jobId: string;
}

export type ReviewChoice = 'submit' | 'edit' | 'cancel';
/** Typed words that mean "carry on to the confirmations and submit". */
const CONTINUE_WORDS: ReadonlySet<string> = new Set(['submit', 'continue']);

export interface ReviewOutcome {
  choice: ReviewChoice;
  jobId: string;
}

/** What the prompt keeps between turns: where "more" goes next. */
interface ReviewPromptState {
  nextStart?: number;
}

/**
 * Waits for the screening job, then lets the requester page through its results and go on
 * to submit (the confirmations come next), edit or cancel. The results card itself is posted by the outbox when the job finishes, so
 * this dialog asks nothing up front: it answers what the requester does next.
 */
export class ReviewDialog extends ComponentDialog {
  constructor(private readonly screening: ScreeningRequests) {
    super(REVIEW_DIALOG);
    this.addDialog(new CardStepPrompt(REVIEW_PROMPT, (prompt) => this.validate(prompt)));
    this.addDialog(new WaterfallDialog(REVIEW_STEPS, [(step) => this.wait(step), (step) => this.choose(step)]));
    this.initialDialogId = REVIEW_STEPS;
  }

  private async wait(step: WaterfallStepContext): Promise<DialogTurnResult> {
    return step.prompt(REVIEW_PROMPT, { validations: { jobId: (step.options as ReviewOptions).jobId } });
  }

  private async choose(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    const choice: ReviewChoice = answer.step === 'edit' || answer.step === 'cancel' ? answer.step : 'submit';
    return step.endDialog({ choice, jobId: (step.options as ReviewOptions).jobId } satisfies ReviewOutcome);
  }

  private async validate(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
    const choice = prompt.recognized.value?.step ?? '';
    if (choice === 'edit' || choice === 'cancel') return true;
    const { jobId } = prompt.options.validations as { jobId: string };
    const job = await this.screening.get(jobId);
    if (!job) return true;
    if (job.status === 'queued' || job.status === 'running') {
      await prompt.context.sendActivity(
        `Still checking: ${job.checked} of ${plural(job.total, 'account')} done. I will post the results here when they are ready; **cancel** stops the transfer.`,
      );
      return false;
    }
    if (job.status === 'failed') return this.afterFailure(prompt, job, choice);
    const result = job.result;
    if (!result) return false;
    const state = prompt.state as ReviewPromptState;
    if (choice === MORE) {
      const page = renderScreeningResultsCard(job.organisationName, result, state.nextStart ?? firstPageEnd(job));
      state.nextStart = page.nextStart ?? 0;
      await prompt.context.sendActivity(MessageFactory.attachment(page.card));
      return false;
    }
    if (CONTINUE_WORDS.has(choice)) {
      const counts = countVerdicts(result.accounts);
      if (counts.eligible + counts.review > 0) return true;
      await prompt.context.sendActivity('No account in this list can be submitted. Type **edit** to change the list, or **cancel**.');
      return false;
    }
    await prompt.context.sendActivity('Use the buttons on the results card, or type **continue**, **edit**, **more** or **cancel**.');
    return false;
  }

  private async afterFailure(prompt: PromptValidatorContext<CardStepAnswer>, job: ScreeningJob, choice: string): Promise<boolean> {
    if (choice === RETRY) {
      await this.screening.retry(job.id);
      await prompt.context.sendActivity(`Checking the ${plural(job.total, 'account')} again… I will post the results here.`);
      return false;
    }
    await prompt.context.sendActivity('The accounts could not be checked just now. Type **retry** to try again, **edit** to change the list, or **cancel**.');
    return false;
  }
}

/** Where "more" starts after the first page, which the outbox posted. */
function firstPageEnd(job: ScreeningJob): number {
  return job.result ? (renderScreeningResultsCard(job.organisationName, job.result, 0).nextStart ?? 0) : 0;
}

import { MessageFactory } from 'botbuilder';
import { ComponentDialog, WaterfallDialog, type DialogTurnResult, type PromptValidatorContext, type WaterfallStepContext } from 'botbuilder-dialogs';
import { countVerdicts } from '../../cards/account-rows';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import type { ScreeningResult } from '../../services/eligibility/types';
import { CardStepPrompt, type CardStepAnswer } from './card-step-prompt';

export const REVIEW_DIALOG = 'reviewDialog';
const REVIEW_STEPS = 'reviewSteps';
const REVIEW_PROMPT = 'reviewPrompt';
const MORE = 'more';

export interface ReviewOptions {
  organisationName: string;
  result: ScreeningResult;
  /** First account shown, in attention order. */
  start: number;
}

export type ReviewChoice = 'submit' | 'edit' | 'cancel';

/** What the review ends with: the choice, and the results it was made on. */
export interface ReviewOutcome {
  choice: ReviewChoice;
  result: ScreeningResult;
}

/** Shows the screening results a page at a time until the requester submits, edits or cancels. */
export class ReviewDialog extends ComponentDialog {
  constructor() {
    super(REVIEW_DIALOG);
    this.addDialog(new CardStepPrompt(REVIEW_PROMPT, (prompt) => validateReview(prompt)));
    this.addDialog(new WaterfallDialog(REVIEW_STEPS, [(step) => this.showPage(step), (step) => this.choose(step)]));
    this.initialDialogId = REVIEW_STEPS;
  }

  private async showPage(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = step.options as ReviewOptions;
    const page = renderScreeningResultsCard(options.organisationName, options.result, options.start);
    // Where "more" goes next is decided now, from what this card actually showed.
    (step.values as { nextStart?: number }).nextStart = page.nextStart ?? 0;
    return step.prompt(REVIEW_PROMPT, {
      prompt: MessageFactory.attachment(page.card),
      validations: { submittable: submittableCount(options.result) },
    });
  }

  private async choose(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = step.result as CardStepAnswer;
    if (answer.step === MORE) return step.replaceDialog(REVIEW_STEPS, { ...(step.options as ReviewOptions), start: (step.values as { nextStart?: number }).nextStart ?? 0 } satisfies ReviewOptions);
    return step.endDialog({ choice: answer.step as ReviewChoice, result: (step.options as ReviewOptions).result } satisfies ReviewOutcome);
  }
}

function submittableCount(result: ScreeningResult): number {
  const counts = countVerdicts(result.accounts);
  return counts.eligible + counts.review;
}

async function validateReview(prompt: PromptValidatorContext<CardStepAnswer>): Promise<boolean> {
  const step = prompt.recognized.value?.step ?? '';
  if (step === 'edit' || step === 'cancel' || step === MORE) return true;
  if (step === 'submit') {
    if ((prompt.options.validations as { submittable: number }).submittable > 0) return true;
    await prompt.context.sendActivity('No account in this list can be submitted. Type **edit** to change the list, or **cancel**.');
    return false;
  }
  await prompt.context.sendActivity('Use the buttons on the results card, or type **submit**, **edit**, **more** or **cancel**.');
  return false;
}

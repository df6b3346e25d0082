import type { TurnContext } from 'botbuilder';
import { Prompt, type PromptOptions, type PromptRecognizerResult, type PromptValidator } from 'botbuilder-dialogs';
import { plainText } from '../message-text';

const YES = new Set(['yes', 'y', 'yeah', 'yep', 'correct', 'confirm', 'ok', 'okay', 'true']);
const NO = new Set(['no', 'n', 'nope', 'false', 'wrong']);
/** Longer than any way of saying yes or no: recognised as neither, without looking further. */
const LONGEST_ANSWER = 40;

/**
 * A yes/no question. The stock ConfirmPrompt runs the Recognizers-Text choice models over the
 * whole message, which is superlinear: a 28,000-character answer held the event loop for
 * seconds. This one looks at a short, trimmed answer only, in constant time.
 */
export class YesNoPrompt extends Prompt<boolean> {
  constructor(dialogId: string, validator?: PromptValidator<boolean>) {
    super(dialogId, validator);
  }

  protected async onPrompt(context: TurnContext, _state: object, options: PromptOptions, isRetry: boolean): Promise<void> {
    const message = isRetry && options.retryPrompt ? options.retryPrompt : options.prompt;
    if (message) await context.sendActivity(message);
  }

  protected async onRecognize(context: TurnContext): Promise<PromptRecognizerResult<boolean>> {
    const value = recogniseYesNo(plainText(context.activity));
    return value === undefined ? { succeeded: false } : { succeeded: true, value };
  }
}

export function recogniseYesNo(text: string): boolean | undefined {
  if (text.length > LONGEST_ANSWER) return undefined;
  const answer = text
    .trim()
    .toLowerCase()
    .replace(/[.!]+$/, '');
  if (YES.has(answer)) return true;
  if (NO.has(answer)) return false;
  return undefined;
}

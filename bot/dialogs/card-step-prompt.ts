import type { TurnContext } from 'botbuilder';
import { Prompt, type PromptOptions, type PromptRecognizerResult, type PromptValidator } from 'botbuilder-dialogs';
import { z } from 'zod';
import { plainText } from '../message-text';

/**
 * What the requester answered at a card step: a button's `step` with the card's inputs
 * (Action.Submit), or typed text (kept as typed in `inputs.text`). Card data is parsed here and trusted for nothing but
 * naming the step and the requester's own ticks.
 */
export interface CardStepAnswer {
  step: string;
  inputs: Record<string, string>;
}

const submittedCardSchema = z.looseObject({ step: z.string().min(1).max(40) });

export class CardStepPrompt extends Prompt<CardStepAnswer> {
  constructor(dialogId: string, validator: PromptValidator<CardStepAnswer>) {
    super(dialogId, validator);
  }

  protected async onPrompt(context: TurnContext, _state: object, options: PromptOptions, isRetry: boolean): Promise<void> {
    const message = isRetry && options.retryPrompt ? options.retryPrompt : options.prompt;
    if (message) await context.sendActivity(message);
  }

  protected async onRecognize(context: TurnContext): Promise<PromptRecognizerResult<CardStepAnswer>> {
    const submitted = submittedCardSchema.safeParse(context.activity.value);
    if (submitted.success) {
      const inputs: Record<string, string> = {};
      for (const [key, value] of Object.entries(submitted.data)) if (typeof value === 'string' && key !== 'step') inputs[key] = value;
      return { succeeded: true, value: { step: submitted.data.step, inputs } };
    }
    const text = plainText(context.activity);
    return text ? { succeeded: true, value: { step: text.toLowerCase(), inputs: { text } } } : { succeeded: false };
  }
}

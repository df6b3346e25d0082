import type { TurnContext } from 'botbuilder';
import { Prompt, type PromptOptions, type PromptRecognizerResult, type PromptValidator } from 'botbuilder-dialogs';
import { z } from 'zod';
import { attachedFile } from '../attachments/attached-file';
import { plainText } from '../message-text';

/** The step name of an answer that is an attached file. */
export const ATTACHED_FILE_STEP = 'attached-file';

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
    // A file attached in the chat: where to fetch it; the step that asked decides whether it takes files.
    const file = attachedFile(context.activity);
    if (file)
      return { succeeded: true, value: { step: ATTACHED_FILE_STEP, inputs: { name: file.name, fileType: file.fileType, downloadUrl: file.downloadUrl } } };
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

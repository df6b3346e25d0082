import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder';

/**
 * The longest message the bot reads, checked before any recogniser or parser sees it. A
 * full list (500 accounts with site and specialism, about 100 characters a line) fits.
 */
export const MAX_MESSAGE_CHARS = 60_000;
/** Control characters other than tab and line breaks; PostgreSQL refuses NUL in text and JSON. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const MAX_VALUE_DEPTH = 6;

/**
 * Bounds and cleans what people send before the bot reads it: an over-long message is
 * answered with a clear limit and goes no further; control characters are removed from the
 * text and from every string a card sent back.
 */
export class InputGuard implements Middleware {
  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const activity = context.activity;
    if (activity.type === ActivityTypes.Message) {
      const size = (activity.text?.length ?? 0) + (activity.value === undefined ? 0 : JSON.stringify(activity.value).length);
      if (size > MAX_MESSAGE_CHARS) {
        await context.sendActivity(
          `That message is too long for me to read (${size.toLocaleString('en-GB')} characters; at most ${MAX_MESSAGE_CHARS.toLocaleString('en-GB')}). ` +
            'Nothing was changed. For a long list of accounts, split it into several requests.',
        );
        return;
      }
    }
    if (typeof activity.text === 'string') activity.text = activity.text.replace(CONTROL_CHARACTERS, '');
    if (activity.value !== undefined) activity.value = withoutControlCharacters(activity.value, 0);
    await next();
  }
}

function withoutControlCharacters(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(CONTROL_CHARACTERS, '');
  if (depth >= MAX_VALUE_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutControlCharacters(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutControlCharacters(item, depth + 1)]));
}

import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder';
import { withoutInvisibleCharacters } from '../../core/text';

/**
 * The longest message the bot reads, checked before any recogniser or parser sees it. A
 * full list (500 accounts with site and specialism, about 100 characters a line) fits.
 */
export const MAX_MESSAGE_CHARS = 60_000;
/** Deeper than any card or invoke the bot handles sends; anything below it is dropped, not kept uncleaned. */
const MAX_VALUE_DEPTH = 6;

/**
 * Bounds and cleans what people send before the bot reads it: an over-long message is
 * answered with a clear limit and goes no further; the text and every string a card sent back
 * (its keys too) are made well formed and lose invisible characters. A lone UTF-16 surrogate
 * becomes U+FFFD: JSON.stringify writes it as "\ud800", which PostgreSQL's jsonb refuses
 * (22P02), and the refused state save would break every later turn of the conversation.
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
    if (typeof activity.text === 'string') activity.text = cleanText(activity.text);
    if (activity.value !== undefined) activity.value = cleanValue(activity.value, 0);
    await next();
  }
}

declare global {
  interface String {
    /** ES2024, in Node since 20; the compiler's ES2022 library does not declare it yet. */
    toWellFormed(): string;
  }
}

/** Well formed (lone surrogates become U+FFFD) and without invisible characters. */
export function cleanText(text: string): string {
  return withoutInvisibleCharacters(text.toWellFormed());
}

function cleanValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_VALUE_DEPTH) return null;
  if (Array.isArray(value)) return value.map((item) => cleanValue(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [cleanText(key), cleanValue(item, depth + 1)]));
}

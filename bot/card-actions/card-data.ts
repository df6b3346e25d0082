import { z } from 'zod';
import { AppError } from '../../core/errors';
import { characterCount, hasReadableText, withoutInvisibleCharacters } from '../../core/text';

/** Card data arrives as strings from templates; every id is re-checked as a positive integer. */
export const requestIdField = z.coerce.number().int().positive().max(2_147_483_647);
/** First account the ops card shows (0-based). */
export const startField = z.coerce.number().int().min(0).max(100_000).default(0);

/** The card's text boxes hold at most this many characters (maxLength in cards/ops-request.json); the server holds the same line. */
export const TYPED_TEXT_MAX_CHARACTERS = 500;

/**
 * Why a reason, note or question typed on the card cannot be kept, as the refusal to show by
 * the button pressed; undefined when it can. Text a person cannot read (zero-width spaces,
 * Hangul fillers, braille blanks) would stand in the audit as a reason nobody gave.
 */
export function typedTextRefusal(text: string, noun: string): AppError | undefined {
  if (!hasReadableText(text)) return new AppError('TEXT_UNREADABLE', `Type the ${noun} in words.`);
  const length = characterCount(text);
  if (length > TYPED_TEXT_MAX_CHARACTERS) {
    return new AppError('TEXT_TOO_LONG', `The ${noun} has ${length} characters; keep it to ${TYPED_TEXT_MAX_CHARACTERS} or fewer. Nothing was changed.`);
  }
  return undefined;
}

/** The refusal typedTextField put on a parse failure, when every problem with the card data is one (the ids themselves were good). */
export function typedTextRefusalOf(error: z.ZodError): AppError | undefined {
  const refusals = error.issues.map((issue) => (issue.code === 'custom' ? (issue.params as { refusal?: unknown } | undefined)?.refusal : undefined));
  return refusals.every((refusal) => refusal instanceof AppError) ? refusals[0] : undefined;
}

/**
 * A reason, note or question typed on the card: trimmed, without controls and bidirectional
 * controls, undefined when empty (the use case says when one is needed). Unreadable or overlong
 * text fails the parse with a refusal typedTextRefusalOf finds, so the card says what is wrong
 * rather than "not recognised".
 */
export function typedTextField(noun: string) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      const text = withoutInvisibleCharacters(value ?? '').trim();
      if (!text) return undefined;
      const refusal = typedTextRefusal(text, noun);
      if (!refusal) return text;
      context.addIssue({ code: 'custom', message: refusal.userMessage, params: { refusal } });
      return z.NEVER;
    });
}

export const decisionReasonField = typedTextField('reason');

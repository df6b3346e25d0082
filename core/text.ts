/*
 * The characters that must never reach a person as themselves, defined once. Text from the
 * directory, ODS, a file or a requester can carry any of them.
 */

/** C0 controls, DEL and the C1 controls (terminal escapes among them; PostgreSQL refuses NUL in text and JSON). */
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f';
/** The same, less tab, line feed and carriage return: the ones a pasted list legitimately carries. */
const CONTROLS_EXCEPT_LAYOUT = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f';
/** Line and paragraph separators: a line break a one-line rendering would not show as one. */
const SEPARATORS = '\\u2028\\u2029';
/**
 * Bidirectional embeddings, overrides and isolates: they make text display in an order other
 * than the one it is stored in (an address or a reason that reads one way and means another).
 */
const BIDI_CONTROLS = '\\u202a-\\u202e\\u2066-\\u2069';

/** Controls only (C0, DEL, C1). */
export const CONTROL_CHARACTERS = new RegExp(`[${CONTROLS}]`, 'g');
/** Everything that would not show as itself on one line: controls, line separators and bidirectional controls. */
export const UNPRINTABLE_CHARACTERS = new RegExp(`[${CONTROLS}${SEPARATORS}${BIDI_CONTROLS}]`, 'g');
/** What a person never means to send: controls other than tab and line breaks, and bidirectional controls. */
export const INVISIBLE_CHARACTERS = new RegExp(`[${CONTROLS_EXCEPT_LAYOUT}${BIDI_CONTROLS}]`, 'g');

/** Text on one line: each unprintable character (controls, line separators, bidirectional controls) becomes `replacement`. */
export function printableOnOneLine(text: string, replacement = ' '): string {
  return text.replace(UNPRINTABLE_CHARACTERS, replacement);
}

/** Whether the text holds any character printableOnOneLine would replace. */
export function hasUnprintableCharacters(text: string): boolean {
  // A fresh, non-global pattern: test() on a global one would carry lastIndex between calls.
  return new RegExp(UNPRINTABLE_CHARACTERS.source).test(text);
}

/** The text without the characters a person never means to send; tab and line breaks stay. */
export function withoutInvisibleCharacters(text: string): string {
  return text.replace(INVISIBLE_CHARACTERS, '');
}

/**
 * Text from the directory, ODS or the requester, made inert for an Adaptive Card TextBlock:
 * unprintable characters become spaces, and the characters Teams' markdown acts on are
 * backslash-escaped (a leading list marker too).
 */
export function escapeMarkdown(text: string): string {
  return printableOnOneLine(text)
    .replace(/([\\`*_~[\]<>#|])/g, '\\$1')
    .replace(/^(\s*)([-+]|\d+\.)(\s)/, '$1\\$2$3');
}

/**
 * Characters that show nothing: white space and separators, format characters (zero-width
 * space U+200B, word joiner U+2060, …), the Default_Ignorable_Code_Point set (which holds the
 * Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, though they are letters by category),
 * combining marks with nothing to combine with, controls, and the braille pattern blank U+2800
 * (a symbol that prints as a space). Unicode property escapes: ECMA-262 §22.2.2.9, UAX #44.
 */
const BLANK_CHARACTER = /[\p{White_Space}\p{Z}\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\p{M}\u2800\u115F\u1160\u3164\uFFA0]/gu;

/** Whether a person could read anything in `text`: at least one character that shows. */
export function hasReadableText(text: string): boolean {
  return text.replace(BLANK_CHARACTER, '').length > 0;
}

/** Length as a person counts it: characters (code points), not UTF-16 units. */
export function characterCount(text: string): number {
  return [...text].length;
}

/**
 * Clauses joined into one sentence: a clause's own full stop is dropped before the separator,
 * so a message that ends a sentence never reads "flags.; no errors". Empty clauses are skipped.
 */
export function joinClauses(clauses: readonly string[], separator = '; '): string {
  const kept = clauses.map((clause) => clause.trim()).filter((clause) => clause.length > 0);
  return kept.map((clause, index) => (index < kept.length - 1 ? clause.replace(/(?<!\.)\.$/, '') : clause)).join(separator);
}

/**
 * Counted words for everything the bot says: "1 account", "2 accounts", "1 of the lines
 * needs", "2 of the lines need". One helper, so no message says "1 accounts".
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-GB')} ${pluralWord(count, singular, pluralForm)}`;
}

/** The word alone, for sentences that put the count elsewhere ("1 of the lines needs correcting"). */
export function pluralWord(count: number, singular: string, pluralForm = `${singular}s`): string {
  return count === 1 ? singular : pluralForm;
}

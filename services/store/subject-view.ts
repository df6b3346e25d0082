/**
 * What a subject access file may show of a row found for one person: their own data, and
 * other people only as counts or redacted (UK GDPR Article 15(4): the right of access must not
 * adversely affect the rights of others; DPA 2018 Schedule 2 Part 3 paragraph 16).
 *
 * A screening job's list, a half-filled conversation or another account's row holds the
 * addresses, names, job titles and departments of everyone screened beside the subject. Those
 * are withheld here, before the file is written, so releasing it is never the step that leaks
 * them. The rules are structural, not a list of field names, so a field added later is
 * withheld too:
 * - an object that names someone else's address (as a whole value) and not the subject's is
 *   that other person's record: it is replaced whole by WITHHELD_RECORD, so the array it sits
 *   in keeps its length (the count) and nothing else;
 * - an address other than the subject's inside any text is replaced by ANOTHER_PERSON;
 * - another account holder's row of request_accounts keeps only what is not about them
 *   (ids, decision, dates, who decided and why), with their columns withheld.
 */

export const ANOTHER_PERSON = '[another person]';
export const WITHHELD = '[withheld: another account holder]';
export const WITHHELD_RECORD = Object.freeze({ withheld: 'another account holder' });

/** An address anywhere in text; deliberately broad, so that anything address-like that is not the subject's is hidden. */
const ADDRESS_IN_TEXT = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const WHOLE_ADDRESS = /^\s*[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\s*$/;

/**
 * The columns of a row that describe the account holder the row belongs to, by table, with the
 * column naming that holder. When the holder is not the subject, these are withheld.
 */
export const HOLDER_COLUMNS: Readonly<Record<string, { holder: string; columns: readonly string[] }>> = {
  request_accounts: {
    holder: 'email',
    columns: ['email', 'specialism', 'reasons', 'evidence', 'rechecked_reasons', 'rechecked_evidence', 'change_summary'],
  },
};

function isSubject(text: string, subjectAddress: string): boolean {
  return text.trim().toLowerCase() === subjectAddress;
}

/** Names someone else's address as one of its own values, and never the subject's. */
function isSomeoneElsesRecord(value: Record<string, unknown>, subjectAddress: string): boolean {
  const addresses = Object.values(value).filter((field): field is string => typeof field === 'string' && WHOLE_ADDRESS.test(field));
  return addresses.length > 0 && !addresses.some((address) => isSubject(address, subjectAddress));
}

/** `value` with everything about people other than the subject withheld; the input is not changed. */
export function withoutOtherPeople(value: unknown, subjectAddress: string): unknown {
  const subject = subjectAddress.toLowerCase();
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return item.replace(ADDRESS_IN_TEXT, (address) => (isSubject(address, subject) ? address : ANOTHER_PERSON));
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object' && !(item instanceof Date)) {
      const record = item as Record<string, unknown>;
      if (isSomeoneElsesRecord(record, subject)) return { ...WITHHELD_RECORD };
      return Object.fromEntries(Object.entries(record).map(([key, field]) => [key, walk(field)]));
    }
    return item;
  };
  return walk(value);
}

/**
 * One stored row as the subject may see it. Columns are kept by name (ids, dates, states), and
 * every text or JSON value is walked by withoutOtherPeople; another holder's own columns go.
 */
export function subjectRow(table: string, row: Record<string, unknown>, subjectAddress: string): Record<string, unknown> {
  const holderColumns = HOLDER_COLUMNS[table];
  const holder = holderColumns ? row[holderColumns.holder] : undefined;
  const someoneElses = typeof holder === 'string' && !isSubject(holder, subjectAddress.toLowerCase());
  return Object.fromEntries(
    Object.entries(row).map(([column, value]) => {
      if (someoneElses && holderColumns!.columns.includes(column)) return [column, value === null ? null : WITHHELD];
      return [column, withoutOtherPeople(value, subjectAddress)];
    }),
  );
}

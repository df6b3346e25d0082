import { parse } from 'csv-parse/sync';

/**
 * Parses the list of accounts a requester gives: one per line `email[, site ODS code][, specialism]`,
 * or a CSV with the header `email,site_ods_code,specialism`. Every bad line is reported with
 * its line number; good lines are kept, so the requester only has to fix what is wrong.
 */
export interface AccountEntry {
  position: number;
  email: string;
  siteOds?: string;
  specialism?: string;
}

export interface LineProblem {
  /** The line (pasted text) or row (file) the problem is on, counting from 1. */
  line: number;
  message: string;
}

export interface ParsedAccountList {
  entries: AccountEntry[];
  problems: LineProblem[];
}

const EMAIL_PATTERN = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const ODS_CODE_PATTERN = /^[A-Z0-9]{3,10}$/;
const MAX_SPECIALISM_LENGTH = 60;

/** One row's three values, before validation. */
export interface RawAccountRow {
  email: string;
  site: string;
  specialism: string;
}

/**
 * Checks one row and either returns its entry (position still to be given) or the problem.
 * Shared by pasted text and attached files, so both say the same thing about the same value.
 */
export function validateAccountRow(row: RawAccountRow): Omit<AccountEntry, 'position'> | { problem: string } {
  const rawEmail = row.email.trim();
  const rawSite = row.site.trim();
  const rawSpecialism = row.specialism.trim();
  const email = rawEmail.replace(/^mailto:/i, '').toLowerCase();
  if (email === '') return { problem: 'has no email address.' };
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) return { problem: `${shown(rawEmail)} is not an email address.` };
  const siteOds = rawSite.toUpperCase();
  if (siteOds && !ODS_CODE_PATTERN.test(siteOds)) return { problem: `${shown(rawSite)} is not an ODS code (3 to 10 letters and digits).` };
  if (rawSpecialism.length > MAX_SPECIALISM_LENGTH) return { problem: `the specialism is longer than ${MAX_SPECIALISM_LENGTH} characters.` };
  if (hasControlCharacters(rawSpecialism)) return { problem: 'the specialism contains control characters.' };
  return { email, ...(siteOds ? { siteOds } : {}), ...(rawSpecialism ? { specialism: rawSpecialism } : {}) };
}

export function parseAccountList(text: string): ParsedAccountList {
  const entries: AccountEntry[] = [];
  const problems: LineProblem[] = [];
  let rows: string[][];
  try {
    rows = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, relax_quotes: true, skip_empty_lines: false, trim: true }) as string[][];
  } catch {
    return { entries, problems: [{ line: 1, message: 'The list could not be read as lines of comma-separated values.' }] };
  }
  rows.forEach((cells, index) => {
    const line = index + 1;
    const [rawEmail = '', rawSite = '', rawSpecialism = '', ...extra] = cells;
    if (cells.every((cell) => cell === '') || rawEmail.startsWith('#')) return;
    if (entries.length === 0 && problems.length === 0 && rawEmail.toLowerCase() === 'email') return;
    if (extra.some((cell) => cell !== '')) {
      problems.push({ line, message: 'has more than three values (expected email, site ODS code, specialism).' });
      return;
    }
    const checked = validateAccountRow({ email: rawEmail, site: rawSite, specialism: rawSpecialism });
    if ('problem' in checked) problems.push({ line, message: checked.problem });
    else entries.push({ position: entries.length + 1, ...checked });
  });
  return { entries, problems };
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function hasControlCharacters(value: string): boolean {
  return new RegExp(CONTROL_CHARACTERS.source).test(value);
}

/**
 * A value from the input, safe to quote back in a message: control characters (including
 * terminal escapes and bidirectional overrides) shown as U+FFFD, and at most 40 characters.
 */
export function shown(value: string): string {
  const printable = value.replace(CONTROL_CHARACTERS, '\uFFFD');
  return `"${printable.length > 40 ? `${printable.slice(0, 37)}...` : printable}"`;
}

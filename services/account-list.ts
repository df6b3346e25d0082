import { parse } from 'csv-parse/sync';
import { hasUnprintableCharacters, printableOnOneLine } from '../core/text';

/**
 * Parses the list of accounts a requester gives: one per line `email[, site ODS code][, specialism]`,
 * or CSV with a header row naming the columns in any order. Pasted text and attached files
 * (services/account-file.ts) go through the same rows-to-entries code, so both accept the
 * same headers and say the same thing about the same value. Every bad line is reported with
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

/** A line that lists exactly the same account as an earlier one: kept once, and the requester is told. */
export interface RepeatedLine {
  line: number;
  repeats: number;
}

export interface ParsedAccountList {
  entries: AccountEntry[];
  problems: LineProblem[];
  repeats: RepeatedLine[];
}

/**
 * The specialisms the policy understands (its declaredSpecialismAliases, lower case) and
 * the sector names they stand for. Without one, any specialism is accepted (and screening judges it).
 */
export interface SpecialismVocabulary {
  aliases: Readonly<Record<string, string>>;
  sectorNames: Readonly<Record<string, string>>;
}

export interface AccountListOptions {
  specialisms?: SpecialismVocabulary;
  /** What the requester calls a row where a message names another: "line" in pasted text, "row" in a spreadsheet. */
  rowWord?: 'line' | 'row';
  /**
   * The same address again with a different site or specialism: refused at the list step
   * (the bot, where the requester can correct it), or kept for screening to mark as
   * DUPLICATE_IN_REQUEST (the default: the command line's output lists every input row).
   */
  conflictingRepeats?: 'refuse' | 'keep';
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

/** A row as read from the text or the sheet, with the number the requester sees. */
export interface SheetRow {
  number: number;
  cells: string[];
}

/*
 * "Amelia Hart" <amelia.hart@…> and Amelia Hart <amelia.hart@…>, as mail clients copy
 * addresses: the address is what counts, in whichever column it is. Each attempt of the
 * first pattern scans only to the next quotation mark, and the second is anchored, so both
 * cost linear time on any input.
 */
const QUOTED_NAME_AND_ADDRESS = /"[^"\n]*"[ \t]*<([^<>\s,"]*)>/g;
const NAME_AND_ADDRESS = /^[^<>,"]*<([^<>\s,]*)>[ \t]*$/;

/**
 * Checks one row and either returns its entry (position still to be given) or the problem.
 * Shared by pasted text and attached files, so both say the same thing about the same value.
 */
export function validateAccountRow(row: RawAccountRow, options: AccountListOptions = {}): Omit<AccountEntry, 'position'> | { problem: string } {
  const rawEmail = row.email.trim();
  const rawSite = row.site.trim();
  const rawSpecialism = row.specialism.trim();
  const address = NAME_AND_ADDRESS.exec(rawEmail)?.[1] ?? rawEmail;
  const email = address.replace(/^mailto:/i, '').toLowerCase();
  if (email === '') return { problem: 'has no email address.' };
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
    // "a@x.example; ZZ9101; pharmacy": values separated as some spreadsheets export them.
    const semicolonSeparated = email.includes(';') && email.split(';').some((value) => EMAIL_PATTERN.test(value.trim()));
    if (semicolonSeparated)
      return {
        problem: `${shown(rawEmail)} is separated with semicolons: separate the values with commas (email, site ODS code, specialism), one account per line.`,
      };
    return { problem: `${shown(rawEmail)} is not an email address.` };
  }
  const siteOds = rawSite.toUpperCase();
  if (siteOds && !ODS_CODE_PATTERN.test(siteOds)) return { problem: `${shown(rawSite)} is not an ODS code (3 to 10 letters and digits).` };
  if (rawSpecialism.length > MAX_SPECIALISM_LENGTH) return { problem: `the specialism is longer than ${MAX_SPECIALISM_LENGTH} characters.` };
  if (hasUnprintableCharacters(rawSpecialism)) return { problem: 'the specialism contains control characters.' };
  const vocabulary = options.specialisms;
  if (rawSpecialism && vocabulary && !(rawSpecialism.toLowerCase() in vocabulary.aliases)) {
    return {
      problem: `${shown(rawSpecialism)} is not a specialism I understand. Use one of: ${specialismNames(vocabulary).join(', ')} (or a word listed on the card), or leave it out.`,
    };
  }
  return { email, ...(siteOds ? { siteOds } : {}), ...(rawSpecialism ? { specialism: rawSpecialism } : {}) };
}

/** Each sector the vocabulary knows, by name, with the other words that mean it (for the accounts card). */
export function understoodSpecialisms(vocabulary: SpecialismVocabulary): Array<{ name: string; alsoAccepted: string[] }> {
  const bySector = new Map<string, string[]>();
  for (const [alias, sector] of Object.entries(vocabulary.aliases)) bySector.set(sector, [...(bySector.get(sector) ?? []), alias]);
  return [...bySector].map(([sector, aliases]) => {
    const name = vocabulary.sectorNames[sector] ?? aliases[0] ?? sector;
    // The sector's id (social-care) is accepted but not worth showing beside its name.
    return { name, alsoAccepted: aliases.filter((alias) => alias !== name.toLowerCase() && alias !== sector) };
  });
}

/** The sector names a requester can type as they are (each is itself an accepted word). */
function specialismNames(vocabulary: SpecialismVocabulary): string[] {
  return understoodSpecialisms(vocabulary)
    .filter(({ name }) => name.toLowerCase() in vocabulary.aliases)
    .map(({ name }) => name);
}

/** Reads pasted text line by line, so a line that cannot be read is named and the others are kept. */
export function parseAccountList(text: string, options: AccountListOptions = {}): ParsedAccountList {
  const rows: SheetRow[] = [];
  const unreadable: LineProblem[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .forEach((line, index) => {
      const number = index + 1;
      const withoutName = line.replace(QUOTED_NAME_AND_ADDRESS, (_match, address: string) => address);
      try {
        // csv-parse types its result by its options: without `columns`, each record is an array of strings.
        const [cells = []]: string[][] = parse(withoutName, { relax_column_count: true, relax_quotes: true, trim: true });
        rows.push({ number, cells });
      } catch {
        unreadable.push({ line: number, message: 'could not be read: check its quotation marks (a value with a comma goes in "double quotes").' });
      }
    });
  const parsed = rowsToEntries(rows, options);
  return { ...parsed, problems: [...unreadable, ...parsed.problems].sort((a, b) => a.line - b.line) };
}

type Column = 'email' | 'site' | 'specialism';

/** Header spellings, compared with case, spaces and punctuation removed. */
const HEADER_ALIASES: Record<Column, readonly string[]> = {
  email: [
    'email',
    'emailaddress',
    'mail',
    'nhsmail',
    'nhsmailaddress',
    'nhsmailemail',
    'nhsmailaccount',
    'account',
    'accountemail',
    'useremail',
    'userprincipalname',
    'upn',
    'workemail',
  ],
  site: ['siteodscode', 'siteods', 'sitecode', 'site', 'odscode', 'ods', 'odssitecode', 'siteodscodeoptional'],
  specialism: ['specialism', 'specialty', 'speciality', 'sector', 'specialismoptional'],
};
/** A header may sit below a title row or two, as spreadsheets often have. */
const HEADER_SEARCH_ROWS = 10;

const normalise = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

function headerColumns(cells: readonly string[]): Partial<Record<Column, number>> | undefined {
  const columns: Partial<Record<Column, number>> = {};
  cells.forEach((cell, index) => {
    const key = normalise(cell);
    for (const column of Object.keys(HEADER_ALIASES) as Column[]) {
      if (columns[column] === undefined && HEADER_ALIASES[column].includes(key)) columns[column] = index;
    }
  });
  return columns.email === undefined ? undefined : columns;
}

/**
 * Rows (of pasted text or of a file) to entries. A header row (in the first rows, columns in
 * any order, common spellings) says which column is which; without one the columns are email,
 * site ODS code, specialism. A line that repeats an earlier one exactly is counted once. Each
 * entry's position is the requester's own line (or row) number, so "account 5" is the line they
 * pasted as line 5 even when a repeat, a blank line or a header came before it.
 */
export function rowsToEntries(rows: readonly SheetRow[], options: AccountListOptions = {}): ParsedAccountList {
  const entries: AccountEntry[] = [];
  const problems: LineProblem[] = [];
  const repeats: RepeatedLine[] = [];
  const firstLine = new Map<string, { line: number; entry: Omit<AccountEntry, 'position'> }>();
  const nonEmpty = rows.filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  const headerIndex = nonEmpty.slice(0, HEADER_SEARCH_ROWS).findIndex((row) => headerColumns(row.cells) !== undefined);
  const columns = headerIndex >= 0 ? (headerColumns(nonEmpty[headerIndex]!.cells) as Partial<Record<Column, number>>) : { email: 0, site: 1, specialism: 2 };
  const known = new Set(Object.values(columns));
  for (const row of nonEmpty.slice(headerIndex + 1)) {
    const cell = (column: Column) => (columns[column] === undefined ? '' : (row.cells[columns[column]] ?? ''));
    if (cell('email').trim().startsWith('#')) continue;
    if (headerIndex < 0 && row.cells.some((value, index) => !known.has(index) && value.trim() !== '')) {
      problems.push({
        line: row.number,
        message: 'has more than three values (expected email, site ODS code, specialism, or a header row naming the columns).',
      });
      continue;
    }
    const checked = validateAccountRow({ email: cell('email'), site: cell('site'), specialism: cell('specialism') }, options);
    if ('problem' in checked) {
      problems.push({ line: row.number, message: checked.problem });
      continue;
    }
    const earlier = firstLine.get(checked.email);
    // An exact repeat is the same request twice over: counted once, and the requester told.
    if (!earlier) {
      firstLine.set(checked.email, { line: row.number, entry: checked });
      entries.push({ position: row.number, ...checked });
    } else if (earlier.entry.siteOds === checked.siteOds && (earlier.entry.specialism ?? '').toLowerCase() === (checked.specialism ?? '').toLowerCase()) {
      repeats.push({ line: row.number, repeats: earlier.line });
    } else if (options.conflictingRepeats === 'refuse') {
      problems.push({
        line: row.number,
        message: `lists the same account as ${options.rowWord ?? 'line'} ${earlier.line} with a different site or specialism: keep one line for each account.`,
      });
    } else {
      entries.push({ position: row.number, ...checked });
    }
  }
  return { entries, problems, repeats };
}

/** One account as a line of the list, quoting a value only where CSV needs it: parseAccountList reads it back as it was. */
export function entryAsLine(entry: Pick<AccountEntry, 'email'> & { siteOds?: string | null; specialism?: string | null }): string {
  const quoted = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return [entry.email, entry.siteOds ?? '', entry.specialism ? quoted(entry.specialism) : ''].join(', ').replace(/(, )+$/, '');
}

/**
 * A value from the input, safe to quote back in a message: control characters (including
 * terminal escapes and bidirectional overrides) shown as U+FFFD, and at most 40 characters.
 */
export function shown(value: string): string {
  const printable = printableOnOneLine(value, '\uFFFD');
  return `"${printable.length > 40 ? `${printable.slice(0, 37)}...` : printable}"`;
}

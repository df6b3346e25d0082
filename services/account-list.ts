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
    const email = rawEmail.toLowerCase();
    if (extra.some((cell) => cell !== '')) {
      problems.push({ line, message: 'has more than three values (expected email, site ODS code, specialism).' });
      return;
    }
    if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
      problems.push({ line, message: `"${truncate(rawEmail)}" is not an email address.` });
      return;
    }
    const siteOds = rawSite.toUpperCase();
    if (siteOds && !ODS_CODE_PATTERN.test(siteOds)) {
      problems.push({ line, message: `"${truncate(rawSite)}" is not an ODS code (3 to 10 letters and digits).` });
      return;
    }
    if (rawSpecialism.length > MAX_SPECIALISM_LENGTH) {
      problems.push({ line, message: `the specialism is longer than ${MAX_SPECIALISM_LENGTH} characters.` });
      return;
    }
    entries.push({
      position: entries.length + 1,
      email,
      ...(siteOds ? { siteOds } : {}),
      ...(rawSpecialism ? { specialism: rawSpecialism } : {}),
    });
  });
  return { entries, problems };
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 37)}...` : value;
}

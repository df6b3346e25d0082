import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { AppError } from '../core/errors';
import { validateAccountRow, type AccountEntry, type LineProblem, type ParsedAccountList } from './account-list';

/**
 * Reads an attached CSV or XLSX file into the same entries as a pasted list. A header row
 * (anywhere in the first rows, columns in any order, common spellings) says which column is
 * which; without one the columns are email, site ODS code, specialism. Problems carry the row
 * number the requester sees in their spreadsheet, and never echo control characters.
 */
export interface AccountFile {
  content: Buffer;
  name?: string;
  contentType?: string;
}

export interface AccountFileLimits {
  maxBytes: number;
  maxRows: number;
}

export const DEFAULT_ACCOUNT_FILE_LIMITS: AccountFileLimits = { maxBytes: 2 * 1024 * 1024, maxRows: 10_000 };

type Column = 'email' | 'site' | 'specialism';

/** Header spellings, compared with case, spaces and punctuation removed. */
const HEADER_ALIASES: Record<Column, readonly string[]> = {
  email: ['email', 'emailaddress', 'mail', 'nhsmail', 'nhsmailaddress', 'nhsmailemail', 'nhsmailaccount', 'account', 'accountemail', 'useremail', 'userprincipalname', 'upn', 'workemail'],
  site: ['siteodscode', 'siteods', 'sitecode', 'site', 'odscode', 'ods', 'odssitecode', 'siteodscodeoptional'],
  specialism: ['specialism', 'specialty', 'speciality', 'sector', 'specialismoptional'],
};
const HEADER_SEARCH_ROWS = 10;
const XLSX_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

interface SheetRow {
  number: number;
  cells: string[];
}

export async function parseAccountFile(file: AccountFile, limits: AccountFileLimits = DEFAULT_ACCOUNT_FILE_LIMITS): Promise<ParsedAccountList> {
  if (file.content.length === 0) throw new AppError('INVALID_INPUT', 'The attached file is empty.');
  if (file.content.length > limits.maxBytes) {
    throw new AppError('INVALID_INPUT', `The attached file is larger than ${Math.round(limits.maxBytes / 1024)} KB. Split the list, or remove other sheets and columns.`);
  }
  const kind = fileKind(file);
  const rows = kind === 'xlsx' ? await readWorkbook(file.content, limits) : readCsv(file.content, limits);
  return rowsToEntries(rows);
}

function fileKind(file: AccountFile): 'xlsx' | 'csv' {
  const name = (file.name ?? '').toLowerCase();
  const type = (file.contentType ?? '').toLowerCase();
  if (name.endsWith('.xls') || type === 'application/vnd.ms-excel') {
    if (!file.content.subarray(0, 4).equals(XLSX_SIGNATURE)) throw new AppError('INVALID_INPUT', 'Old Excel .xls files cannot be read: save the sheet as .xlsx or CSV and attach it again.');
  }
  if (file.content.subarray(0, 4).equals(XLSX_SIGNATURE)) return 'xlsx';
  if (name.endsWith('.xlsx') || type === XLSX_TYPE) throw new AppError('INVALID_INPUT', 'The attached file is not a readable Excel workbook.');
  if (name && !/\.(csv|txt)$/.test(name) && type && !/^text\//.test(type)) {
    throw new AppError('INVALID_INPUT', 'Attach the list as a CSV or an Excel (.xlsx) file.');
  }
  return 'csv';
}

function decodeText(content: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content).replace(/^\uFEFF/, '');
  } catch {
    // Excel's "CSV" on Windows saves in the ANSI code page.
    return new TextDecoder('windows-1252').decode(content);
  }
}

function readCsv(content: Buffer, limits: AccountFileLimits): SheetRow[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(decodeText(content), { relax_column_count: true, relax_quotes: true, skip_empty_lines: false, trim: true, info: true, to_line: limits.maxRows + 1 }) as unknown as typeof records;
  } catch {
    throw new AppError('INVALID_INPUT', 'The attached file could not be read as comma-separated values.');
  }
  if (records.length > limits.maxRows) throw new AppError('INVALID_INPUT', `The attached file has more than ${limits.maxRows} rows.`);
  return records.map(({ record, info }) => ({ number: info.lines, cells: record }));
}

async function readWorkbook(content: Buffer, limits: AccountFileLimits): Promise<SheetRow[]> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(content as unknown as ArrayBuffer);
  } catch {
    throw new AppError('INVALID_INPUT', 'The attached file is not a readable Excel workbook.');
  }
  const sheet = workbook.worksheets.find((candidate) => candidate.actualRowCount > 0);
  if (!sheet) throw new AppError('INVALID_INPUT', 'The attached workbook has no rows.');
  if (sheet.rowCount > limits.maxRows) throw new AppError('INVALID_INPUT', `The attached sheet has more than ${limits.maxRows} rows.`);
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, column) => {
      cells[column - 1] = cellText(cell).trim();
    });
    rows.push({ number, cells: Array.from(cells, (cell) => cell ?? '') });
  });
  return rows;
}

/** The text a person sees in the cell: hyperlinks by their text, formulas by their result. */
function cellText(cell: ExcelJS.Cell): string {
  const value = cell.value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && 'hyperlink' in value && typeof value.text === 'string') return value.text;
  try {
    return cell.text ?? '';
  } catch {
    return '';
  }
}

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

function rowsToEntries(rows: readonly SheetRow[]): ParsedAccountList {
  const entries: AccountEntry[] = [];
  const problems: LineProblem[] = [];
  const nonEmpty = rows.filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  const headerIndex = nonEmpty.slice(0, HEADER_SEARCH_ROWS).findIndex((row) => headerColumns(row.cells) !== undefined);
  const columns = headerIndex >= 0 ? (headerColumns(nonEmpty[headerIndex]!.cells) as Partial<Record<Column, number>>) : { email: 0, site: 1, specialism: 2 };
  const known = new Set(Object.values(columns));
  for (const row of nonEmpty.slice(headerIndex + 1)) {
    const cell = (column: Column) => (columns[column] === undefined ? '' : (row.cells[columns[column]!] ?? ''));
    if (cell('email').startsWith('#')) continue;
    if (headerIndex < 0 && row.cells.some((value, index) => !known.has(index) && value.trim() !== '')) {
      problems.push({ line: row.number, message: 'has more than three values (expected email, site ODS code, specialism, or a header row naming the columns).' });
      continue;
    }
    const checked = validateAccountRow({ email: cell('email'), site: cell('site'), specialism: cell('specialism') });
    if ('problem' in checked) problems.push({ line: row.number, message: checked.problem });
    else entries.push({ position: entries.length + 1, ...checked });
  }
  return { entries, problems };
}

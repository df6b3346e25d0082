import { parse } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { AppError } from '../core/errors';
import { rowsToEntries, type AccountListOptions, type ParsedAccountList, type SheetRow } from './account-list';

/**
 * Reads an attached CSV or XLSX file into the same entries as a pasted list, through the same
 * rows-to-entries code (header row in any column order, services/account-list.ts). Problems
 * carry the row number the requester sees in their spreadsheet, and never echo control characters.
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

const XLSX_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export async function parseAccountFile(
  file: AccountFile,
  limits: AccountFileLimits = DEFAULT_ACCOUNT_FILE_LIMITS,
  options: Omit<AccountListOptions, 'rowWord'> = {},
): Promise<ParsedAccountList> {
  if (file.content.length === 0) throw new AppError('INVALID_INPUT', 'The attached file is empty.');
  if (file.content.length > limits.maxBytes) {
    throw new AppError(
      'INVALID_INPUT',
      `The attached file is larger than ${Math.round(limits.maxBytes / 1024)} KB. Split the list, or remove other sheets and columns.`,
    );
  }
  const kind = fileKind(file);
  const rows = kind === 'xlsx' ? await readWorkbook(file.content, limits) : readCsv(file.content, limits);
  return rowsToEntries(rows, { ...options, rowWord: 'row' });
}

function fileKind(file: AccountFile): 'xlsx' | 'csv' {
  const name = (file.name ?? '').toLowerCase();
  const type = (file.contentType ?? '').toLowerCase();
  if (name.endsWith('.xls') || type === 'application/vnd.ms-excel') {
    if (!file.content.subarray(0, 4).equals(XLSX_SIGNATURE))
      throw new AppError('INVALID_INPUT', 'Old Excel .xls files cannot be read: save the sheet as .xlsx or CSV and attach it again.');
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
    records = parse(decodeText(content), {
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      trim: true,
      info: true,
      to_line: limits.maxRows + 1,
    }) as unknown as typeof records;
  } catch {
    throw new AppError('INVALID_INPUT', 'The attached file could not be read as comma-separated values.');
  }
  if (records.length > limits.maxRows) throw new AppError('INVALID_INPUT', `The attached file has more than ${limits.maxRows} rows.`);
  return records.map(({ record, info }) => ({ number: info.lines, cells: record }));
}

async function readWorkbook(content: Buffer, limits: AccountFileLimits): Promise<SheetRow[]> {
  // Loaded on the first workbook, not at start: exceljs and what it pulls in (about 300 modules) is memory every instance
  // would hold for a feature most turns never use.
  const { default: excel } = await import('exceljs');
  const workbook = new excel.Workbook();
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

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { londonTimeToInstant } from '../../core/london-time';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { parse as parseStream, type Options as CsvOptions } from 'csv-parse';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { CONTROL_CHARACTERS, joinClauses } from '../../core/text';
import type { DsptEntry, NasSite, RegisterSnapshot, UnreadableRow } from '../eligibility/types';
import type { SourceStatus } from './source-status';

/** A row the register could not use: skipped, and reported by its line in the file. */
export interface RowProblem {
  line: number;
  message: string;
}

/**
 * Rows of a file that could not be used, by what they are known to be about: a site whose row is
 * among them is neither "in" nor "not in" the register, and no verdict may rest on either.
 */
export interface RowsNotRead {
  /** Upper-case ODS code to the lines of its rows that were not used: a bad value, or rows for it that disagree. */
  byCode: ReadonlyMap<string, readonly number[]>;
  /** Lines of skipped rows whose ODS code itself could not be read: any site missing from the register may be one of them. */
  codeless: readonly number[];
}

export interface ParsedRegister<T> {
  entries: Map<string, T>;
  problems: RowProblem[];
  notRead: RowsNotRead;
}

const NOTHING_UNREAD: RowsNotRead = { byCode: new Map(), codeless: [] };

/** One copy of a register, keyed by upper-case ODS code. */
export class Register<T> {
  constructor(
    private readonly byCode: ReadonlyMap<string, T>,
    readonly snapshot: RegisterSnapshot,
    readonly problems: readonly RowProblem[] = [],
    private readonly notRead: RowsNotRead = NOTHING_UNREAD,
  ) {}

  /** The site's entry when its row was read; null otherwise. For a verdict use `lookup`, which tells "absent" from "not read". */
  get(odsCode: string): T | null {
    return this.byCode.get(odsCode.toUpperCase()) ?? null;
  }

  /**
   * What the register says of a site: its entry; null when it is certainly not listed; or the
   * rows that could be its own but could not be read (its row had a bad value, its rows disagree,
   * or it is missing while some row's code could not be read).
   */
  lookup(odsCode: string): T | null | UnreadableRow {
    const code = odsCode.toUpperCase();
    const own = this.notRead.byCode.get(code);
    if (own) return { unreadable: true, ownRow: true, lines: [...own] };
    const entry = this.byCode.get(code);
    if (entry !== undefined) return entry;
    return this.notRead.codeless.length > 0 ? { unreadable: true, ownRow: false, lines: [...this.notRead.codeless] } : null;
  }

  /** A copy is its own newest copy: tests and the bench can hand one where a source is expected. */
  async current(): Promise<Register<T>> {
    return this;
  }
}

/** Where screening gets the newest copy of a register from. */
export interface RegisterReader<T> {
  current(): Promise<Register<T>>;
}

/** The counts NAS Operations are told with every new file. previousRows: the copy in use before it (none at first start-up). */
export interface RegisterCounts {
  rows: number;
  skipped: number;
  previousRows?: number;
}

export type RegisterEvent =
  /** A new copy is in use (newContent: no instance had recorded this exact content before, so it is news). */
  | ({ kind: 'loaded'; register: string; file: string; problems: readonly RowProblem[]; newContent: boolean; confirmed?: true } & RegisterCounts)
  /** A new file that looks broken (far fewer rows, or many skipped) is not used until someone confirms it; the previous copy stays. */
  | ({ kind: 'held'; register: string; file: string; why: string; fingerprint: string; confirmFile: string; keptPrevious: boolean } & RegisterCounts)
  /** The new file could not be used; `keptPrevious` says whether an older copy is still in use. */
  | { kind: 'failed'; register: string; file: string; message: string; keptPrevious: boolean };

/**
 * Register files are capped at 64 MiB, read before anything else. The DSPT organisation search
 * export lists one row per registered organisation at about 100-120 bytes a row (a real export:
 * nhsx/open-cyber data/DSPT Snapshots/22_23/CSU_dspt_snapshot_16_11_23.csv, 5 rows in 614
 * bytes with its header); the DSPT reports 27,500+ organisations publishing (dsptoolkit.nhs.uk
 * News/34), and even 150,000 registered rows would be under 20 MB. 64 MiB is three times that,
 * yet a file of that size parses in a few seconds and a few hundred MB of heap; a 200 MB file
 * (2.7 million rows) took the process down (issue 20). The NAS site register is far smaller.
 */
export const REGISTER_MAX_BYTES = 64 * 1024 * 1024;
/** One CSV record longer than this is not a register row (a missing quote swallowing the file): refused, not buffered. */
const MAX_RECORD_BYTES = 64 * 1024;
/** Rows handled between turns of the event loop while reading: each batch is a millisecond or two of work. */
const ROWS_PER_TURN = 500;

/**
 * A new copy with fewer usable rows than this share of the copy in use is held back: the DSPT
 * register of every organisation changes by a few rows a day as organisations register and close,
 * so losing a fifth of them at once is a broken or filtered download, not a day's change.
 */
export const HOLD_IF_ROWS_FALL_BELOW = 0.8;
/** ... and so is one with more than this share of its rows skipped: every row of real exports reads (issue 22: ~700 rows, three DSPT years). */
export const HOLD_IF_SKIPPED_OVER = 0.05;

const ODS_CODE = /^[A-Z0-9]{3,10}$/;
const PROBLEMS_SHOWN = 5;

/** Header names compared without case, spaces or underscores: "Date Of Publication" = "date of publication" = "date_of_publication". */
const headerKey = (name: string) => name.toLowerCase().replace(/[\s_]+/g, '');

type Columns = Readonly<Record<string, { header: string; required: boolean }>>;
/** A row read, or why not: with its ODS code when the code itself could be read. */
type ToEntry<T> = (row: Record<string, string>) => { code: string; entry: T } | { problem: string; code?: string };

/**
 * How a register file reads. Rows end in CRLF or LF, mixed in one file (LF rows appended to a
 * CRLF export by a script or an editor): csv-parse otherwise takes the first ending it sees as
 * the only one, and later LF rows merge silently into the record before them.
 */
const CSV_OPTIONS: CsvOptions = {
  bom: true,
  info: true,
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
  record_delimiter: ['\r\n', '\n', '\r'],
  max_record_size: MAX_RECORD_BYTES,
};

/**
 * Turns CSV records into entries by header name (extra columns ignored), one record at a time.
 * A site whose row is skipped, or listed twice with different values, is remembered as not read
 * (never just left out, which would read as "not in the register"); an identical repeat is harmless.
 */
class RowReader<T> {
  private positions: Map<string, number> | undefined;
  /** How many fields the header names: a row with more was split where it should not have been. */
  private width = 0;
  readonly entries = new Map<string, T>();
  readonly problems: RowProblem[] = [];
  private readonly lineOf = new Map<string, number>();
  private readonly notReadByCode = new Map<string, number[]>();
  private readonly codeless: number[] = [];

  constructor(
    private readonly label: string,
    private readonly columns: Columns,
    private readonly toEntry: ToEntry<T>,
  ) {}

  add(record: string[], line: number): void {
    if (!this.positions) {
      this.positions = this.header(record);
      this.width = withoutTrailingEmpty(record).length;
      return;
    }
    // A record of empty fields (",,,," a spreadsheet leaves below its data) is a blank line, not a row whose code could not be read.
    if (record.every((field) => field.trim() === '')) return;
    const row: Record<string, string> = {};
    for (const [field, column] of Object.entries(this.columns)) row[field] = record[this.positions.get(headerKey(column.header)) ?? -1] ?? '';
    const result = this.toEntry(row);
    // More fields than the header (an unquoted comma in a name: "Unit 3, Mill Lane"): every field after the split is read
    // from its neighbour's column, so a site over its allowance read as within it. The row is not used, and since the code
    // read may itself be a shifted field, it also counts as a row whose site cannot be known (codeless): any site missing
    // from the register is then "row unreadable", never "not listed".
    if (withoutTrailingEmpty(record).length > this.width) {
      this.problems.push({
        line,
        message: `it has ${withoutTrailingEmpty(record).length} fields where the header has ${this.width} (a comma inside an unquoted value?)`,
      });
      if (result.code) this.notRead(result.code, line);
      this.codeless.push(line);
      return;
    }
    if ('problem' in result) {
      this.problems.push({ line, message: result.problem });
      if (result.code) this.notRead(result.code, line);
      else this.codeless.push(line);
      return;
    }
    const { code, entry } = result;
    const other = this.notReadByCode.get(code);
    if (other) {
      this.problems.push({ line, message: `${code} is listed again, and its row at line ${other[0]} could not be read: neither is used` });
      other.push(line);
      return;
    }
    const first = this.lineOf.get(code);
    if (first === undefined) {
      this.entries.set(code, entry);
      this.lineOf.set(code, line);
      return;
    }
    if (JSON.stringify(this.entries.get(code)) === JSON.stringify(entry)) return;
    this.problems.push({ line, message: `${code} is listed again with different values (first at line ${first}): neither row is used` });
    this.notRead(code, line);
  }

  /** The site's rows are not used: which of them is right cannot be known from the file. */
  private notRead(code: string, line: number): void {
    const lines = this.notReadByCode.get(code) ?? [];
    const first = this.lineOf.get(code);
    if (first !== undefined) {
      lines.push(first);
      this.entries.delete(code);
      this.lineOf.delete(code);
    }
    lines.push(line);
    this.notReadByCode.set(code, lines);
  }

  finish(): ParsedRegister<T> {
    if (!this.positions) throw new AppError('REGISTER_UNAVAILABLE', `The ${this.label} is empty.`);
    if (this.entries.size === 0) {
      throw new AppError(
        'REGISTER_UNAVAILABLE',
        `The ${this.label} has no usable row${this.problems.length > 0 ? `: ${describeProblems(this.problems)}` : ''}.`,
      );
    }
    const byCode = new Map([...this.notReadByCode].map(([code, lines]) => [code, [...lines].sort((a, b) => a - b)]));
    return { entries: this.entries, problems: this.problems, notRead: { byCode, codeless: this.codeless } };
  }

  private header(record: string[]): Map<string, number> {
    const positions = new Map(record.map((name, index) => [headerKey(name), index]));
    const missing = Object.values(this.columns).filter((column) => column.required && !positions.has(headerKey(column.header)));
    if (missing.length > 0) {
      throw new AppError(
        'REGISTER_UNAVAILABLE',
        `The ${this.label} has no ${missing.map((column) => `"${column.header}"`).join(', ')} column${missing.length > 1 ? 's' : ''} (its header row is: ${record.slice(0, 8).join(', ')}).`,
      );
    }
    return positions;
  }
}

/** A record without the empty fields a spreadsheet may leave after the last column. */
function withoutTrailingEmpty(record: readonly string[]): readonly string[] {
  let end = record.length;
  while (end > 0 && record[end - 1]!.trim() === '') end--;
  return record.slice(0, end);
}

function notCsv(label: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const line = (error as { lines?: number }).lines;
  const code = (error as { code?: string }).code;
  const why = code === 'CSV_MAX_RECORD_SIZE' ? `: one record is over ${MAX_RECORD_BYTES / 1024} KB (an unclosed quote?)` : '';
  return new AppError('REGISTER_UNAVAILABLE', `The ${label} is not a readable CSV file${line ? ` (line ${line})` : ''}${why}.`);
}

/** A register file as read: its rows, and the SHA-256 of its bytes (the same content anywhere, under any name, has the same one). */
export interface ReadRegister<T> extends ParsedRegister<T> {
  sha256: string;
  bytes: number;
}

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

/**
 * Reads a register file without holding the event loop: streamed in chunks, parsed as it comes,
 * and a turn of the event loop given back every ROWS_PER_TURN rows, so the bot keeps answering
 * (and /healthz keeps saying so) while a large file is read. A file over `maxBytes` is refused
 * before it is read, and again if it grows past the cap while being read.
 */
export async function readRegisterFile<T>(file: string, format: RegisterFormat<T>, maxBytes = REGISTER_MAX_BYTES): Promise<ReadRegister<T>> {
  const { label } = format;
  const tooBig = (bytes: number) =>
    new AppError(
      'REGISTER_UNAVAILABLE',
      `The ${label} file is ${megabytes(bytes)}, over the ${megabytes(maxBytes)} a register may be (the DSPT export of every organisation in England is a few tens of MB at most): check it is the right file.`,
    );
  const before = await stat(file);
  const size = before.size;
  if (size > maxBytes) throw tooBig(size);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(tooBig(bytes));
      hash.update(chunk);
      return done(null, chunk);
    },
  });
  const reader = new RowReader(label, format.columns, format.toEntry);
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 64 * 1024 }),
      meter,
      parseStream(CSV_OPTIONS),
      async (records: AsyncIterable<{ record: string[]; info: { lines: number } }>) => {
        let sinceTurn = 0;
        for await (const { record, info } of records) {
          reader.add(record, info.lines);
          if (++sinceTurn === ROWS_PER_TURN) {
            sinceTurn = 0;
            await yieldToEventLoop();
          }
        }
      },
    );
  } catch (error) {
    throw notCsv(label, error);
  }
  // A file still being copied or rewritten reads as a shorter, valid-looking file (a cut last row can
  // even read as a smaller number): a read that did not see the file whole and unchanged is not used.
  const after = await stat(file);
  if (bytes !== size || after.size !== size || after.mtimeMs !== before.mtimeMs)
    throw new AppError('REGISTER_UNAVAILABLE', `The ${label} file changed while it was being read, so it was not used; it is read again at the next check.`);
  return { ...reader.finish(), sha256: hash.digest('hex'), bytes };
}

export function describeProblems(problems: readonly RowProblem[]): string {
  const shown = problems.slice(0, PROBLEMS_SHOWN).map((problem) => `line ${problem.line}: ${problem.message}`);
  const rest = problems.length - shown.length;
  return joinClauses([...shown, ...(rest > 0 ? [`and ${rest} more`] : [])]);
}

/** Values from a file, safe to quote in a message: printable, bounded. */
function shownValue(value: string): string {
  const printable = value.replace(CONTROL_CHARACTERS, '?');
  return `"${printable.length > 40 ? `${printable.slice(0, 39)}…` : printable}"`;
}

function odsCode(raw: string, column: string): string | { problem: string } {
  const code = raw.trim().toUpperCase();
  return ODS_CODE.test(code) ? code : { problem: `${column} ${shownValue(raw)} is not an ODS code` };
}

/** dd/mm/yyyy (a time after it, as spreadsheets add, is ignored) to YYYY-MM-DD; undefined when not a real date. */
export function parseUkDate(text: string): string | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$/.exec(text.trim());
  if (!match) return undefined;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date.toISOString().slice(0, 10);
}

/** "25/26 Standards Met" names DSPT year 25/26; "2025/26 Standards Met" too. A status without a year names none. */
export function splitDsptStatus(status: string): { year?: string; statusWords: string } {
  const match = /^(?:20)?(\d{2})\s*\/\s*(?:20)?(\d{2})\s+(.+)$/.exec(status.trim());
  if (match && (Number(match[1]) + 1) % 100 === Number(match[2])) return { year: `${match[1]}/${match[2]}`, statusWords: (match[3] as string).trim() };
  return { statusWords: status.trim() };
}

const DSPT_COLUMNS = {
  code: { header: 'Code', required: true },
  name: { header: 'Organisation Name', required: false },
  status: { header: 'Status', required: true },
  published: { header: 'Date Of Publication', required: true },
  sector: { header: 'Primary Sector', required: false },
} as const;

function dsptRow(row: Record<string, string>): ReturnType<ToEntry<DsptEntry>> {
  const code = odsCode(row.code ?? '', 'Code');
  if (typeof code !== 'string') return code;
  const status = (row.status ?? '').trim();
  if (!status) return { code, problem: `no Status for ${code}` };
  const publishedText = (row.published ?? '').trim();
  const published = publishedText ? parseUkDate(publishedText) : undefined;
  if (publishedText && !published) return { code, problem: `Date Of Publication ${shownValue(publishedText)} is not a dd/mm/yyyy date` };
  const sector = row.sector?.trim();
  return {
    code,
    entry: { odsCode: code, status, ...splitDsptStatus(status), ...(published ? { published } : {}), ...(sector ? { primarySector: sector } : {}) },
  };
}

/**
 * The DSPT organisation search (https://www.dsptoolkit.nhs.uk/OrganisationSearch) names its CSV
 * download after the moment it was made, UK time: "DSPT search results 08_02_2022 15_17_38.csv"
 * (as kept by NHS England's own analysts, nhsx/open-cyber: `read.csv("./data/DSPT search results
 * 08_02_2022 15_17_38.csv")`). A browser's " (1)" for a second download is allowed.
 * Undefined when the name is not that, or is not a real date and time.
 */
export function dsptExportDate(fileName: string): string | undefined {
  const match = /^DSPT search results (\d{2})_(\d{2})_(\d{4}) (\d{2})_(\d{2})_(\d{2})(?: \(\d+\))?\.csv$/i.exec(fileName.trim());
  if (!match) return undefined;
  const [day, month, year, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return londonTimeToInstant(year, month, day, hour, minute, second);
}

/** How a register's files read, and what dates the data in one. */
export interface RegisterFormat<T> {
  label: string;
  columns: Columns;
  toEntry: ToEntry<T>;
  /**
   * What dates a copy: `export` the file's own name, else the first time the bot saw that exact
   * content (never the modified time: a plain copy of an old export gets a new one);
   * `file-modified` the modified time (NAS's own file, which no rule ages).
   */
  datedBy: 'export' | 'file-modified';
  dateFromName?: (fileName: string) => string | undefined;
}

/** The DSPT organisation search export, as downloaded. */
export const DSPT_FORMAT: RegisterFormat<DsptEntry> = {
  label: 'DSPT register',
  columns: DSPT_COLUMNS,
  toEntry: dsptRow,
  datedBy: 'export',
  dateFromName: dsptExportDate,
};

const NAS_SITE_COLUMNS = {
  code: { header: 'ods_code', required: true },
  name: { header: 'site_name', required: false },
  allowed: { header: 'allowed_accounts', required: true },
  nas: { header: 'nas_accounts', required: true },
} as const;

const count = z.string().trim().regex(/^\d+$/).transform(Number);

function nasSiteRow(row: Record<string, string>): ReturnType<ToEntry<NasSite>> {
  const code = odsCode(row.code ?? '', 'ods_code');
  if (typeof code !== 'string') return code;
  const allowed = count.safeParse(row.allowed ?? '');
  if (!allowed.success) return { code, problem: `allowed_accounts ${shownValue(row.allowed ?? '')} is not a whole number` };
  const nas = count.safeParse(row.nas ?? '');
  if (!nas.success) return { code, problem: `nas_accounts ${shownValue(row.nas ?? '')} is not a whole number` };
  return { code, entry: { odsCode: code, allowedAccounts: allowed.data, nasAccounts: nas.data } };
}

/** The NAS site register, in NAS's own format: ods_code,site_name,allowed_accounts,nas_accounts. */
export const NAS_SITES_FORMAT: RegisterFormat<NasSite> = {
  label: 'NAS site register',
  columns: NAS_SITE_COLUMNS,
  toEntry: nasSiteRow,
  datedBy: 'file-modified',
};

/**
 * What the database remembers of register contents, by SHA-256, across restarts and instances
 * (services/store/register-contents.ts): when each was first seen (the age of a copy whose file
 * name no longer dates it), and the copy last put in use (what a new file is compared with after
 * a restart, so a held-back file is not taken just because the process restarted).
 */
export interface RegisterLedger {
  /** Records the content as seen at `at` unless it was seen before; isNew: this call recorded it. */
  seen(register: string, sha256: string, at: Date): Promise<{ firstSeenAt: Date; isNew: boolean }>;
  accepted(register: string, sha256: string, counts: { rows: number; skipped: number }, at: Date): Promise<void>;
  lastAccepted(register: string): Promise<{ sha256: string; rows: number } | undefined>;
}

export interface RegisterSourceOptions {
  now?: () => Date;
  maxBytes?: number;
  ledger?: RegisterLedger;
}

interface FileVersion {
  mtimeMs: number;
  size: number;
}

type DataDate = Pick<RegisterSnapshot, 'fileDate' | 'dateSource'>;

interface HeldFile<T> {
  version: FileVersion;
  read: ReadRegister<T>;
  dated: DataDate;
  counts: RegisterCounts;
  fingerprint: string;
  newContent: boolean;
}

/** Why a new copy should wait for a person, or undefined when it may be used. */
export function holdReason(counts: RegisterCounts): string | undefined {
  const total = counts.rows + counts.skipped;
  if (total > 0 && counts.skipped / total > HOLD_IF_SKIPPED_OVER) {
    return `${Math.round((counts.skipped / total) * 100)}% of its rows could not be used (more than ${HOLD_IF_SKIPPED_OVER * 100}%)`;
  }
  if (counts.previousRows !== undefined && counts.rows < counts.previousRows * HOLD_IF_ROWS_FALL_BELOW) {
    return `it has ${counts.rows} usable rows where the copy in use has ${counts.previousRows} (fewer than ${HOLD_IF_ROWS_FALL_BELOW * 100}%)`;
  }
  return undefined;
}

/** "loaded 1 row, skipped 9, previous copy 10 rows": the counts ops are told, in one place. */
export function describeCounts(counts: RegisterCounts): string {
  const previous = counts.previousRows === undefined ? 'no previous copy' : `previous copy ${rows(counts.previousRows)}`;
  return `loaded ${rows(counts.rows)}, skipped ${counts.skipped}, ${previous}`;
}

function rows(count: number): string {
  return `${count} ${count === 1 ? 'row' : 'rows'}`;
}

/** What NAS Operations are told about a register event, with its counts; undefined when there is nothing new to tell. */
export function describeRegisterEvent(event: RegisterEvent): string | undefined {
  switch (event.kind) {
    case 'failed':
      return event.message;
    case 'held':
      return (
        `it looks incomplete, so it was held back: ${event.why} (${describeCounts(event)}). ` +
        `If the file is right, confirm it by writing ${event.fingerprint} into a file named ${event.confirmFile} beside it (nas-transfer confirm-register does that); otherwise replace it with a complete export.`
      );
    case 'loaded':
      // News is a new copy replacing one (or the first with rows skipped): the first clean copy of a new deployment is not.
      if (!event.confirmed && (!event.newContent || (event.previousRows === undefined && event.problems.length === 0))) return undefined;
      return `${event.confirmed ? 'Confirmed and now in use' : 'Now in use'}: ${describeCounts(event)}${event.problems.length > 0 ? `; skipped ${describeProblems(event.problems)}` : ''}.`;
  }
}

/**
 * A register file that is re-read when it changes (checked on every use, and on a timer
 * when `watch` is called). A new file that cannot be used leaves the previous copy in use;
 * the failure is kept for `status()` and told to every listener, once per file version.
 * A new file that can be read but looks broken (holdReason) is held back the same way until
 * someone confirms it: a file named `<register file>.confirm` beside it holding its fingerprint.
 */
export class RegisterSource<T> {
  private copy: Register<T> | undefined;
  private version: FileVersion | undefined;
  private failedVersion: FileVersion | undefined;
  private held: HeldFile<T> | undefined;
  private lastError: { message: string; at: string } | undefined;
  private lastChecked: string | undefined;
  private readonly listeners = new Set<(event: RegisterEvent) => void>();
  private reading: Promise<void> | undefined;
  private lastEvent: RegisterEvent | undefined;
  private readonly now: () => Date;

  constructor(
    readonly format: RegisterFormat<T>,
    private readonly file: string,
    private readonly options: RegisterSourceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  get label(): string {
    return this.format.label;
  }

  /** The file that confirms a held-back copy: beside the register, named after it. */
  get confirmFile(): string {
    return `${this.file}.confirm`;
  }

  /**
   * Listen for reloads, held-back files and failed reloads (e.g. to tell NAS Operations in their channel).
   * `replay`: hear the latest event at once too, so what happened at start-up, before anyone listened
   * (a file held back or refused), is told as well.
   */
  onChange(listener: (event: RegisterEvent) => void, options: { replay?: boolean } = {}): () => void {
    this.listeners.add(listener);
    if (options.replay && this.lastEvent) this.tell(listener, this.lastEvent);
    return () => this.listeners.delete(listener);
  }

  /** The newest usable copy, re-read first if the file changed. Throws REGISTER_UNAVAILABLE only when no copy is usable. */
  async current(): Promise<Register<T>> {
    await this.refresh();
    if (this.copy) return this.copy;
    throw new AppError('REGISTER_UNAVAILABLE', this.lastError?.message ?? `The ${this.label} ${path.basename(this.file)} has not been read.`);
  }

  /** Checks the file and re-reads it if it changed since the last read (or last failed read). Never throws. */
  async refresh(): Promise<void> {
    this.reading ??= this.checkFile()
      .catch((error: unknown) => this.fail(undefined, error instanceof AppError ? error.userMessage : `The ${this.label} could not be read.`))
      .finally(() => {
        this.reading = undefined;
      });
    await this.reading;
  }

  /** Checks the file every `intervalMs` so a bad new file is reported even before anyone screens. */
  watch(intervalMs: number): () => void {
    const timer = setInterval(() => void this.refresh(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  status(): SourceStatus {
    const snapshot = this.copy?.snapshot;
    const notes = [
      ...(this.copy && this.copy.problems.length > 0 ? [`skipped ${describeProblems(this.copy.problems)}`] : []),
      ...(snapshot && this.format.datedBy === 'export' ? [describeDataDate(snapshot)] : []),
    ];
    return {
      name: this.label,
      kind: 'CSV file',
      where: path.basename(this.file),
      ...(snapshot ? { rows: snapshot.rows, skippedRows: this.copy?.problems.length ?? 0 } : {}),
      ...(snapshot?.fileDate ? { dataDate: snapshot.fileDate } : {}),
      ...(this.lastChecked ? { checkedAt: this.lastChecked } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(notes.length > 0 ? { notes: notes.join('; ') } : {}),
    };
  }

  private async checkFile(): Promise<void> {
    this.lastChecked = this.now().toISOString();
    let version: FileVersion;
    try {
      const info = await stat(this.file);
      version = { mtimeMs: info.mtimeMs, size: info.size };
    } catch {
      this.fail(undefined, `The ${this.label} ${path.basename(this.file)} could not be found or opened.`);
      return;
    }
    if (sameVersion(version, this.version) || sameVersion(version, this.failedVersion)) return;
    if (this.held && sameVersion(version, this.held.version)) {
      if (await this.confirmed(this.held.fingerprint)) await this.use(this.held, true);
      return;
    }
    let read: ReadRegister<T>;
    try {
      read = await readRegisterFile(this.file, this.format, this.options.maxBytes);
    } catch (error) {
      const message =
        error instanceof AppError
          ? error.userMessage.replace(/^A reference register \(DSPT or NAS sites\) could not be read\. /, '')
          : `The ${this.label} could not be read.`;
      this.fail(version, `${message}${this.copy ? ' The previous copy is still in use.' : ''}`);
      return;
    }
    const seen = await this.recordSeen(read.sha256);
    const accepted = await this.lastAccepted();
    const alreadyAccepted = accepted?.sha256 === read.sha256;
    const previousRows = this.copy?.snapshot.rows ?? (alreadyAccepted ? undefined : accepted?.rows);
    const counts: RegisterCounts = { rows: read.entries.size, skipped: read.problems.length, ...(previousRows !== undefined ? { previousRows } : {}) };
    const file: HeldFile<T> = {
      version,
      read,
      dated: this.dateOf(version, seen?.firstSeenAt),
      counts,
      fingerprint: read.sha256.slice(0, 12),
      newContent: seen ? seen.isNew : this.copy !== undefined,
    };
    // The first copy is held too when too many of its rows were skipped: no copy at all makes screening say the register
    // is unavailable (could not check), where a copy missing rows would answer for sites it could not read. Ops are told
    // (the held event is replayed to the channel at start-up); a first copy with no row skipped is never held.
    const why = alreadyAccepted ? undefined : holdReason(counts);
    if (why === undefined) await this.use(file, false);
    else if (await this.confirmed(file.fingerprint)) await this.use(file, true);
    else this.hold(file, why);
  }

  private async use(file: HeldFile<T>, confirmed: boolean): Promise<void> {
    const snapshot: RegisterSnapshot = { file: path.basename(this.file), rows: file.read.entries.size, ...file.dated };
    this.copy = new Register(file.read.entries, snapshot, file.read.problems, file.read.notRead);
    this.version = file.version;
    this.held = undefined;
    this.failedVersion = undefined;
    this.lastError = undefined;
    this.emit({
      kind: 'loaded',
      register: this.label,
      file: snapshot.file,
      problems: file.read.problems,
      newContent: file.newContent,
      ...file.counts,
      ...(confirmed ? { confirmed: true as const } : {}),
    });
    // Remembered as the copy in use, for the next start-up's comparison; the database away only loses that.
    await this.options.ledger
      ?.accepted(this.label, file.read.sha256, { rows: file.counts.rows, skipped: file.counts.skipped }, this.now())
      .catch(() => undefined);
  }

  private hold(file: HeldFile<T>, why: string): void {
    this.held = file;
    this.failedVersion = undefined;
    const event: RegisterEvent = {
      kind: 'held',
      register: this.label,
      file: path.basename(this.file),
      why,
      fingerprint: file.fingerprint,
      confirmFile: path.basename(this.confirmFile),
      keptPrevious: this.copy !== undefined,
      ...file.counts,
    };
    const kept = this.copy ? ' The previous copy is still in use.' : ' No copy is in use until it is confirmed or replaced.';
    this.lastError = { message: `A new file was held back: ${why} (${describeCounts(file.counts)}).${kept}`, at: this.now().toISOString() };
    this.emit(event);
  }

  /** Whether the confirmation file beside the register names this fingerprint. */
  private async confirmed(fingerprint: string): Promise<boolean> {
    try {
      const info = await stat(this.confirmFile);
      if (info.size > 4096) return false;
      return (await readFile(this.confirmFile, 'utf8')).includes(fingerprint);
    } catch {
      return false;
    }
  }

  private async recordSeen(sha256: string): Promise<{ firstSeenAt: Date; isNew: boolean } | undefined> {
    try {
      return await this.options.ledger?.seen(this.label, sha256, this.now());
    } catch {
      // The database away: the copy is undated (DSPT passes go to review), never dated by its file.
      return undefined;
    }
  }

  private async lastAccepted(): Promise<{ sha256: string; rows: number } | undefined> {
    if (this.copy) return undefined;
    try {
      return await this.options.ledger?.lastAccepted(this.label);
    } catch {
      return undefined;
    }
  }

  private dateOf(version: FileVersion, firstSeenAt: Date | undefined): DataDate {
    if (this.format.datedBy === 'file-modified') return { fileDate: new Date(version.mtimeMs).toISOString(), dateSource: 'file-modified' };
    const fromName = this.format.dateFromName?.(path.basename(this.file));
    if (fromName) return { fileDate: fromName, dateSource: 'export-name' };
    return firstSeenAt ? { fileDate: firstSeenAt.toISOString(), dateSource: 'first-seen' } : {};
  }

  private fail(version: FileVersion | undefined, message: string): void {
    const repeated = this.lastError?.message === message && (version === undefined || sameVersion(version, this.failedVersion));
    this.failedVersion = version;
    this.lastError = { message, at: this.now().toISOString() };
    if (!repeated) this.emit({ kind: 'failed', register: this.label, file: path.basename(this.file), message, keptPrevious: this.copy !== undefined });
  }

  private emit(event: RegisterEvent): void {
    this.lastEvent = event;
    for (const listener of this.listeners) this.tell(listener, event);
  }

  private tell(listener: (event: RegisterEvent) => void, event: RegisterEvent): void {
    try {
      listener(event);
    } catch {
      // A listener's failure must not stop the register or the other listeners.
    }
  }
}

/** Where a copy's date came from, for `sources`. */
export function describeDataDate(snapshot: Pick<RegisterSnapshot, 'dateSource'>): string {
  switch (snapshot.dateSource) {
    case 'export-name':
      return 'dated by the export’s file name';
    case 'first-seen':
      return 'dated when the bot first saw this content (the file name is not the export’s)';
    case 'file-modified':
      return 'dated by the file’s modified time';
    default:
      return 'date unknown (the file name is not the export’s and the database could not date it): DSPT passes go to review';
  }
}

function sameVersion(a: FileVersion | undefined, b: FileVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

export function dsptRegisterSource(file: string, options?: RegisterSourceOptions): RegisterSource<DsptEntry> {
  return new RegisterSource(DSPT_FORMAT, file, options);
}

export function nasSitesRegisterSource(file: string, options?: RegisterSourceOptions): RegisterSource<NasSite> {
  return new RegisterSource(NAS_SITES_FORMAT, file, options);
}

/** Reads a register once (tests, the bench): the first copy, or REGISTER_UNAVAILABLE. */
export async function loadDsptRegister(file: string): Promise<Register<DsptEntry>> {
  return dsptRegisterSource(file).current();
}

export async function loadNasSitesRegister(file: string): Promise<Register<NasSite>> {
  return nasSitesRegisterSource(file).current();
}

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { CONTROL_CHARACTERS, joinClauses } from '../../core/text';
import type { DsptEntry, NasSite, RegisterSnapshot } from '../eligibility/types';
import type { SourceStatus } from './source-status';

/** A row the register could not use: skipped, and reported by its line in the file. */
export interface RowProblem {
  line: number;
  message: string;
}

export interface ParsedRegister<T> {
  entries: Map<string, T>;
  problems: RowProblem[];
}

/** One copy of a register, keyed by upper-case ODS code. */
export class Register<T> {
  constructor(
    private readonly byCode: ReadonlyMap<string, T>,
    readonly snapshot: RegisterSnapshot,
    readonly problems: readonly RowProblem[] = [],
  ) {}

  get(odsCode: string): T | null {
    return this.byCode.get(odsCode.toUpperCase()) ?? null;
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

export type RegisterEvent =
  | { kind: 'loaded'; register: string; file: string; rows: number; problems: readonly RowProblem[] }
  /** The new file could not be used; `keptPrevious` says whether an older copy is still in use. */
  | { kind: 'failed'; register: string; file: string; message: string; keptPrevious: boolean };

const ODS_CODE = /^[A-Z0-9]{3,10}$/;
const PROBLEMS_SHOWN = 5;

/** Header names compared without case, spaces or underscores: "Date Of Publication" = "date of publication" = "date_of_publication". */
const headerKey = (name: string) => name.toLowerCase().replace(/[\s_]+/g, '');

/**
 * Reads a CSV register by header name (extra columns ignored), row by row: a bad row is
 * reported with its line number and skipped. Throws only when the file as a whole cannot
 * be used: not CSV, a required column missing, or no usable row at all.
 */
export function parseRegisterCsv<T>(
  text: string,
  label: string,
  columns: Readonly<Record<string, { header: string; required: boolean }>>,
  toEntry: (row: Record<string, string>) => { code: string; entry: T } | string,
): ParsedRegister<T> {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new AppError('REGISTER_UNAVAILABLE', `The ${label} is not a readable CSV file${line ? ` (line ${line})` : ''}.`);
  }
  const [header, ...rows] = records;
  if (!header) throw new AppError('REGISTER_UNAVAILABLE', `The ${label} is empty.`);
  const positions = new Map(header.record.map((name, index) => [headerKey(name), index]));
  const missing = Object.values(columns).filter((column) => column.required && !positions.has(headerKey(column.header)));
  if (missing.length > 0) {
    throw new AppError(
      'REGISTER_UNAVAILABLE',
      `The ${label} has no ${missing.map((column) => `"${column.header}"`).join(', ')} column${missing.length > 1 ? 's' : ''} (its header row is: ${header.record.slice(0, 8).join(', ')}).`,
    );
  }
  const entries = new Map<string, T>();
  const problems: RowProblem[] = [];
  for (const { record, info } of rows) {
    const row: Record<string, string> = {};
    for (const [field, column] of Object.entries(columns)) row[field] = record[positions.get(headerKey(column.header)) ?? -1] ?? '';
    const result = toEntry(row);
    if (typeof result === 'string') problems.push({ line: info.lines, message: result });
    else entries.set(result.code, result.entry);
  }
  if (entries.size === 0) {
    throw new AppError('REGISTER_UNAVAILABLE', `The ${label} has no usable row${problems.length > 0 ? `: ${describeProblems(problems)}` : ''}.`);
  }
  return { entries, problems };
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

/** The DSPT organisation search export, as downloaded. */
export function parseDsptRegister(text: string): ParsedRegister<DsptEntry> {
  const parsed = parseRegisterCsv<DsptEntry>(text, 'DSPT register', DSPT_COLUMNS, (row) => {
    const code = odsCode(row.code ?? '', 'Code');
    if (typeof code !== 'string') return code.problem;
    const status = (row.status ?? '').trim();
    if (!status) return `no Status for ${code}`;
    const publishedText = (row.published ?? '').trim();
    const published = publishedText ? parseUkDate(publishedText) : undefined;
    if (publishedText && !published) return `Date Of Publication ${shownValue(publishedText)} is not a dd/mm/yyyy date`;
    const sector = row.sector?.trim();
    return {
      code,
      entry: { odsCode: code, status, ...splitDsptStatus(status), ...(published ? { published } : {}), ...(sector ? { primarySector: sector } : {}) },
    };
  });
  return parsed;
}

const NAS_SITE_COLUMNS = {
  code: { header: 'ods_code', required: true },
  name: { header: 'site_name', required: false },
  allowed: { header: 'allowed_accounts', required: true },
  nas: { header: 'nas_accounts', required: true },
} as const;

const count = z.string().trim().regex(/^\d+$/).transform(Number);

/** The NAS site register, in NAS's own format: ods_code,site_name,allowed_accounts,nas_accounts. */
export function parseNasSitesRegister(text: string): ParsedRegister<NasSite> {
  return parseRegisterCsv<NasSite>(text, 'NAS site register', NAS_SITE_COLUMNS, (row) => {
    const code = odsCode(row.code ?? '', 'ods_code');
    if (typeof code !== 'string') return code.problem;
    const allowed = count.safeParse(row.allowed ?? '');
    if (!allowed.success) return `allowed_accounts ${shownValue(row.allowed ?? '')} is not a whole number`;
    const nas = count.safeParse(row.nas ?? '');
    if (!nas.success) return `nas_accounts ${shownValue(row.nas ?? '')} is not a whole number`;
    return { code, entry: { odsCode: code, allowedAccounts: allowed.data, nasAccounts: nas.data } };
  });
}

interface FileVersion {
  mtimeMs: number;
  size: number;
}

/**
 * A register file that is re-read when it changes (checked on every use, and on a timer
 * when `watch` is called). A new file that cannot be used leaves the previous copy in use;
 * the failure is kept for `status()` and told to every listener, once per file version.
 */
export class RegisterSource<T> {
  private copy: Register<T> | undefined;
  private version: FileVersion | undefined;
  private failedVersion: FileVersion | undefined;
  private lastError: { message: string; at: string } | undefined;
  private lastChecked: string | undefined;
  private readonly listeners = new Set<(event: RegisterEvent) => void>();
  private reading: Promise<void> | undefined;

  constructor(
    readonly label: string,
    private readonly file: string,
    private readonly parseText: (text: string) => ParsedRegister<T>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Listen for reloads and failed reloads (e.g. to tell NAS Operations in their channel). */
  onChange(listener: (event: RegisterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest usable copy, re-read first if the file changed. Throws REGISTER_UNAVAILABLE only when no copy was ever usable. */
  async current(): Promise<Register<T>> {
    await this.refresh();
    if (this.copy) return this.copy;
    throw new AppError('REGISTER_UNAVAILABLE', this.lastError?.message ?? `The ${this.label} ${path.basename(this.file)} has not been read.`);
  }

  /** Checks the file and re-reads it if it changed since the last read (or last failed read). Never throws. */
  async refresh(): Promise<void> {
    this.reading ??= this.checkFile().finally(() => {
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
    return {
      name: this.label,
      kind: 'CSV file',
      where: path.basename(this.file),
      ...(this.copy ? { dataDate: this.copy.snapshot.fileDate, rows: this.copy.snapshot.rows, skippedRows: this.copy.problems.length } : {}),
      ...(this.lastChecked ? { checkedAt: this.lastChecked } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.copy && this.copy.problems.length > 0 ? { notes: `skipped ${describeProblems(this.copy.problems)}` } : {}),
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
    try {
      const parsed = this.parseText(await readFile(this.file, 'utf8'));
      const snapshot: RegisterSnapshot = { file: path.basename(this.file), fileDate: new Date(version.mtimeMs).toISOString(), rows: parsed.entries.size };
      this.copy = new Register(parsed.entries, snapshot, parsed.problems);
      this.version = version;
      this.failedVersion = undefined;
      this.lastError = undefined;
      this.emit({ kind: 'loaded', register: this.label, file: snapshot.file, rows: snapshot.rows, problems: parsed.problems });
    } catch (error) {
      const message =
        error instanceof AppError
          ? error.userMessage.replace(/^A reference register \(DSPT or NAS sites\) could not be read\. /, '')
          : `The ${this.label} could not be read.`;
      this.fail(version, `${message}${this.copy ? ' The previous copy is still in use.' : ''}`);
    }
  }

  private fail(version: FileVersion | undefined, message: string): void {
    const repeated = this.lastError?.message === message && (version === undefined || sameVersion(version, this.failedVersion));
    this.failedVersion = version;
    this.lastError = { message, at: this.now().toISOString() };
    if (!repeated) this.emit({ kind: 'failed', register: this.label, file: path.basename(this.file), message, keptPrevious: this.copy !== undefined });
  }

  private emit(event: RegisterEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop the register or the other listeners.
      }
    }
  }
}

function sameVersion(a: FileVersion | undefined, b: FileVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

export function dsptRegisterSource(file: string, now?: () => Date): RegisterSource<DsptEntry> {
  return new RegisterSource('DSPT register', file, parseDsptRegister, now);
}

export function nasSitesRegisterSource(file: string, now?: () => Date): RegisterSource<NasSite> {
  return new RegisterSource('NAS site register', file, parseNasSitesRegister, now);
}

/** Reads a register once (tests, the bench): the first copy, or REGISTER_UNAVAILABLE. */
export async function loadDsptRegister(file: string): Promise<Register<DsptEntry>> {
  return dsptRegisterSource(file).current();
}

export async function loadNasSitesRegister(file: string): Promise<Register<NasSite>> {
  return nasSitesRegisterSource(file).current();
}

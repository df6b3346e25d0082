import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import type { DsptEntry, NasSite } from '../eligibility/types';

export const DSPT_STATUSES = ['Standards Exceeded', 'Standards Met', 'Approaching Standards', 'Standards Not Met', 'Not Published'] as const;

const dsptRowSchema = z.object({
  ods_code: z.string().trim().min(3).max(10),
  organisation_name: z.string(),
  status: z.enum(DSPT_STATUSES),
  published: z.string().optional(),
});

const nasSiteRowSchema = z.object({
  ods_code: z.string().trim().min(3).max(10),
  site_name: z.string(),
  allowed_accounts: z.coerce.number().int().min(0),
  nas_accounts: z.coerce.number().int().min(0),
});

/** A register read from CSV, keyed by upper-case ODS code. */
export class Register<T> {
  constructor(private readonly byCode: ReadonlyMap<string, T>) {}
  get(odsCode: string): T | null {
    return this.byCode.get(odsCode.toUpperCase()) ?? null;
  }
}

async function loadCsv<Row, T>(file: string, label: string, schema: z.ZodType<Row>, toEntry: (row: Row) => [string, T]): Promise<Register<T>> {
  let rows: Record<string, string>[];
  try {
    rows = parse(await readFile(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch {
    throw new AppError('REGISTER_UNAVAILABLE', `The ${label} at ${file} could not be read.`);
  }
  const entries = new Map<string, T>();
  const problems: string[] = [];
  rows.forEach((row, index) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      problems.push(`row ${index + 2}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join(', ')}`);
      return;
    }
    const [code, entry] = toEntry(parsed.data);
    entries.set(code.toUpperCase(), entry);
  });
  if (problems.length > 0) throw new AppError('REGISTER_UNAVAILABLE', `The ${label} at ${file} has bad rows: ${problems.slice(0, 5).join('; ')}`);
  return new Register(entries);
}

export function loadDsptRegister(file: string): Promise<Register<DsptEntry>> {
  return loadCsv(file, 'DSPT register', dsptRowSchema, (row) => [row.ods_code, { odsCode: row.ods_code.toUpperCase(), status: row.status, published: row.published || undefined }]);
}

export function loadNasSitesRegister(file: string): Promise<Register<NasSite>> {
  return loadCsv(file, 'NAS site register', nasSiteRowSchema, (row) => [
    row.ods_code,
    { odsCode: row.ods_code.toUpperCase(), allowedAccounts: row.allowed_accounts, nasAccounts: row.nas_accounts },
  ]);
}

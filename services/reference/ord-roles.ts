import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { fetchSameOrigin } from '../../core/redirects';

/** One entry of the ORD roles code system, as GET {ODS_BASE_URL}/roles lists it. */
export interface OrdRole {
  id: string;
  code: string;
  displayName: string;
  primaryRole: boolean;
}

export interface OrdRolesSnapshot {
  codeSystem: string;
  snapshotDate: string;
  source: string;
  notes?: string;
  roles: OrdRole[];
}

/** ORD writes primaryRole as the string "true"/"false"; accept a boolean too. */
const primaryRoleSchema = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const roleSchema = z.object({ id: z.string().regex(/^RO\d+$/), code: z.string(), displayName: z.string().min(1), primaryRole: primaryRoleSchema });
const rolesResponseSchema = z.object({ Roles: z.array(roleSchema).min(1) });
const snapshotSchema = z.object({
  codeSystem: z.string(),
  snapshotDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  source: z.string().min(1),
  notes: z.string().optional(),
  roles: z.array(roleSchema).min(1),
});

/** ods-roles-DATE.json (refresh-roles since the FHIR API) or ord-roles-DATE.json (from ORD); the newest date wins. */
export const ROLES_SNAPSHOT_PATTERN = /^(?:ods|ord)-roles-(\d{4}-\d{2}-\d{2})\.json$/;

export function rolesSnapshotFileName(date: string): string {
  return `ods-roles-${date}.json`;
}

/** Reads the roles code system from the ORD API 2-0-0 (`{baseUrl}/roles`). */
export async function fetchOrdRoles(baseUrl: string, timeoutMs = 15_000): Promise<OrdRole[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/roles`;
  let response: Response;
  try {
    // Redirects only on ORD's own origin: the roles are read from the configured source or not at all.
    response = await fetchSameOrigin(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new AppError('ODS_UNAVAILABLE', undefined, { cause: error });
  }
  if (!response.ok) throw new AppError('ODS_UNAVAILABLE', `The roles list answered HTTP ${response.status}.`);
  const parsed = rolesResponseSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new AppError('ODS_UNAVAILABLE', 'The roles list was not in the ORD shape ({"Roles": [{id, code, displayName, primaryRole}]}).');
  return [...parsed.data.Roles].sort((a, b) => Number(a.code) - Number(b.code) || a.id.localeCompare(b.id));
}

export async function loadRolesSnapshot(file: string): Promise<OrdRolesSnapshot> {
  const parsed = snapshotSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new AppError('CONFIG_INVALID', `The ORD roles snapshot ${file} is not valid.`);
  return parsed.data;
}

/** The newest dated snapshot in a folder (policy/). */
export async function latestRolesSnapshotFile(folder: string): Promise<string> {
  const dateOf = (name: string) => ROLES_SNAPSHOT_PATTERN.exec(name)?.[1] ?? '';
  const dated = (await readdir(folder))
    .filter((name) => ROLES_SNAPSHOT_PATTERN.test(name))
    .sort((a, b) => dateOf(a).localeCompare(dateOf(b)) || a.localeCompare(b));
  const newest = dated.at(-1);
  if (!newest) throw new AppError('CONFIG_INVALID', `No ORD roles snapshot (ord-roles-YYYY-MM-DD.json) in ${folder}.`);
  return path.join(folder, newest);
}

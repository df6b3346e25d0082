import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { startSandbox, type RecordedRequest, type RunningSandbox, type SandboxResponse } from './http-sandbox';

const odsFileSchema = z.object({
  organisations: z.array(z.looseObject({ Organisation: z.looseObject({ OrgId: z.looseObject({ extension: z.string() }) }) })),
  /** The roles code system as GET /roles answers it: {"Roles": [{id, code, displayName, primaryRole}]}. */
  roles: z.looseObject({ Roles: z.array(z.looseObject({ id: z.string() })) }).optional(),
});
export type SandboxOds = z.infer<typeof odsFileSchema>;

export const ORD_BASE_PATH = '/ORD/2-0-0';

export async function loadSandboxOds(file: string): Promise<SandboxOds> {
  return odsFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** The ORD API 2-0-0's organisation and roles endpoints over the demo data, at ORD_BASE_PATH. */
export function ordRoute(data: SandboxOds): (request: RecordedRequest) => SandboxResponse | undefined {
  const byCode = new Map(data.organisations.map((record) => [record.Organisation.OrgId.extension.toUpperCase(), record]));
  const roles = { Roles: data.roles?.Roles ?? [] };
  const notFound: SandboxResponse = { status: 404, body: { errorCode: 404, errorText: 'Not Found' } };
  const route = (request: RecordedRequest): SandboxResponse | undefined => {
    if (request.method !== 'GET') return undefined;
    if (request.path === `${ORD_BASE_PATH}/roles`) return { status: 200, body: roles };
    const role = new RegExp(`^${ORD_BASE_PATH}/roles/([^/]+)$`).exec(request.path);
    if (role) {
      const found = roles.Roles.filter((entry) => entry.id.toUpperCase() === (role[1] as string).toUpperCase());
      return found.length > 0 ? { status: 200, body: { Roles: found } } : notFound;
    }
    const match = new RegExp(`^${ORD_BASE_PATH}/organisations/([^/]+)$`).exec(request.path);
    if (!match) return undefined;
    const record = byCode.get((match[1] as string).toUpperCase());
    return record ? { status: 200, body: record } : notFound;
  };
  return route;
}

/** A loopback stand-in for the NHS ODS ORD API 2-0-0 alone (refresh-roles, and the ORD path's tests). */
export async function startSandboxOrd(data: SandboxOds, port = 0): Promise<RunningSandbox> {
  return startSandbox(ordRoute(data), port, ORD_BASE_PATH);
}

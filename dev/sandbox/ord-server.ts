import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { startSandbox, type RecordedRequest, type RunningSandbox, type SandboxResponse } from './http-sandbox';

const odsFileSchema = z.object({
  organisations: z.array(z.looseObject({ Organisation: z.looseObject({ OrgId: z.looseObject({ extension: z.string() }) }) })),
});
export type SandboxOds = z.infer<typeof odsFileSchema>;

export const ORD_BASE_PATH = '/ORD/2-0-0';

export async function loadSandboxOds(file: string): Promise<SandboxOds> {
  return odsFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** A loopback stand-in for the NHS ODS ORD API 2-0-0 organisation endpoint. */
export async function startSandboxOrd(data: SandboxOds, port = 0): Promise<RunningSandbox> {
  const byCode = new Map(data.organisations.map((record) => [record.Organisation.OrgId.extension.toUpperCase(), record]));
  const route = (request: RecordedRequest): SandboxResponse | undefined => {
    const match = new RegExp(`^${ORD_BASE_PATH}/organisations/([^/]+)$`).exec(request.path);
    if (request.method !== 'GET' || !match) return undefined;
    const record = byCode.get((match[1] as string).toUpperCase());
    return record ? { status: 200, body: record } : { status: 404, body: { errorCode: 404, errorText: 'Not Found' } };
  };
  return startSandbox(route, port, ORD_BASE_PATH);
}

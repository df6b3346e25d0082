import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../core/errors';

/** The versioned policy file: every list a rule consults is data, not code. */
export const policySchema = z.object({
  version: z.string().min(1),
  notes: z.string().optional(),
  supportedSectors: z.array(z.string().min(1)).min(1),
  sectorNames: z.record(z.string(), z.string()),
  declaredSpecialismAliases: z.record(z.string(), z.string()),
  odsRoleSectors: z.record(z.string(), z.string()),
  genericAccount: z.object({
    strongLocalParts: z.array(z.string().min(1)),
    weakNameWords: z.array(z.string().min(1)),
  }),
  dspt: z.object({
    compliantStatuses: z.array(z.string()),
    reviewStatuses: z.array(z.string()),
  }),
  defaultSiteAllowance: z.number().int().min(0),
});

export type Policy = z.infer<typeof policySchema>;

export async function loadPolicy(file: string): Promise<Policy> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new AppError('CONFIG_INVALID', `The policy file ${file} could not be read as JSON.`);
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new AppError('CONFIG_INVALID', `The policy file ${file} is not valid: ${problems}`);
  }
  return parsed.data;
}

export function sectorName(policy: Policy, sector: string): string {
  return policy.sectorNames[sector] ?? sector;
}

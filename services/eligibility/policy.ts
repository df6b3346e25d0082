import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../core/errors';

const ODS_ROLE_ID = /^RO\d+$/;

/** What a DSPT status can mean; "unrecognised" is any status the policy does not list. */
export const DSPT_STANDINGS = ['exceeded', 'met', 'approaching', 'not-met', 'not-published', 'plan-agreed'] as const;
export type DsptStanding = (typeof DSPT_STANDINGS)[number] | 'unrecognised';

/** The versioned policy file: every list a rule consults is data, not code. */
export const policySchema = z.object({
  version: z.string().min(1),
  notes: z.union([z.string(), z.array(z.string())]).optional(),
  supportedSectors: z.array(z.string().min(1)).min(1),
  sectorNames: z.record(z.string(), z.string()),
  declaredSpecialismAliases: z.record(z.string(), z.string()),
  /** ORD role id to sector; roleName is the role's display name in the ORD roles code system (checked by a test). */
  odsRoleSectors: z.record(z.string().regex(ODS_ROLE_ID), z.object({ roleName: z.string().min(1), sector: z.string().min(1) })),
  genericAccount: z.object({
    strongLocalParts: z.array(z.string().min(1)),
    weakNameWords: z.array(z.string().min(1)),
  }),
  directPatientCare: z.object({
    nonPatientFacingKeywords: z.array(z.string().min(1)).min(1),
  }),
  optometryMultiples: z.object({
    headquartersRoleIds: z.array(z.string().regex(ODS_ROLE_ID)).min(1),
    /** Relationship types from a site to its headquarters (FHIR does not say the target's role, so the target is read). */
    headquartersRelationships: z.array(z.string().regex(/^RE\d+$/)).min(1),
    multiples: z.array(z.object({ name: z.string().min(1), nameWords: z.array(z.string().min(1)), odsCodes: z.array(z.string()) })),
  }),
  centrallyFundedEmail: z.object({
    domains: z.array(z.string().min(3)).min(1),
  }),
  dspt: z.object({
    source: z.string().min(1),
    /** Status words (without the year, any case) to what they mean for the rule. */
    statuses: z.record(z.string(), z.enum(DSPT_STANDINGS)),
    /** Sectors where a current Approaching Standards is enough. */
    approachingAcceptedSectors: z.array(z.string().min(1)),
    primarySectorsNote: z.string().optional(),
    /** The export's Primary Sector (lower case) to a sector, for a site ODS gives none. */
    primarySectors: z.record(z.string(), z.string().min(1)).default({}),
    /** A status for DSPT year S/S+1 is current until this day and month of year S + yearsAfterStart, inclusive. */
    currentUntil: z.object({ yearsAfterStart: z.number().int().min(1), month: z.number().int().min(1).max(12), day: z.number().int().min(1).max(31) }),
  }),
  defaultSiteAllowance: z.number().int().min(0),
  /** ODS codes NAS-administered accounts carry in the administering-organisation attribute: an account showing one has moved to NAS. */
  nasOrganisations: z.object({ placeholder: z.boolean(), odsCodes: z.array(z.string().trim().min(1).toUpperCase()) }).optional(),
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
  const unnamed = Object.values(parsed.data.odsRoleSectors)
    .map((entry) => entry.sector)
    .concat(Object.values(parsed.data.dspt.primarySectors))
    .concat(parsed.data.supportedSectors)
    .filter((sector) => !(sector in parsed.data.sectorNames));
  if (unnamed.length > 0) throw new AppError('CONFIG_INVALID', `The policy file ${file} has sectors without a name: ${[...new Set(unnamed)].join(', ')}`);
  return parsed.data;
}

export function sectorName(policy: Policy, sector: string): string {
  return policy.sectorNames[sector] ?? sector;
}

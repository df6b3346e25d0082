import { z } from 'zod';
import { AppError } from '../../core/errors';
import type { OdsSite } from '../eligibility/types';

/** The parts of an ORD API 2-0-0 organisation record that the rules read. */
const ordOrganisationSchema = z.object({
  Organisation: z.object({
    Name: z.string(),
    Status: z.string(),
    OrgId: z.object({ extension: z.string() }),
    Roles: z.object({
      Role: z.array(z.object({ id: z.string(), primaryRole: z.boolean().optional(), Status: z.string().optional() })),
    }),
    Rels: z
      .object({
        Rel: z.array(
          z.object({
            id: z.string(),
            Status: z.string().optional(),
            Target: z.object({ OrgId: z.object({ extension: z.string() }), PrimaryRoleId: z.object({ id: z.string() }).optional() }),
          }),
        ),
      })
      .optional(),
  }),
});

export interface OrganisationLookup {
  getOrganisation(odsCode: string): Promise<OdsSite | null>;
}

export class OrdClient implements OrganisationLookup {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async getOrganisation(odsCode: string): Promise<OdsSite | null> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/organisations/${encodeURIComponent(odsCode)}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new AppError('ODS_UNAVAILABLE', undefined, { cause: error });
    }
    if (response.status === 404) return null;
    if (!response.ok) throw new AppError('ODS_UNAVAILABLE');
    const parsed = ordOrganisationSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new AppError('ODS_UNAVAILABLE');
    const organisation = parsed.data.Organisation;
    const activeRoles = organisation.Roles.Role.filter((role) => (role.Status ?? 'Active') === 'Active');
    // Primary role first: it is the organisation's type; others only refine it.
    activeRoles.sort((a, b) => Number(b.primaryRole ?? false) - Number(a.primaryRole ?? false));
    return {
      odsCode: organisation.OrgId.extension.toUpperCase(),
      name: organisation.Name,
      active: organisation.Status === 'Active',
      roleIds: activeRoles.map((role) => role.id),
      links: (organisation.Rels?.Rel ?? [])
        .filter((rel) => (rel.Status ?? 'Active') === 'Active')
        .map((rel) => ({
          relationship: rel.id,
          targetOds: rel.Target.OrgId.extension.toUpperCase(),
          ...(rel.Target.PrimaryRoleId ? { targetPrimaryRoleId: rel.Target.PrimaryRoleId.id } : {}),
        })),
    };
  }
}

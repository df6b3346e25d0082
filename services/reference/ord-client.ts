import { z } from 'zod';
import { AppError } from '../../core/errors';
import type { OdsLink, OdsSite } from '../eligibility/types';
import { OdsHttp, type OdsHttpOptions } from './ods-http';
import { hostOf, type SourceStatus } from './source-status';

/** The parts of an ORD API 2-0-0 organisation record that the rules read. */
const ordOrganisationSchema = z.object({
  Organisation: z.object({
    Name: z.string(),
    Status: z.string(),
    LastChangeDate: z.string().optional(),
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

/**
 * The port every ODS client implements (the FHIR R4 API by default, ORD as the alternative).
 * Screening reads each organisation once per run through it.
 */
export interface OrganisationLookup {
  /** null: ODS has no organisation with this code. */
  getOrganisation(odsCode: string): Promise<OdsSite | null>;
  /** Active relationships from the organisation to others ([] for none); throws when they cannot be read whole. */
  getRelationships(odsCode: string): Promise<OdsLink[]>;
  /** Where it reads from and how it has fared, for the ops command `sources`. */
  status(): SourceStatus;
}

export class OrdClient implements OrganisationLookup {
  private readonly http: OdsHttp;
  private readonly base: string;

  constructor(baseUrl: string, options: OdsHttpOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.http = new OdsHttp({ accept: 'application/json' }, options);
  }

  get requestCount(): number {
    return this.http.requestCount;
  }

  status(): SourceStatus {
    return this.http.status('ODS', 'ORD API 2-0-0', hostOf(this.base));
  }

  async getOrganisation(odsCode: string): Promise<OdsSite | null> {
    const answer = await this.http.get(`${this.base}/organisations/${encodeURIComponent(odsCode)}`);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw this.http.failure(new AppError('ODS_UNAVAILABLE', `ODS answered HTTP ${answer.status}.`));
    const parsed = ordOrganisationSchema.safeParse(answer.body);
    if (!parsed.success) throw this.http.failure(new AppError('ODS_UNAVAILABLE', 'ODS answered with an organisation record the bot could not read.'));
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
      ...(organisation.LastChangeDate ? { lastChanged: organisation.LastChangeDate.slice(0, 10) } : {}),
    };
  }

  /** ORD gives relationships inside the record: screening never needs this, but the port offers it. */
  async getRelationships(odsCode: string): Promise<OdsLink[]> {
    return (await this.getOrganisation(odsCode))?.links ?? [];
  }
}

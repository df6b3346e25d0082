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

const ordNotFoundSchema = z.looseObject({ errorCode: z.literal(404) });

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
    if (answer.status === 404) return this.notFound(answer.body);
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
      // A record without Rels gives no links, rather than "none": screening then asks
      // getRelationships, which says the relationships could not be read.
      ...(organisation.Rels
        ? {
            links: organisation.Rels.Rel.filter((rel) => (rel.Status ?? 'Active') === 'Active').map((rel) => ({
              relationship: rel.id,
              targetOds: rel.Target.OrgId.extension.toUpperCase(),
              ...(rel.Target.PrimaryRoleId ? { targetPrimaryRoleId: rel.Target.PrimaryRoleId.id } : {}),
            })),
          }
        : {}),
      ...(organisation.LastChangeDate ? { lastChanged: organisation.LastChangeDate.slice(0, 10) } : {}),
    };
  }

  /**
   * ORD gives relationships inside the record. One without Rels cannot show that an optical site
   * has no headquarters (the link that would make it part of a multiple may simply be missing),
   * so it is "could not check", never an empty list.
   */
  async getRelationships(odsCode: string): Promise<OdsLink[]> {
    const organisation = await this.getOrganisation(odsCode);
    if (!organisation) return [];
    if (organisation.links === undefined) {
      throw this.http.failure(
        new AppError(
          'ODS_UNAVAILABLE',
          `ODS's record of ${odsCode.toUpperCase()} gives no relationships (no Rels), so whether it is part of a multiple could not be checked.`,
        ),
      );
    }
    return organisation.links;
  }

  /**
   * A 404 is "no such organisation" only with the ORD API's own JSON error body
   * ({"errorCode": 404, "errorText": "Not Found"}, as the sandbox gives it); anything else, such
   * as a web server's HTML page for a wrong base URL, is a setting to fix, not every site closed.
   */
  private notFound(body: unknown): null {
    if (ordNotFoundSchema.safeParse(body).success) return null;
    throw this.http.failure(new AppError('ODS_MISCONFIGURED', 'ODS answered HTTP 404 without the ORD API error body: check ODS_BASE_URL.'));
  }
}

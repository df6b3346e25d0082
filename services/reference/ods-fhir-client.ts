import { z } from 'zod';
import { AppError } from '../../core/errors';
import type { OdsLink, OdsSite } from '../eligibility/types';
import { OdsHttp, type OdsHttpOptions } from './ods-http';
import type { OrganisationLookup } from './ord-client';
import { hostOf, type SourceStatus } from './source-status';

/*
 * The NHS Organisation Data Terminology FHIR R4 API, built to the shapes of its official
 * OpenAPI specification: NHSDigital/organisation-data-terminology-api,
 * specification/organisation-data-terminology-api.yaml at commit
 * 659e4648d45f10997d551949dac0edc44e943ceb (operations get-single-organization and
 * get-organizationAffiliation-resources, and their examples).
 */

export const ORGANISATION_ROLE_EXTENSION = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-OrganisationRole';
export const TYPED_PERIOD_EXTENSION = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-TypedPeriod';
export const TYPED_DATE_TIME_EXTENSION = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-TypedDateTime';
export const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const ODS_ROLE_SYSTEM = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole';
export const ODS_RELATIONSHIP_SYSTEM = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSRelationship';

interface Extension {
  url: string;
  extension?: Extension[];
  valueBoolean?: boolean;
  valueCodeableConcept?: { coding?: Array<{ system?: string; code?: string }> };
  valueCoding?: { system?: string; code?: string };
  valuePeriod?: { start?: string; end?: string };
  valueDateTime?: string;
}

const codingSchema = z.looseObject({ system: z.string().optional(), code: z.string().optional() });
const extensionSchema: z.ZodType<Extension> = z.lazy(() =>
  z.looseObject({
    url: z.string(),
    extension: z.array(extensionSchema).optional(),
    valueBoolean: z.boolean().optional(),
    valueCodeableConcept: z.looseObject({ coding: z.array(codingSchema).optional() }).optional(),
    valueCoding: codingSchema.optional(),
    valuePeriod: z.looseObject({ start: z.string().optional(), end: z.string().optional() }).optional(),
    valueDateTime: z.string().optional(),
  }),
);
const identifierSchema = z.looseObject({ system: z.string().optional(), value: z.string().optional() });
const referenceSchema = z.looseObject({ reference: z.string().optional(), identifier: identifierSchema.optional() });

const organizationSchema = z.looseObject({
  resourceType: z.literal('Organization'),
  id: z.string(),
  meta: z.looseObject({ lastUpdated: z.string().optional() }).optional(),
  identifier: z.array(identifierSchema).optional(),
  // 0..1 in the England-Organization-ODS profile: read from the roles when absent (toSite).
  active: z.boolean().optional(),
  name: z.string(),
  extension: z.array(extensionSchema).optional(),
});

const affiliationSchema = z.looseObject({
  resourceType: z.literal('OrganizationAffiliation'),
  active: z.boolean().optional(),
  organization: referenceSchema.optional(),
  participatingOrganization: referenceSchema.optional(),
  code: z.array(z.looseObject({ coding: z.array(codingSchema).optional() })).optional(),
});

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  total: z.number().int().nonnegative().optional(),
  link: z.array(z.looseObject({ relation: z.string(), url: z.string() })).optional(),
  entry: z
    .array(
      z.looseObject({
        resource: z.looseObject({ resourceType: z.string() }).optional(),
        search: z.looseObject({ mode: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});
type BundleEntry = NonNullable<z.infer<typeof bundleSchema>['entry']>[number];

const operationOutcomeSchema = z.looseObject({ resourceType: z.literal('OperationOutcome') });

/*
 * Relationship paging. The specification recommends _count=1000 with _offset paging, and
 * refuses any search of more than 50,000 results: 50 pages of 1,000 is the most a real list can
 * need (a site has a handful). A list that runs on past that is not read whole, and says so.
 */
export const RELATIONSHIP_PAGE_SIZE = 1000;
export const RELATIONSHIP_MAX_PAGES = 50;
const PAGE_SIZE = RELATIONSHIP_PAGE_SIZE;
const MAX_PAGES = RELATIONSHIP_MAX_PAGES;

export interface OdsFhirOptions extends OdsHttpOptions {
  /**
   * Roles the ODSOrganisationRole CodeSystem marks primary (an Organization does not say which of
   * its roles is primary): a fixed set, or a source read again as the CodeSystem changes.
   */
  primaryRoleIds?: ReadonlySet<string> | { current(): ReadonlySet<string> };
}

export class OdsFhirClient implements OrganisationLookup {
  private readonly http: OdsHttp;
  private readonly base: string;
  private readonly primaryRoles: { current(): ReadonlySet<string> };
  private readonly today: () => string;

  constructor(baseUrl: string, apiKey: string | undefined, options: OdsFhirOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    // The key goes in the apikey header only: never in a URL, a log or an error.
    this.http = new OdsHttp({ accept: 'application/fhir+json', ...(apiKey ? { apikey: apiKey } : {}) }, options);
    const primary = options.primaryRoleIds ?? new Set<string>();
    this.primaryRoles = 'current' in primary ? primary : { current: () => primary };
    const now = options.now ?? (() => new Date());
    this.today = () => now().toISOString().slice(0, 10);
  }

  get requestCount(): number {
    return this.http.requestCount;
  }

  status(): SourceStatus {
    return this.http.status('ODS', 'ODS FHIR R4 API', hostOf(this.base));
  }

  async getOrganisation(odsCode: string): Promise<OdsSite | null> {
    // ODS codes are upper case; a code typed in lower case is the same organisation.
    const answer = await this.http.get(`${this.base}/Organization/${encodeURIComponent(odsCode.trim().toUpperCase())}`);
    if (answer.status === 404) return this.notFound(answer.body);
    if (answer.status !== 200) throw this.http.failure(new AppError('ODS_UNAVAILABLE', `ODS answered HTTP ${answer.status}.`));
    const parsed = organizationSchema.safeParse(answer.body);
    if (!parsed.success) throw this.http.failure(new AppError('ODS_UNAVAILABLE', 'ODS answered with an organisation record the bot could not read.'));
    const site = this.toSite(parsed.data);
    // Another organisation's record in answer to this code (a cache or proxy gone wrong) would
    // give its sector, status and relationships to the wrong site: the read fails instead.
    if (site.odsCode !== odsCode.trim().toUpperCase()) {
      throw this.http.failure(
        new AppError(
          'ODS_UNAVAILABLE',
          `ODS answered the look-up of ${odsCode.trim().toUpperCase()} with the record of another organisation, so it was not used.`,
        ),
      );
    }
    return site;
  }

  /**
   * Every relationship the site holds as the primary organisation, read whole or not at all: a
   * list read only in part could hide the RE6 link that makes an optical site part of a
   * multiple, so any page that cannot be read, followed or trusted fails the read (ODS_UNAVAILABLE,
   * the screening is retried and never yields "eligible").
   */
  async getRelationships(odsCode: string): Promise<OdsLink[]> {
    const code = odsCode.trim().toUpperCase();
    const links: OdsLink[] = [];
    const seen = new Set<string>();
    let affiliationsRead = 0;
    let total: number | undefined;
    // Written as URL.href, like every next link, so a loop back to the first page is seen as one.
    let url: string | undefined = new URL(
      `${this.base}/OrganizationAffiliation?primary-organization=${encodeURIComponent(code)}&active=true&_count=${PAGE_SIZE}`,
    ).href;
    while (url) {
      if (seen.has(url)) throw this.incomplete(code, 'its pages lead back to a page already read');
      if (seen.size >= MAX_PAGES) throw this.incomplete(code, `it runs to more than ${MAX_PAGES} pages of ${PAGE_SIZE}, the most the bot reads`);
      seen.add(url);
      const answer = await this.http.get(url);
      // The specification's search answers 200 with the relationships "that match the search
      // criteria (which may be 0)": a 404 is not "none" (the site's own record was just read),
      // so it fails the read like any other failed page.
      if (answer.status === 404) {
        this.notFound(answer.body);
        throw this.incomplete(code, 'ODS answered the search HTTP 404');
      }
      const bundle = answer.status === 200 ? bundleSchema.safeParse(answer.body) : undefined;
      if (!bundle?.success) throw this.http.failure(new AppError('ODS_UNAVAILABLE', 'ODS answered a relationship search the bot could not read.'));
      total ??= bundle.data.total;
      let matches = 0;
      for (const entry of bundle.data.entry ?? []) {
        const read = readAffiliation(entry);
        if (read === 'unreadable') throw this.incomplete(code, 'one of its entries is not a relationship the bot can read');
        if (read === 'truncated') throw this.incomplete(code, 'ODS says the search was cut short');
        if (read === 'other') continue;
        matches++;
        // The search asks for this site's relationships as primary organisation: one that names
        // another organisation, or none the bot can read, is an answer that cannot be trusted.
        if (read.source !== code) throw this.incomplete(code, 'one of its relationships does not name the site as its organisation');
        if (read.active) links.push({ relationship: read.relationship, targetOds: read.target });
      }
      affiliationsRead += matches;
      const nexts = nextLinks(bundle.data.link ?? []);
      if (nexts.length > 1) throw this.incomplete(code, 'it names more than one next page');
      const next = nexts[0];
      url = next === undefined ? undefined : this.sameApi(next, url, code);
    }
    // Without a total, a list whose last page lost its next link looks complete: the count is
    // asked for instead, as the specification offers it (_summary=count: "Return a count of the
    // matching resources, without returning the actual matches").
    total ??= await this.count(code);
    if (total !== affiliationsRead) throw this.incomplete(code, `ODS counted ${total} but listed ${affiliationsRead}`);
    return links;
  }

  /** How many relationships the search matches, by _summary=count; a list that cannot be counted is not used. */
  private async count(code: string): Promise<number> {
    const answer = await this.http.get(`${this.base}/OrganizationAffiliation?primary-organization=${encodeURIComponent(code)}&active=true&_summary=count`);
    const bundle = answer.status === 200 ? bundleSchema.safeParse(answer.body) : undefined;
    const total = bundle?.success ? bundle.data.total : undefined;
    if (total === undefined) throw this.incomplete(code, 'ODS gave no count of it, in the list or when asked');
    return total;
  }

  /** A relationship list that could not be read whole: "could not check", never an empty or partial answer. */
  private incomplete(code: string, why: string): AppError {
    return this.http.failure(new AppError('ODS_UNAVAILABLE', `ODS's list of relationships for ${code} could not be read whole (${why}), so it was not used.`));
  }

  private unreadableRoles(code: string, why: string): AppError {
    return this.http.failure(
      new AppError('ODS_UNAVAILABLE', `ODS's record of ${code} does not say what kind of organisation it is (${why}), so it was not used.`),
    );
  }

  /** A 404 is "no such organisation" only when ODS says so in an OperationOutcome; otherwise the URL is wrong. */
  private notFound(body: unknown): null {
    if (operationOutcomeSchema.safeParse(body).success) return null;
    throw this.http.failure(new AppError('ODS_MISCONFIGURED', 'ODS answered HTTP 404 without an OperationOutcome: check ODS_FHIR_BASE_URL.'));
  }

  /**
   * The next page, resolved against the page it came from. Only the API's own origin is asked,
   * so the key never goes anywhere else; a link elsewhere fails the read rather than ending it.
   */
  private sameApi(next: string, current: string, code: string): string {
    let resolved: URL;
    try {
      resolved = new URL(next, current);
    } catch {
      throw this.incomplete(code, 'its next page link is not a URL');
    }
    if (resolved.origin !== new URL(this.base).origin) throw this.incomplete(code, `its next page is on another host (${resolved.host})`);
    return resolved.href;
  }

  private toSite(organisation: z.infer<typeof organizationSchema>): OdsSite {
    const today = this.today();
    const roles = (organisation.extension ?? [])
      .filter((extension) => extension.url === ORGANISATION_ROLE_EXTENSION)
      .map((extension) => readRole(extension, today));
    const code = (organisation.identifier?.find((identifier) => identifier.system === ODS_CODE_SYSTEM)?.value ?? organisation.id).toUpperCase();
    // Every ODS organisation holds a primary role (the spec's example RR8 gives its roles as
    // OrganisationRole extensions, each with a roleCode). A record without them, or with a role
    // the bot cannot name, would leave the site's sector to weaker sources and skip the checks
    // that hang on it (an optical site's multiple): "could not check", never "no sector".
    if (roles.length === 0) throw this.unreadableRoles(code, 'it lists no organisation roles');
    if (roles.some((role) => role.code === undefined)) throw this.unreadableRoles(code, 'one of its roles has no role code');
    const active = roles.filter((role): role is { code: string; active: true } => role.code !== undefined && role.active);
    // ODS marks it active, yet no role of it is active today: the two disagree, so neither is used.
    if (organisation.active === true && active.length === 0) throw this.unreadableRoles(code, 'it is marked active but none of its roles is active today');
    // Stable sort: primary roles first, then the order ODS gives.
    const primary = this.primaryRoles.current();
    const ordered = active.map((role) => role.code).sort((a, b) => Number(primary.has(b)) - Number(primary.has(a)));
    const lastChanged = lastChangeDate(organisation.extension ?? []) ?? organisation.meta?.lastUpdated?.slice(0, 10);
    return {
      odsCode: code,
      name: organisation.name,
      // Without the flag, an organisation is open while it holds a role that is active today:
      // one whose roles have all ended or been marked inactive is closed, never assumed open.
      active: organisation.active ?? active.length > 0,
      roleIds: [...new Set(ordered)],
      ...(lastChanged ? { lastChanged } : {}),
    };
  }
}

function sub(extension: Extension, url: string): Extension[] {
  return (extension.extension ?? []).filter((inner) => inner.url === url);
}

/**
 * A role counts when ODS marks it active and today falls in its operational period (or its
 * legal one when no operational period is given): an ended role never gives the sector.
 */
function readRole(extension: Extension, today: string): { code?: string; active: boolean } {
  const coding = sub(extension, 'roleCode')[0]?.valueCodeableConcept?.coding ?? [];
  // Only a code in the ODSOrganisationRole system names a role (as the spec's example codes it):
  // "RO182" in another system is not known to mean a pharmacy, so it is no role code at all.
  const code = coding.find((entry) => entry.system === ODS_ROLE_SYSTEM)?.code?.toUpperCase();
  const flagged = sub(extension, 'active')[0]?.valueBoolean;
  const periods = sub(extension, TYPED_PERIOD_EXTENSION).map((typed) => ({
    type: sub(typed, 'dateType')[0]?.valueCoding?.code,
    period: sub(typed, 'period')[0]?.valuePeriod,
  }));
  const period = (periods.find((entry) => entry.type === 'Operational') ?? periods.find((entry) => entry.type === 'Legal'))?.period;
  const started = !period?.start || period.start.slice(0, 10) <= today;
  const notEnded = !period?.end || period.end.slice(0, 10) >= today;
  return { code, active: flagged !== false && started && notEnded && (flagged === true || period !== undefined) };
}

function lastChangeDate(extensions: readonly Extension[]): string | undefined {
  for (const extension of extensions) {
    if (extension.url !== TYPED_DATE_TIME_EXTENSION) continue;
    if (sub(extension, 'type')[0]?.valueCoding?.code !== 'LastChangeDate') continue;
    return sub(extension, 'dateTime')[0]?.valueDateTime?.slice(0, 10);
  }
  return undefined;
}

/**
 * One search entry: a relationship, something else the search may carry (an included resource
 * that is not a relationship, an informational OperationOutcome), unreadable (a relationship
 * without its two organisations and its type, one not marked a match, a match that is not a
 * relationship, an entry without a resource, or an OperationOutcome error), or word that the
 * search was cut short.
 */
function readAffiliation(
  entry: BundleEntry,
): { active: boolean; source: string | undefined; target: string; relationship: string } | 'other' | 'unreadable' | 'truncated' {
  const resource = entry.resource;
  if (!resource) return 'unreadable';
  if (resource.resourceType === 'OperationOutcome') {
    const issues = (resource as { issue?: Array<{ severity?: unknown; code?: unknown }> }).issue ?? [];
    // FHIR R4 IssueType: "incomplete", "too-costly" and "throttled" say the search stopped short,
    // whatever their severity (a server may mark a cut-short search as only a warning).
    if (issues.some((issue) => typeof issue.code === 'string' && TRUNCATION_ISSUES.has(issue.code))) return 'truncated';
    return issues.some((issue) => issue.severity === 'error' || issue.severity === 'fatal') ? 'unreadable' : 'other';
  }
  // FHIR R4 Bundle.entry.search.mode: the bot asks for no _include, so a relationship marked
  // anything but a match, or a match that is not a relationship, is an answer the bot cannot
  // place, and could hide one it needs. Other resources not marked a match are passed over.
  const mode = entry.search?.mode;
  if (resource.resourceType !== 'OrganizationAffiliation') return mode === 'match' ? 'unreadable' : 'other';
  if (mode !== undefined && mode !== 'match') return 'unreadable';
  const affiliation = affiliationSchema.safeParse(resource);
  if (!affiliation.success) return 'unreadable';
  const target = organisationCode(affiliation.data.participatingOrganization);
  const relationship = relationshipCode(affiliation.data.code);
  if (!target || !relationship) return 'unreadable';
  return { active: affiliation.data.active !== false, source: organisationCode(affiliation.data.organization), target, relationship };
}

const TRUNCATION_ISSUES = new Set(['incomplete', 'too-costly', 'throttled']);

/**
 * The ODS code a reference names, or undefined when it names none the bot can read. The
 * specification's examples (get-organizationAffiliation-resources) give both a relative
 * reference "Organization/<code>" and an identifier in the ods-organization-code system; FHIR
 * R4's Reference datatype (references.html: reference and identifier, each 0..1) also allows
 * either alone. The identifier decides when present; a
 * relative reference is read when it is alone, and must agree with the identifier when both are
 * given. Any other form (an absolute URL alone, a code with spaces, another identifier system)
 * is not read: the caller fails the list rather than guess.
 */
function organisationCode(reference: z.infer<typeof referenceSchema> | undefined): string | undefined {
  const identifier = reference?.identifier;
  if (identifier && identifier.system !== undefined && identifier.system !== ODS_CODE_SYSTEM) return undefined;
  const fromIdentifier = identifier?.value;
  const fromReference = /^Organization\/([^/]+)$/.exec(reference?.reference ?? '')?.[1];
  const value = fromIdentifier ?? fromReference;
  if (value === undefined || !ODS_CODE.test(value)) return undefined;
  if (fromIdentifier !== undefined && fromReference !== undefined && fromReference.toUpperCase() !== fromIdentifier.toUpperCase()) return undefined;
  return value.toUpperCase();
}

/** ODS codes are letters and digits only: a value with spaces or punctuation is not one. */
const ODS_CODE = /^[A-Za-z0-9]+$/;

/**
 * The next page's link. RFC 8288 (section 2.1.1) compares relation types case-insensitively, so
 * "Next" is a next page too; two different next pages leave the list's end unknown.
 */
function nextLinks(links: ReadonlyArray<{ relation: string; url: string }>): string[] {
  return [...new Set(links.filter((link) => link.relation.trim().toLowerCase().split(/\s+/).includes('next')).map((link) => link.url))];
}

function relationshipCode(codes: z.infer<typeof affiliationSchema>['code']): string | undefined {
  const codings = (codes ?? []).flatMap((concept) => concept.coding ?? []);
  // As for roles: only the ODSRelationship system says what "RE6" means.
  return codings.find((coding) => coding.system === ODS_RELATIONSHIP_SYSTEM)?.code?.toUpperCase();
}

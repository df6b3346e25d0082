import { z } from 'zod';
import { startSandbox, type RecordedRequest, type RunningSandbox, type SandboxResponse } from './http-sandbox';
import { ordRoute, type SandboxOds } from './ord-server';

/*
 * A loopback stand-in for the NHS Organisation Data Terminology FHIR R4 API, serving the
 * shapes of its official OpenAPI specification (NHSDigital/organisation-data-terminology-api,
 * specification/organisation-data-terminology-api.yaml at commit
 * 659e4648d45f10997d551949dac0edc44e943ceb): Organization/{id} and OrganizationAffiliation
 * searches, with OperationOutcome errors. It serves the ORD API 2-0-0 from the same demo
 * records (dev/demo-ods.json, in the ORD shape), so both ODS clients see the same organisations.
 */

export const FHIR_BASE_PATH = '/organisation-data-terminology-api/fhir';

const ROLE_EXTENSION = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-OrganisationRole';
const TYPED_PERIOD = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-TypedPeriod';
const TYPED_DATE_TIME = 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-TypedDateTime';
const PERIOD_TYPE_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-PeriodType';
const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const ROLE_SYSTEM = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole';
const RELATIONSHIP_SYSTEM = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSRelationship';
const RELATIONSHIP_NAMES: Record<string, string> = { RE4: 'IS COMMISSIONED BY', RE5: 'IS LOCATED IN THE GEOGRAPHY OF', RE6: 'IS OPERATED BY' };

const datesSchema = z.array(z.object({ Type: z.string(), Start: z.string().optional(), End: z.string().optional() })).optional();
const ordRecordSchema = z.object({
  Organisation: z.object({
    Name: z.string(),
    Status: z.string(),
    LastChangeDate: z.string().optional(),
    OrgId: z.object({ extension: z.string() }),
    orgRecordClass: z.string().optional(),
    Roles: z.object({ Role: z.array(z.object({ id: z.string(), uniqueRoleId: z.number().optional(), Status: z.string().optional(), Date: datesSchema })) }),
    Rels: z
      .object({
        Rel: z.array(
          z.object({ id: z.string(), Status: z.string().optional(), Date: datesSchema, Target: z.object({ OrgId: z.object({ extension: z.string() }) }) }),
        ),
      })
      .optional(),
  }),
});
type OrdRecord = z.infer<typeof ordRecordSchema>['Organisation'];

export interface SandboxOdsServer extends RunningSandbox {
  /** The FHIR R4 API's base URL (what ODS_FHIR_BASE_URL would be). */
  fhirUrl: string;
  /** The ORD API 2-0-0's base URL (what ODS_BASE_URL would be). */
  ordUrl: string;
  /** The next `count` FHIR requests answer 429 with this Retry-After (seconds). */
  throttleNext(count: number, retryAfterSeconds?: number): void;
}

export interface SandboxOdsOptions {
  /** When set, FHIR requests without this key in the apikey header answer 401, as the API platform does. */
  apiKey?: string;
  port?: number;
  /** The ODSOrganisationRole CodeSystem's version (a date, as ODS names its versions). */
  rolesVersion?: string;
}

const outcome = (status: number, code: string, diagnostics: string): SandboxResponse => ({
  status,
  headers: { 'content-type': 'application/fhir+json' },
  body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] },
});

function typedPeriods(dates: z.infer<typeof datesSchema>) {
  return (dates ?? []).map((date) => ({
    url: TYPED_PERIOD,
    extension: [
      { url: 'dateType', valueCoding: { system: PERIOD_TYPE_SYSTEM, code: date.Type, display: date.Type } },
      { url: 'period', valuePeriod: { ...(date.Start ? { start: date.Start } : {}), ...(date.End ? { end: date.End } : {}) } },
    ],
  }));
}

function toOrganization(record: OrdRecord, roleNames: Map<string, string>) {
  const code = record.OrgId.extension.toUpperCase();
  return {
    resourceType: 'Organization',
    id: code,
    meta: {
      versionId: '1',
      ...(record.LastChangeDate ? { lastUpdated: `${record.LastChangeDate}T02:00:00.000+00:00` } : {}),
      profile: ['https://fhir.nhs.uk/England/StructureDefinition/England-Organization-ODS', 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization'],
    },
    extension: [
      ...record.Roles.Role.map((role, index) => ({
        url: ROLE_EXTENSION,
        extension: [
          { url: 'instanceID', valueInteger: role.uniqueRoleId ?? index + 1 },
          { url: 'roleCode', valueCodeableConcept: { coding: [{ system: ROLE_SYSTEM, code: role.id, display: roleNames.get(role.id) ?? role.id }] } },
          ...typedPeriods(role.Date),
          { url: 'active', valueBoolean: (role.Status ?? 'Active') === 'Active' },
        ],
      })),
      ...(record.LastChangeDate
        ? [
            {
              url: TYPED_DATE_TIME,
              extension: [
                {
                  url: 'type',
                  valueCoding: { system: 'https://fhir.nhs.uk/England/CodeSystem/England-ODSDateTime', code: 'LastChangeDate', display: 'Last Change Date' },
                },
                { url: 'dateTime', valueDateTime: record.LastChangeDate },
              ],
            },
          ]
        : []),
    ],
    identifier: [{ use: 'official', system: ODS_CODE_SYSTEM, value: code, assigner: { display: 'HSCIC' } }],
    active: record.Status === 'Active',
    type: [
      { coding: [{ system: 'https://fhir.nhs.uk/England/CodeSystem/England-ODSRecordUseType', code: 'Full', display: 'Full' }] },
      { coding: [{ system: 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSRecordClass', code: record.orgRecordClass ?? 'RC1' }] },
    ],
    name: record.Name,
  };
}

function toAffiliations(record: OrdRecord) {
  const code = record.OrgId.extension.toUpperCase();
  return (record.Rels?.Rel ?? []).map((rel, index) => {
    const target = rel.Target.OrgId.extension.toUpperCase();
    const operational = rel.Date?.find((date) => date.Type === 'Operational');
    return {
      resourceType: 'OrganizationAffiliation',
      id: `${code}-${index + 1}`,
      meta: { versionId: '1', profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-OrganizationAffiliation'] },
      extension: typedPeriods(rel.Date),
      active: (rel.Status ?? 'Active') === 'Active',
      ...(operational ? { period: { ...(operational.Start ? { start: operational.Start } : {}), ...(operational.End ? { end: operational.End } : {}) } } : {}),
      organization: { reference: `Organization/${code}`, identifier: { system: ODS_CODE_SYSTEM, value: code } },
      participatingOrganization: { reference: `Organization/${target}`, identifier: { system: ODS_CODE_SYSTEM, value: target } },
      code: [{ coding: [{ system: RELATIONSHIP_SYSTEM, code: rel.id, display: RELATIONSHIP_NAMES[rel.id] ?? rel.id }] }],
    };
  });
}

/** The demo roles (ORD shape) as the ODSOrganisationRole CodeSystem: a FHIR R4 CodeSystem with the primaryRole property. */
function toRoleCodeSystem(data: SandboxOds, version: string) {
  return {
    resourceType: 'CodeSystem',
    id: `ODSOrganisationRole-${version}`,
    url: ROLE_SYSTEM,
    version,
    name: 'ODSOrganisationRole',
    status: 'active',
    date: version,
    content: 'complete',
    property: [{ code: 'primaryRole', type: 'boolean' }],
    concept: (data.roles?.Roles ?? []).map((role) => {
      const ord = role as { id: string; displayName?: unknown; primaryRole?: unknown };
      return {
        code: ord.id,
        display: String(ord.displayName ?? ord.id),
        property: [{ code: 'primaryRole', valueBoolean: ord.primaryRole === true || ord.primaryRole === 'true' }],
      };
    }),
  };
}

/** The sandbox ODS server: the FHIR R4 API at FHIR_BASE_PATH and the ORD API at ORD_BASE_PATH, from the same records. */
export async function startSandboxOds(data: SandboxOds, options: SandboxOdsOptions = {}): Promise<SandboxOdsServer> {
  const records = data.organisations.map((raw) => ordRecordSchema.parse(raw).Organisation);
  const roleNames = new Map((data.roles?.Roles ?? []).map((role) => [role.id, String((role as { displayName?: unknown }).displayName ?? role.id)]));
  const organisations = new Map(records.map((record) => [record.OrgId.extension.toUpperCase(), toOrganization(record, roleNames)]));
  const affiliations = records.flatMap(toAffiliations);
  const roleCodeSystem = toRoleCodeSystem(data, options.rolesVersion ?? '2026-11-30');
  const ord = ordRoute(data);
  let throttleRemaining = 0;
  let throttleSeconds = 0;
  let origin = '';

  const fhir = (request: RecordedRequest): SandboxResponse | undefined => {
    const path = request.path.slice(FHIR_BASE_PATH.length);
    if (options.apiKey !== undefined && request.headers.apikey !== options.apiKey) return outcome(401, 'forbidden', 'Invalid API Key');
    if (throttleRemaining > 0) {
      throttleRemaining--;
      return {
        ...outcome(429, 'throttled', "You have exceeded your application's rate limit"),
        headers: { 'content-type': 'application/fhir+json', 'retry-after': String(throttleSeconds) },
      };
    }
    if (request.method !== 'GET') return outcome(405, 'not-supported', 'HAPI-0427: Method Not Allowed');
    const single = /^\/Organization\/([^/]+)$/.exec(path);
    if (single) {
      const found = organisations.get((single[1] as string).toUpperCase());
      return found
        ? { status: 200, headers: { 'content-type': 'application/fhir+json' }, body: found }
        : outcome(404, 'processing', `HAPI-2001: Resource Organization/${single[1]} is not known`);
    }
    if (path === '/CodeSystem' || path === '/CodeSystem/') {
      // The reference CodeSystems in full (_summary=false), as the specification's search-codesystem describes.
      if (request.query.get('system') !== ROLE_SYSTEM || request.query.get('_summary') !== 'false')
        return outcome(422, 'too-costly', 'Too many records requested (Use _count and _offset)');
      return {
        status: 200,
        headers: { 'content-type': 'application/fhir+json' },
        body: { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: roleCodeSystem }] },
      };
    }
    if (path === '/OrganizationAffiliation') {
      const known = new Set(['primary-organization', 'participating-organization', 'active', '_count', '_offset', '_summary']);
      const unknown = [...request.query.keys()].find((key) => !known.has(key));
      if (unknown) return outcome(400, 'invalid', `HAPI-0524: Unknown search parameter "${unknown}"`);
      const primary = request.query.get('primary-organization')?.toUpperCase();
      const participating = request.query.get('participating-organization')?.toUpperCase();
      const active = request.query.get('active');
      const matches = affiliations.filter(
        (affiliation) =>
          (!primary || affiliation.organization.identifier.value === primary) &&
          (!participating || affiliation.participatingOrganization.identifier.value === participating) &&
          (active === null || String(affiliation.active) === active),
      );
      // _summary=count: the count alone, as the specification offers it for this search.
      if (request.query.get('_summary') === 'count') {
        return {
          status: 200,
          headers: { 'content-type': 'application/fhir+json' },
          body: { resourceType: 'Bundle', type: 'searchset', total: matches.length },
        };
      }
      const count = Math.max(1, Number(request.query.get('_count') ?? 20) || 20);
      const offset = Math.max(0, Number(request.query.get('_offset') ?? 0) || 0);
      const page = matches.slice(offset, offset + count);
      const self = new URLSearchParams(request.query);
      const next = new URLSearchParams(request.query);
      next.set('_offset', String(offset + count));
      return {
        status: 200,
        headers: { 'content-type': 'application/fhir+json' },
        body: {
          resourceType: 'Bundle',
          type: 'searchset',
          total: matches.length,
          link: [
            { relation: 'self', url: `${origin}${FHIR_BASE_PATH}/OrganizationAffiliation?${self}` },
            ...(offset + count < matches.length ? [{ relation: 'next', url: `${origin}${FHIR_BASE_PATH}/OrganizationAffiliation?${next}` }] : []),
          ],
          entry: page.map((resource) => ({
            fullUrl: `${origin}${FHIR_BASE_PATH}/OrganizationAffiliation/${resource.id}`,
            resource,
            search: { mode: 'match' },
          })),
        },
      };
    }
    return outcome(404, 'not-found', `HAPI-0302: Unknown resource type "${path}"`);
  };

  const sandbox = await startSandbox((request) => (request.path.startsWith(`${FHIR_BASE_PATH}/`) ? fhir(request) : ord(request)), options.port ?? 0);
  origin = sandbox.url;
  return {
    ...sandbox,
    url: `${sandbox.url}${FHIR_BASE_PATH}`,
    fhirUrl: `${sandbox.url}${FHIR_BASE_PATH}`,
    ordUrl: `${sandbox.url}/ORD/2-0-0`,
    throttleNext(count, retryAfterSeconds = 0) {
      throttleRemaining = count;
      throttleSeconds = retryAfterSeconds;
    },
  };
}

import { z } from 'zod';
import { AppError } from '../../core/errors';
import { OdsHttp, type OdsHttpOptions } from './ods-http';
import { latestRolesSnapshotFile, loadRolesSnapshot, type OrdRole } from './ord-roles';
import { hostOf, type SourceStatus } from './source-status';

/*
 * Which ODS roles are primary, from the ODS FHIR R4 API's ODSOrganisationRole CodeSystem.
 *
 * Sources:
 * - NHSDigital/organisation-data-terminology-api, specification/organisation-data-terminology-api.yaml
 *   at commit 659e4648d45f10997d551949dac0edc44e943ceb, operation search-codesystem: "ODSOrganisationRole
 *   ... This CodeSystem has 1 additional Property: `primaryRole` which contains a true/false value if
 *   the role is a primary role or not"; "The smaller reference based CodeSystems can be returned in
 *   full using `_summary=false` which will return all versions stored on the server in full", for
 *   example `/CodeSystem?system=<system>&_summary=false`; "it is expected that we will retain 2-3
 *   versions at any given point", and CodeSystem versions are named by date.
 * - NHS England, "ODSOrganisationRole" (digital.nhs.uk/services/organisation-data-service/codesystem/
 *   odsorganisationrole-info): "Each role has a property called primaryRole which is set to true when
 *   the role is a primary role ... It is potentially subject to change daily ... we suggest that you
 *   retrieve the latest version via the API."
 * - The resource shape is FHIR R4's CodeSystem (concept.code, concept.display, concept.property with
 *   code and value[x]); the spec gives no example response for this CodeSystem, so none is vendored.
 */

export const ODS_ROLE_CODE_SYSTEM = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole';

const conceptSchema = z.looseObject({
  code: z.string().regex(/^RO\d+$/),
  display: z.string().min(1),
  property: z.array(z.looseObject({ code: z.string(), valueBoolean: z.boolean().optional(), valueString: z.string().optional() })).optional(),
});
const codeSystemSchema = z.looseObject({
  resourceType: z.literal('CodeSystem'),
  url: z.string().optional(),
  version: z.string().optional(),
  date: z.string().optional(),
  meta: z.looseObject({ lastUpdated: z.string().optional() }).optional(),
  // FHIR R4 CodeSystem.content (complete | fragment | example | not-present | supplement) and .count:
  // a version that says it lists only part of its concepts is not taken as the whole list.
  content: z.string().optional(),
  count: z.number().int().nonnegative().optional(),
  concept: z.array(conceptSchema).min(1),
});
const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  link: z.array(z.looseObject({ relation: z.string(), url: z.string() })).optional(),
  entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string() }).optional() })).optional(),
});

export interface FhirRoles {
  roles: OrdRole[];
  /** The CodeSystem version read (ODS names versions by date), or its date when it has no version. */
  version: string;
  /** YYYY-MM-DD: the version's date. */
  dataDate: string;
}

/** A concept's primaryRole: a boolean (valueBoolean), or the words "true"/"false" some servers give. */
function primaryRoleOf(concept: z.infer<typeof conceptSchema>): boolean | undefined {
  const property = concept.property?.find((entry) => entry.code === 'primaryRole');
  if (property?.valueBoolean !== undefined) return property.valueBoolean;
  if (property?.valueString === 'true' || property?.valueString === 'false') return property.valueString === 'true';
  return undefined;
}

/** A CodeSystem's date for choosing the newest: its date, else a dated version, else when it was last updated. */
function dateOf(codeSystem: z.infer<typeof codeSystemSchema>): string | undefined {
  const candidate = codeSystem.date ?? /\d{4}-\d{2}-\d{2}/.exec(codeSystem.version ?? '')?.[0] ?? codeSystem.meta?.lastUpdated;
  return candidate && /^\d{4}-\d{2}-\d{2}/.test(candidate) ? candidate.slice(0, 10) : undefined;
}

/**
 * Reads the newest version of the ODSOrganisationRole CodeSystem. Every concept must say whether
 * it is primary: a role list read in part, or without that property, is refused rather than used.
 */
export async function fetchFhirRoles(fhirBaseUrl: string, apiKey: string | undefined, options: OdsHttpOptions = {}): Promise<FhirRoles> {
  const http = new OdsHttp({ accept: 'application/fhir+json', ...(apiKey ? { apikey: apiKey } : {}) }, options);
  const url = `${fhirBaseUrl.replace(/\/+$/, '')}/CodeSystem?system=${encodeURIComponent(ODS_ROLE_CODE_SYSTEM)}&_summary=false`;
  const answer = await http.get(url);
  if (answer.status !== 200) throw new AppError('ODS_UNAVAILABLE', `The ODSOrganisationRole CodeSystem search answered HTTP ${answer.status}.`);
  const bundle = bundleSchema.safeParse(answer.body);
  if (!bundle.success) throw new AppError('ODS_UNAVAILABLE', 'The ODSOrganisationRole CodeSystem search did not answer a Bundle.');
  // Versions on a further page would make "the newest" a guess: the search is read whole or not used.
  if (bundle.data.link?.some((link) => link.relation === 'next'))
    throw new AppError('ODS_UNAVAILABLE', 'The ODSOrganisationRole CodeSystem search came in more than one page, so it was not used.');
  const versions = (bundle.data.entry ?? [])
    .map((entry) => entry.resource)
    .filter((resource) => resource?.resourceType === 'CodeSystem')
    .map((resource) => codeSystemSchema.safeParse(resource));
  if (versions.length === 0) throw new AppError('ODS_UNAVAILABLE', 'ODS listed no ODSOrganisationRole CodeSystem.');
  if (versions.some((version) => !version.success)) throw new AppError('ODS_UNAVAILABLE', 'An ODSOrganisationRole CodeSystem could not be read.');
  const parsed = versions
    .map((version) => version.data as z.infer<typeof codeSystemSchema>)
    .filter((version) => !version.url || version.url === ODS_ROLE_CODE_SYSTEM);
  const newest = parsed.sort((a, b) => (dateOf(b) ?? '').localeCompare(dateOf(a) ?? ''))[0];
  const dataDate = newest ? dateOf(newest) : undefined;
  if (!newest || !dataDate) throw new AppError('ODS_UNAVAILABLE', 'The ODSOrganisationRole CodeSystem has no date, so its age is unknown.');
  if (newest.content !== undefined && newest.content !== 'complete')
    throw new AppError('ODS_UNAVAILABLE', `The ODSOrganisationRole CodeSystem says its content is "${newest.content}", not complete, so it was not used.`);
  if (newest.count !== undefined && newest.count !== newest.concept.length)
    throw new AppError(
      'ODS_UNAVAILABLE',
      `The ODSOrganisationRole CodeSystem counts ${newest.count} concepts but lists ${newest.concept.length}, so it was not used.`,
    );
  const roles: OrdRole[] = [];
  for (const concept of newest.concept) {
    const primaryRole = primaryRoleOf(concept);
    if (primaryRole === undefined) throw new AppError('ODS_UNAVAILABLE', `The ODSOrganisationRole concept ${concept.code} does not say whether it is primary.`);
    roles.push({ id: concept.code, code: concept.code.slice(2), displayName: concept.display, primaryRole });
  }
  roles.sort((a, b) => Number(a.code) - Number(b.code));
  return { roles, version: newest.version ?? dataDate, dataDate };
}

const FHIR_KIND = 'ODSOrganisationRole CodeSystem (ODS FHIR R4 API)';
const DAY_MS = 24 * 60 * 60 * 1000;
const FALLBACK_RETRY_MS = 15 * 60 * 1000;

/**
 * The primary roles the FHIR client orders roles by: read from the API at start-up, and again
 * once a day (the CodeSystem may change daily); the dated snapshot beside the policy is used
 * only while the API cannot be read. `sources` says which, and of what date.
 */
export class PrimaryRoles {
  private ids: ReadonlySet<string> = new Set();
  private from: { kind: string; where: string; dataDate?: string; notes: string } | undefined;
  private lastError: { message: string; at: string } | undefined;
  private lastReadAt = 0;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly fhirBaseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly policyFolder: string,
    private readonly options: OdsHttpOptions & { refreshEveryMs?: number } = {},
  ) {}

  /**
   * The primary role ids in use now. A re-read starts in the background when one is due: daily
   * while the API answers, every 15 minutes while the snapshot stands in for it.
   */
  current(): ReadonlySet<string> {
    const age = (this.options.now?.() ?? new Date()).getTime() - this.lastReadAt;
    const due = this.from?.kind === FHIR_KIND ? age >= (this.options.refreshEveryMs ?? DAY_MS) : age >= FALLBACK_RETRY_MS;
    if (due) void this.refresh();
    return this.ids;
  }

  /** Reads the CodeSystem; on failure keeps what it had, or falls back to the snapshot. Never throws. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    const now = () => (this.options.now?.() ?? new Date()).toISOString();
    this.lastReadAt = Date.parse(now());
    try {
      const fhir = await fetchFhirRoles(this.fhirBaseUrl, this.apiKey, this.options);
      this.ids = new Set(fhir.roles.filter((role) => role.primaryRole).map((role) => role.id));
      this.from = {
        kind: FHIR_KIND,
        where: hostOf(this.fhirBaseUrl),
        dataDate: fhir.dataDate,
        notes: `version ${fhir.version}, ${this.ids.size} primary roles of ${fhir.roles.length}, read ${now().slice(0, 16).replace('T', ' ')} UTC`,
      };
      this.lastError = undefined;
    } catch (error) {
      this.lastError = { message: error instanceof AppError ? error.userMessage : 'The CodeSystem could not be read.', at: now() };
      if (this.from) return;
      try {
        const file = await latestRolesSnapshotFile(this.policyFolder);
        const snapshot = await loadRolesSnapshot(file);
        this.ids = new Set(snapshot.roles.filter((role) => role.primaryRole).map((role) => role.id));
        this.from = {
          kind: 'roles snapshot file (offline fallback)',
          where: file.split(/[\\/]/).at(-1) ?? file,
          dataDate: snapshot.snapshotDate,
          notes: `the ODS FHIR API's ODSOrganisationRole CodeSystem could not be read, so the ${snapshot.snapshotDate} snapshot is used`,
        };
      } catch {
        this.from = { kind: 'none', where: '-', notes: 'neither the CodeSystem nor a snapshot could be read: roles keep the order ODS gives' };
      }
    }
  }

  status(): SourceStatus {
    return {
      name: 'ODS primary roles',
      kind: this.from?.kind ?? 'not read yet',
      where: this.from?.where ?? hostOf(this.fhirBaseUrl),
      ...(this.from?.dataDate ? { dataDate: this.from.dataDate } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.from ? { notes: this.from.notes } : {}),
    };
  }
}

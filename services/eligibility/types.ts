/** Rule ids are a public contract: they appear in JSON output, exports and cards. */
export const RULE_IDS = [
  'ACCOUNT_NOT_FOUND',
  'DUPLICATE_IN_REQUEST',
  'ALREADY_REQUESTED',
  'NOT_IN_REQUESTING_ORG',
  'ACCOUNT_DISABLED',
  'MARKED_AS_LEAVER',
  'GENERIC_ACCOUNT',
  'UNSUPPORTED_SPECIALISM',
  'SITE_CLOSED',
  'SITE_NOT_DSPT_COMPLIANT',
  'NOT_DIRECT_PATIENT_CARE',
  'NO_UK_MOBILE',
  'SITE_ALLOWANCE_EXCEEDED',
  'OPTOMETRY_MULTIPLE',
  'CENTRALLY_FUNDED_EMAIL',
] as const;

export type RuleId = (typeof RULE_IDS)[number];
export type Verdict = 'eligible' | 'ineligible' | 'review';

export interface Reason {
  rule: RuleId;
  verdict: Exclude<Verdict, 'eligible'>;
  message: string;
  remedy: string;
  /** The requester can put this right themselves (e.g. a mistyped site code), whatever the rule. */
  fixable?: true;
}

/** The directory facts a rule may use; the mobile number itself never leaves screening. */
export interface DirectoryAccount {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  givenName?: string;
  surname?: string;
  accountEnabled: boolean;
  mobilePhone?: string;
  jobTitle?: string;
  department?: string;
  /** Graph `otherMails`: addresses the user registered besides their mailbox. */
  otherMails: string[];
  /** Graph `proxyAddresses`, as Graph gives them (`SMTP:` / `smtp:` prefixed). */
  proxyAddresses: string[];
  organisationOds?: string;
  siteOds?: string;
  markedAsLeaver: boolean;
}

/**
 * An active relationship from an organisation to another: ORD Rels.Rel, or a FHIR
 * OrganizationAffiliation (organization = this one, participatingOrganization = target).
 */
export interface OdsLink {
  /** The relationship type, e.g. RE6. */
  relationship: string;
  targetOds: string;
  /** The target's primary role as ORD states it in the relationship; FHIR does not give it. */
  targetPrimaryRoleId?: string;
}

export interface OdsSite {
  odsCode: string;
  name: string;
  active: boolean;
  /** Active roles, primary role first. */
  roleIds: string[];
  /** Active relationships to other organisations; undefined when they were not read (FHIR reads them separately). */
  links?: OdsLink[];
  /** When ODS last changed the record (LastChangeDate, else meta.lastUpdated), YYYY-MM-DD. */
  lastChanged?: string;
}

export interface DsptEntry {
  odsCode: string;
  /** The status exactly as the export gives it, e.g. "25/26 Standards Met". */
  status: string;
  /** The DSPT year the status names, e.g. "25/26"; undefined when the status names none. */
  year?: string;
  /** The status without its year, e.g. "Standards Met": the policy says what each means. */
  statusWords: string;
  /** Date of publication, YYYY-MM-DD. */
  published?: string;
  primarySector?: string;
}

/** Which copy of a register a verdict used. */
export interface RegisterSnapshot {
  /** The file's name (never its folder). */
  file: string;
  /**
   * When the data was produced, ISO 8601: for the DSPT export, the moment in its download name,
   * else when the bot first saw that exact content; never a copy's modified time. Undefined: unknown.
   */
  fileDate?: string;
  dateSource?: 'export-name' | 'first-seen' | 'file-modified';
  rows: number;
}

/**
 * A register row that may be the site's but could not be read: a check that read its data only in
 * part never gives a verdict either way, so the account goes to review.
 */
export interface UnreadableRow {
  unreadable: true;
  /** ownRow: the site's own row (a bad value, or its rows disagree); else rows whose ODS code could not be read. */
  ownRow: boolean;
  /** Their line numbers in the register file. */
  lines: number[];
}

export interface NasSite {
  odsCode: string;
  allowedAccounts: number;
  nasAccounts: number;
}

/** Where an account already is in the bot's own records. */
export interface PriorRequest {
  reference: string;
  /** open: in a request not yet decided for it; approved: already approved (on its way to, or with, NAS). */
  state: 'open' | 'approved';
}

export interface SiteFacts {
  odsCode: string;
  source: 'input' | 'directory';
  /** null: ODS has no such organisation. */
  ods: OdsSite | null;
  /** Organisations the site is linked to whose ORD records were read (e.g. its optical headquarters). */
  parents: OdsSite[];
  /** null: certainly not in the DSPT register. */
  dspt: DsptEntry | null | UnreadableRow;
  /** The DSPT register copy the entry came from, and how old it was at screening. */
  dsptRegister?: RegisterSnapshot & { ageDays?: number };
  /** null: not in the NAS site register (the default allowance, no NAS accounts yet). */
  nasSite: NasSite | null | UnreadableRow;
  nasRegister?: RegisterSnapshot;
  /** Accounts at this site approved, or awaiting a decision, in other requests through the bot. */
  accountsInOtherRequests: number;
}

export interface AccountFacts {
  /** 1-based position in the request, as the requester listed it. */
  position: number;
  email: string;
  declaredSiteOds?: string;
  declaredSpecialism?: string;
  /** null: looked up and not found. */
  directory: DirectoryAccount | null;
  /** Undefined when the account has no site code from input or directory. */
  site?: SiteFacts;
  /** Another request that already holds this account. */
  priorRequest?: PriorRequest;
  /** The ODS name of the organisation the directory says administers the account, when read. */
  administeringOrganisationName?: string;
}

/** How the registered mobile number was judged; the number itself is never kept. */
export type MobileCheck = 'uk-mobile' | 'crown-dependency-mobile' | 'not-uk-mobile' | 'none';

/**
 * What a verdict was based on, stored beside it (request_accounts.evidence) for audit and
 * shown to NAS Operations. Plain JSON. Holds no contact details: never a phone number.
 */
export interface Evidence {
  directoryFound: boolean;
  /** The latest earlier request that held this account and how it ended there (set at submission), so NAS Operations see its history. */
  earlierRequest?: { reference: string; outcome: string };
  displayName?: string;
  jobTitle?: string;
  department?: string;
  organisationOds?: string;
  siteOds?: string;
  siteSource?: 'input' | 'directory';
  siteName?: string;
  siteActive?: boolean;
  /** Sector id from the policy, and its display name. */
  sector?: string;
  sectorName?: string;
  sectorSource?: 'declared' | 'ods-role' | 'dspt-sector';
  /** The ODS role the sector came from. */
  sectorRoleId?: string;
  declaredSpecialism?: string;
  dsptStatus?: string;
  /** Date of publication, UK style: 28 Jun 2026. */
  dsptPublished?: string;
  /** The DSPT year the status names, e.g. 25/26. */
  dsptYear?: string;
  /** The DSPT register copy used: file name, its date (UK style, with time), row count. */
  dsptRegisterFile?: string;
  dsptRegisterDate?: string;
  /** What dated the DSPT register copy: the export's download name, or when the bot first saw its content. */
  dsptRegisterDateSource?: RegisterSnapshot['dateSource'];
  /** How old the DSPT register copy was at screening, in days; absent when its date is unknown. */
  dsptRegisterAgeDays?: number;
  /** The site's Primary Sector as the DSPT export gives it (e.g. "Pharmacy"). */
  dsptPrimarySector?: string;
  dsptRegisterRows?: number;
  nasRegisterFile?: string;
  nasRegisterDate?: string;
  nasRegisterRows?: number;
  /** When ODS last changed the site's record (UK style). */
  siteRecordChanged?: string;
  organisationName?: string;
  ukMobileOnRecord?: boolean;
  mobileCheck?: MobileCheck;
  /** Country (ISO 3166) of a mobile that is not a UK one, e.g. GG, JE, IM, FR. */
  mobileCountry?: string;
  opticalParentOds?: string;
  opticalParentName?: string;
  priorRequestReference?: string;
  priorRequestState?: PriorRequest['state'];
  siteAllowance?: number;
  siteNasAccounts?: number;
  siteAccountsInOtherRequests?: number;
  policyVersion?: string;
}

export interface ScreenedAccount {
  position: number;
  email: string;
  siteOds?: string;
  specialism?: string;
  verdict: Verdict;
  reasons: Reason[];
  evidence: Evidence;
}

export interface ScreeningResult {
  policyVersion: string;
  accounts: ScreenedAccount[];
}

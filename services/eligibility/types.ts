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

/** An active ORD relationship from an organisation to another (Rels.Rel). */
export interface OdsLink {
  /** The relationship type, e.g. RE6. */
  relationship: string;
  targetOds: string;
  /** The target's primary role as ORD states it in the relationship, when given. */
  targetPrimaryRoleId?: string;
}

export interface OdsSite {
  odsCode: string;
  name: string;
  active: boolean;
  /** Active roles, primary role first. */
  roleIds: string[];
  /** Active relationships to other organisations. */
  links: OdsLink[];
}

export interface DsptEntry {
  odsCode: string;
  status: string;
  published?: string;
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
  dspt: DsptEntry | null;
  nasSite: NasSite | null;
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
}

/** How the registered mobile number was judged; the number itself is never kept. */
export type MobileCheck = 'uk-mobile' | 'crown-dependency-mobile' | 'not-uk-mobile' | 'none';

/**
 * What a verdict was based on, stored beside it (request_accounts.evidence) for audit and
 * shown to NAS Operations. Plain JSON. Holds no contact details: never a phone number.
 */
export interface Evidence {
  directoryFound: boolean;
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
  sectorSource?: 'declared' | 'ods-role';
  /** The ODS role the sector came from. */
  sectorRoleId?: string;
  declaredSpecialism?: string;
  dsptStatus?: string;
  dsptPublished?: string;
  ukMobileOnRecord?: boolean;
  mobileCheck?: MobileCheck;
  /** Country (ISO 3166) of a mobile that is not a UK one, e.g. GG, JE, IM, FR. */
  mobileCountry?: string;
  opticalParentOds?: string;
  opticalParentName?: string;
  priorRequestReference?: string;
  priorRequestState?: PriorRequest['state'];
  /** @deprecated kept so evidence stored before priorRequest* still reads: same as priorRequestReference when open. */
  openRequestReference?: string;
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

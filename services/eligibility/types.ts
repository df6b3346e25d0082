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
  organisationOds?: string;
  siteOds?: string;
  markedAsLeaver: boolean;
}

export interface OdsSite {
  odsCode: string;
  name: string;
  active: boolean;
  roleIds: string[];
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

export interface AccountFacts {
  /** 1-based position in the request, as the requester listed it. */
  position: number;
  email: string;
  declaredSiteOds?: string;
  declaredSpecialism?: string;
  /** null: looked up and not found. */
  directory: DirectoryAccount | null;
  /** Undefined when the account has no site code from input or directory. */
  site?: {
    odsCode: string;
    source: 'input' | 'directory';
    /** null: ODS has no such organisation. */
    ods: OdsSite | null;
    dspt: DsptEntry | null;
    nasSite: NasSite | null;
  };
  /** Reference of another open request that already holds this account. */
  openRequestReference?: string;
}

/** What a verdict was based on, stored beside it for audit. Holds no contact details. */
export interface Evidence {
  directoryFound: boolean;
  organisationOds?: string;
  siteOds?: string;
  siteSource?: 'input' | 'directory';
  siteActive?: boolean;
  sector?: string;
  sectorSource?: 'declared' | 'ods-role';
  dsptStatus?: string;
  ukMobileOnRecord?: boolean;
  openRequestReference?: string;
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

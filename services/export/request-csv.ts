import type { Evidence } from '../eligibility/types';
import { ATTESTATION_KEYS, isScreenedOut, STATUS_LABEL, type AttestationKey, type StoredRequest } from '../model';
import type { AuditEvent } from '../store/audit';

/**
 * One request as a CSV file for NAS Operations: what the requester answered, every account
 * with its verdict, the evidence it was based on and the decision on it, the questions asked,
 * and the audit history. The same file from Teams (export NTR-…) and from the command line.
 *
 * RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break, quotes
 * doubled. Sections of different shapes share one file, so every row is padded to the same
 * number of fields and the first column names the section (filter on it in a spreadsheet).
 */

const ATTESTATION_LABEL: Record<AttestationKey, string> = {
  usersInformed: 'Affected users told of the process and timescales',
  residualDataRemoved: 'Residual data and PID removed',
  notMarkedAsLeavers: 'Accounts not marked as leavers',
  resolutionForIneligible: 'Resolution for ineligible users',
};

/**
 * The evidence fields exported, named explicitly: a field added to Evidence later is not
 * exported until someone decides it should be. Evidence never holds a phone number; the
 * list makes sure an export never could either (only whether a UK mobile is on record).
 */
const EVIDENCE_COLUMNS: ReadonlyArray<[keyof Evidence, string]> = [
  ['directoryFound', 'In directory'],
  ['displayName', 'Display name'],
  ['jobTitle', 'Job title'],
  ['department', 'Department'],
  ['organisationOds', 'Administering organisation ODS'],
  ['siteSource', 'Site from'],
  ['siteName', 'Site name'],
  ['siteActive', 'Site active in ODS'],
  ['sectorName', 'Sector'],
  ['sectorSource', 'Sector from'],
  ['sectorRoleId', 'ODS role'],
  ['dsptStatus', 'DSPT status'],
  ['dsptPublished', 'DSPT published'],
  ['ukMobileOnRecord', 'UK mobile on record'],
  ['mobileCheck', 'Mobile check'],
  ['mobileCountry', 'Mobile country'],
  ['opticalParentOds', 'Optical parent ODS'],
  ['opticalParentName', 'Optical parent'],
  ['priorRequestReference', 'Other request'],
  ['priorRequestState', 'Other request state'],
  ['siteAllowance', 'Site allowance'],
  ['siteNasAccounts', 'Site NAS accounts'],
  ['siteAccountsInOtherRequests', 'Site accounts in other requests'],
];

const ACCOUNT_HEADER = [
  'Section',
  '#',
  'Email',
  'Site ODS code',
  'Specialism',
  'Verdict',
  'Rule ids',
  'Reasons',
  ...EVIDENCE_COLUMNS.map(([, title]) => `Evidence: ${title}`),
  'Decision',
  'Decision reason',
  'Decided by',
  'Decided at (UTC)',
  'Screened out',
  'Transferred at (UTC)',
  'Transferred by',
  'Transfer note',
];

/** The whole file, as text. Writers add a UTF-8 byte order mark (csvFileBytes) so Excel reads accents right. */
export function requestCsv(request: StoredRequest, events: readonly AuditEvent[]): string {
  // Approve-all on 500 accounts writes 400 events: each names its account's line by id, not by a search of the list per event.
  const positions = new Map(request.accounts.map((account) => [account.id, account.position]));
  const rows: string[][] = [
    ['Section', 'Field', 'Value'],
    ...requestRows(request).map(([field, value]) => ['Request', field, value]),
    [],
    ACCOUNT_HEADER,
    ...request.accounts.map((account) => [
      'Account',
      String(account.position),
      account.email,
      account.siteOds ?? '',
      account.specialism ?? '',
      account.verdict,
      account.reasons.map((reason) => reason.rule).join('; '),
      account.reasons.map((reason) => reason.message).join('\n'),
      ...EVIDENCE_COLUMNS.map(([key]) => cellOf(account.evidence?.[key])),
      account.decision ?? '',
      account.decisionReason ?? '',
      account.decidedBy?.name ?? '',
      time(account.decidedAt),
      isScreenedOut(account) ? 'yes' : 'no',
      time(account.transferredAt),
      account.transferredBy?.name ?? '',
      account.transferNote ?? '',
    ]),
    [],
    ['Section', 'Asked at (UTC)', 'Asked by', 'Question', 'Answered at (UTC)', 'Answer'],
    ...request.questions.map((question) => [
      'Question',
      time(question.askedAt),
      question.askedBy.name,
      question.question,
      time(question.answeredAt),
      question.answer ?? '',
    ]),
    [],
    ['Section', 'Time (UTC)', 'Event', 'Actor', 'Actor id', 'Account #', 'Detail'],
    ...events.map((event) => [
      'Audit',
      time(event.occurredAt),
      event.action,
      event.actorName,
      event.actorId,
      event.accountId === null ? '' : String(positions.get(event.accountId) ?? ''),
      Object.keys(event.detail ?? {}).length === 0 ? '' : JSON.stringify(event.detail),
    ]),
  ];
  const width = Math.max(...rows.map((row) => row.length));
  return rows.map((row) => [...row, ...Array<string>(width - row.length).fill('')].map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The file's bytes: UTF-8 with a byte order mark, which Excel needs to read UTF-8 (names with accents) correctly. */
export function csvFileBytes(csv: string): Buffer {
  return Buffer.from(`\uFEFF${csv}`, 'utf8');
}

export function exportFileName(reference: string): string {
  return `${reference}.csv`;
}

function requestRows(request: StoredRequest): Array<[string, string]> {
  return [
    ['Reference', request.reference],
    ['Organisation', request.organisationName],
    ['Organisation ODS code', request.organisationOds],
    ['Requested by', request.requester.name],
    ['Requester id', request.requester.id],
    ['Reason for transfer', request.reason],
    ...ATTESTATION_KEYS.map((key): [string, string] => [`Confirmed: ${ATTESTATION_LABEL[key]}`, request.attestations[key] ? 'yes' : 'no']),
    ['Policy version', request.policyVersion],
    ['Status', STATUS_LABEL[request.status] ?? request.status],
    ['Submitted at (UTC)', time(request.createdAt)],
    ['Reviewed by', request.claimedBy?.name ?? ''],
    ['Review started at (UTC)', time(request.claimedAt)],
    ['Decided at (UTC)', time(request.decidedAt)],
    ['Completed at (UTC)', time(request.completedAt)],
    ['Withdrawn at (UTC)', time(request.withdrawnAt)],
    ['Requester notified at (UTC)', time(request.outcomeNotifiedAt)],
    ['Accounts', String(request.accounts.length)],
  ];
}

function cellOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}

/** ISO 8601 in UTC: unambiguous in a file that outlives the clock change. */
function time(at: Date | null | undefined): string {
  return at ? at.toISOString() : '';
}

/**
 * One field, safe to open in a spreadsheet. Control characters other than tab and line breaks
 * go. A value a spreadsheet would run as a formula (starting = + - @, or tab or CR, which some
 * strip before looking) is prefixed with an apostrophe, as OWASP's CSV injection guidance
 * says, so "=HYPERLINK(...)" in a requester's reason stays text. Then RFC 4180 quoting.
 */
export function csvField(raw: string): string {
  // Not core/text's rule: a spreadsheet cell keeps bidirectional and C1 characters as written.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
  let value = raw.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
  if (/^[=+\-@\t\r]/.test(value)) value = `'${value}`;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

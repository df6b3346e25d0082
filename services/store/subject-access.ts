import { z } from 'zod';
import { AppError } from '../../core/errors';
import type { SqlExecutor } from './database';
import { subjectRow } from './subject-view';

/**
 * Subject access (UK GDPR Article 15): everything the store holds about one person, found by
 * the address of their NHSmail account and, for people who act in the bot (requesters, NAS
 * Operations), by their Entra object id, which is how the store records who did something.
 *
 * The search is driven by SUBJECT_ACCESS_COVERAGE, a declaration of every text and JSON column
 * of every table: searched (and how), personal but returned with a row found by another
 * column, or holding no personal data (and why). test/store/subject-access.test.ts reads the
 * migrated schema and fails when a column is in none of these, so a table added later cannot
 * be forgotten here.
 */

/** How one text or JSON column takes part in the search. */
export type ColumnCoverage =
  /** The account's address, the whole value, in any case. */
  | { search: 'address' }
  /** The person's Entra object id, the whole value. */
  | { search: 'id' }
  /** Free text or JSON: the address or the id anywhere in it, as a whole token. */
  | { search: 'mentions' }
  /** Personal, but not a search key: it comes with a row found by the named column. */
  | { returnedWithRowFoundBy: string }
  /** Holds no personal data; the reason says what it holds. */
  | { notPersonal: string };

const address = { search: 'address' } as const;
const id = { search: 'id' } as const;
const mentions = { search: 'mentions' } as const;
const withRow = (column: string) => ({ returnedWithRowFoundBy: column }) as const;
const notPersonal = (why: string) => ({ notPersonal: why }) as const;

export const SUBJECT_ACCESS_COVERAGE: Readonly<Record<string, Readonly<Record<string, ColumnCoverage>>>> = {
  transfer_requests: {
    reference: notPersonal('the request reference, NTR-…'),
    organisation_ods: notPersonal("the sponsoring organisation's ODS code"),
    organisation_name: notPersonal("the sponsoring organisation's name"),
    requester_id: id,
    requester_name: withRow('requester_id'),
    reason: mentions,
    attestations: notPersonal('four yes/no confirmations'),
    policy_version: notPersonal('the policy version screened under'),
    status: notPersonal('a lifecycle state'),
    ops_conversation_id: notPersonal("the NAS Operations channel's Teams conversation id"),
    ops_activity_id: notPersonal("the ops card's Teams activity id"),
    // An opaque Teams id of the requester's chat and of the card in it (no address or name); the request row itself is the requester's, by requester_id.
    outcome_conversation_id: notPersonal("the Teams conversation id of the requester's chat with the bot, where the outcome card is"),
    outcome_activity_id: notPersonal("the outcome card's Teams activity id"),
    draft_id: notPersonal('a random id of the conversation draft'),
    claimed_by_id: id,
    claimed_by_name: withRow('claimed_by_id'),
  },
  request_accounts: {
    email: address,
    site_ods: notPersonal("the site's ODS code"),
    specialism: withRow('email'),
    verdict: notPersonal('eligible, ineligible or review'),
    reasons: mentions,
    evidence: mentions,
    decision: notPersonal('approved or rejected'),
    decision_reason: mentions,
    decided_by_id: id,
    decided_by_name: withRow('decided_by_id'),
    transferred_by_id: id,
    transferred_by_name: withRow('transferred_by_id'),
    transfer_note: mentions,
    rechecked_verdict: notPersonal('eligible, ineligible or review at the latest re-check'),
    rechecked_reasons: mentions,
    rechecked_evidence: mentions,
    change_summary: mentions,
    transfer_overridden_by_id: id,
    transfer_overridden_by_name: withRow('transfer_overridden_by_id'),
    transfer_override_reason: mentions,
  },
  request_checks: {
    kind: notPersonal('recheck or transfer'),
    trigger: notPersonal('what owed the check, such as daily or scheduled'),
    claim_token: notPersonal("a random token of the worker's claim"),
    last_error: mentions,
  },
  request_questions: {
    asked_by_id: id,
    asked_by_name: withRow('asked_by_id'),
    question: mentions,
    answer: mentions,
  },
  audit_events: {
    actor_id: id,
    actor_name: withRow('actor_id'),
    action: notPersonal('an event name such as request.submitted'),
    detail: mentions,
  },
  outbox: {
    dedupe_key: notPersonal('the message kind and a request, question or job id'),
    kind: notPersonal('the message kind'),
    recipient: id,
    payload: mentions,
    status: notPersonal('a delivery state'),
    last_error: notPersonal('a delivery error code such as NO_CONVERSATION or HTTP_429'),
    claim_token: notPersonal("a random token of the worker's claim"),
  },
  screening_jobs: {
    id: notPersonal('a random job id'),
    owner_id: id,
    organisation_ods: notPersonal("the sponsoring organisation's ODS code"),
    organisation_name: notPersonal("the sponsoring organisation's name"),
    entries: mentions,
    status: notPersonal('a job state'),
    result: mentions,
    error_code: notPersonal('an error code from core/errors.ts'),
    progress_activity_id: notPersonal('the Teams activity id of the progress message'),
    result_policy_version: notPersonal('the policy version the list was screened under'),
  },
  // A screening job's result, in chunks of accounts (migration 022): what was found about each account screened.
  screening_job_results: {
    job_id: notPersonal('the random id of the screening job'),
    accounts: mentions,
  },
  conversation_references: {
    key: mentions,
    reference: mentions,
  },
  bot_state: {
    key: mentions,
    document: mentions,
  },
  ops_members_seen: {
    teams_user_id: withRow('aad_object_id'),
    aad_object_id: id,
  },
  send_budget: {
    // A personal chat's Teams conversation id is an opaque id, no address or name, and the row is gone within the hour (the longest
    // Teams window); mail pacing names the sender's mailbox by their Entra object id (mailbox:<id>), kept a day (Exchange's daily limit).
    // A conversation or mailbox found down is marked (down:conversation:<id>) until it answers again; a mark a day old is dropped at the next one made or cleared.
    scope: mentions,
  },
  affected_user_messages: {
    stage: notPersonal('submitted or outcome'),
    message_group: notPersonal('transferring, notEligible or keptLocally'),
    recipient: address,
    subject: withRow('recipient'),
    body: withRow('recipient'),
    sender_id: id,
    status: notPersonal('a sending state'),
    error_code: notPersonal('our code for why a message was not sent, such as MAIL_SEND_NOT_ALLOWED'),
  },
  schema_migrations: {
    name: notPersonal('a migration file name'),
  },
  register_contents: {
    register: notPersonal('a register name ("DSPT register", "NAS site register")'),
    sha256: notPersonal("the SHA-256 of a register file's bytes"),
  },
};

/** The columns of `table` searched for the subject, with how. */
export function searchedColumns(table: string): Array<[string, 'address' | 'id' | 'mentions']> {
  return Object.entries(SUBJECT_ACCESS_COVERAGE[table] ?? {}).flatMap(([column, coverage]) =>
    'search' in coverage ? [[column, coverage.search] as [string, 'address' | 'id' | 'mentions']] : [],
  );
}

/** An address as the bot stores it, or refuses it: a search for less would find other people. */
const addressSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'is not an email address');
/** An Entra object id (a GUID), or another id the bot records people by; long enough never to match by accident. */
const idSchema = z
  .string()
  .trim()
  .min(6)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._-]+$/, 'is not an object id');

export interface Subject {
  address: string;
  /** The person's Entra object id, for rows that record what they did (requests, decisions, the audit). */
  directoryObjectId?: string;
}

export function parseSubject(raw: { address: string; directoryObjectId?: string }): Subject {
  const parsedAddress = addressSchema.safeParse(raw.address);
  if (!parsedAddress.success) throw new AppError('INVALID_INPUT', 'Give the address of an NHSmail account, like name@nhs.net.');
  if (raw.directoryObjectId === undefined) return { address: parsedAddress.data };
  const parsedId = idSchema.safeParse(raw.directoryObjectId);
  if (!parsedId.success) throw new AppError('INVALID_INPUT', '--id takes an Entra object id, like 6e6d7300-0000-4000-8000-000000000128.');
  return { address: parsedAddress.data, directoryObjectId: parsedId.data };
}

export interface SubjectAccessReport {
  subject: Subject;
  generatedAt: string;
  /** For whoever releases the file: what it is and what to check first. */
  notes: string[];
  /** Every row found, by table; rows are as stored (times in UTC), with other people withheld (subject-view.ts). */
  tables: Record<string, Array<Record<string, unknown>>>;
  /** The requests the subject's accounts belong to: reference, organisation, state and dates only. */
  requestsOfTheirAccounts: Array<Record<string, unknown>>;
  /** Columns read and not searched, with why: the file says what it did not look at. */
  notSearched: Record<string, Record<string, string>>;
  rowCount: number;
}

const NOTES = [
  'Everything the NAS Transfer Bot store holds about this person, found by their account address and, where given, their Entra object id (UK GDPR Article 15).',
  'Other account holders (in the same request, screening list or conversation) are withheld: their addresses read "[another person]", their records "withheld: another account holder", so only how many there were shows.',
  'Rows may still name the requester and NAS Operations staff who acted, and free text written by them: review it before release (DPA 2018 Schedule 2 Part 3).',
  'Personal data removed under the retention policy (RETENTION_DAYS) shows as "[removed under the retention policy]" or a redacted-<id> address and cannot be found by address any more.',
  'The bot keeps no copy of Microsoft Graph data outside these rows; the NHSmail directory itself is answered by the NHSmail service.',
];

/** Characters that may appear inside an address or id: a match is not preceded or followed by one (so a.b@x is not found inside ba.b@x). */
const TOKEN_CHARACTERS = "a-z0-9._%+'-";

function tokenPattern(terms: readonly string[]): string {
  const alternatives = terms.map((term) => term.replace(/[^A-Za-z0-9]/g, (character) => `\\${character}`)).join('|');
  return `(^|[^${TOKEN_CHARACTERS}])(${alternatives})($|[^${TOKEN_CHARACTERS}])`;
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Unexpected identifier ${name}`);
  return `"${name}"`;
}

/**
 * Reads every row that holds the subject, table by table, in one read-only pass. Table and
 * column names come from SUBJECT_ACCESS_COVERAGE, never from input; the subject is a parameter.
 */
export async function findSubjectData(db: SqlExecutor, subject: Subject, now: Date = new Date()): Promise<SubjectAccessReport> {
  const pattern = tokenPattern([subject.address, ...(subject.directoryObjectId ? [subject.directoryObjectId] : [])]);
  const tables: SubjectAccessReport['tables'] = {};
  const notSearched: SubjectAccessReport['notSearched'] = {};
  for (const [table, columns] of Object.entries(SUBJECT_ACCESS_COVERAGE)) {
    const params: unknown[] = [];
    const parameter = (value: unknown) => `$${params.push(value)}`;
    const conditions = searchedColumns(table).flatMap(([column, how]) => {
      const name = quoteIdentifier(column);
      if (how === 'address') return [`lower(${name}) = ${parameter(subject.address)}`];
      if (how === 'id') return subject.directoryObjectId ? [`lower(${name}) = lower(${parameter(subject.directoryObjectId)})`] : [];
      return [`${name}::text ~* ${parameter(pattern)}`];
    });
    const skipped = Object.fromEntries(
      Object.entries(columns).flatMap(([column, coverage]) => ('notPersonal' in coverage ? [[column, coverage.notPersonal]] : [])),
    );
    if (Object.keys(skipped).length > 0) notSearched[table] = skipped;
    if (conditions.length === 0) continue;
    tables[table] = await db.query<Record<string, unknown>>(`SELECT * FROM ${quoteIdentifier(table)} WHERE ${conditions.join(' OR ')} ORDER BY 1`, params);
  }

  // An account holder's own rows name their account; what happened to it is in the audit by account id.
  const accountIds = (tables.request_accounts ?? []).map((row) => Number(row.id));
  const requestIds = [...new Set((tables.request_accounts ?? []).map((row) => Number(row.request_id)))];
  if (accountIds.length > 0) {
    const found = new Set((tables.audit_events ?? []).map((row) => String(row.id)));
    const byAccount = await db.query<Record<string, unknown>>('SELECT * FROM audit_events WHERE account_id = ANY($1::int[]) ORDER BY id', [accountIds]);
    tables.audit_events = [...(tables.audit_events ?? []), ...byAccount.filter((row) => !found.has(String(row.id)))].sort(
      (a, b) => Number(a.id) - Number(b.id),
    );
  }
  const requestsOfTheirAccounts =
    requestIds.length === 0
      ? []
      : await db.query<Record<string, unknown>>(
          `SELECT id, reference, organisation_ods, organisation_name, status, created_at, decided_at, completed_at, withdrawn_at
           FROM transfer_requests WHERE id = ANY($1::int[]) ORDER BY id`,
          [requestIds],
        );
  const rowCount = Object.values(tables).reduce((sum, rows) => sum + rows.length, 0);
  // The file holds the subject's data only: everything about other people found in the same rows is withheld before it leaves the store.
  const theirs = Object.fromEntries(Object.entries(tables).map(([table, rows]) => [table, rows.map((row) => subjectRow(table, row, subject.address))]));
  return { subject, generatedAt: now.toISOString(), notes: NOTES, tables: theirs, requestsOfTheirAccounts, notSearched, rowCount };
}

/** The file's text: one JSON document, times in ISO 8601 UTC. */
export function subjectAccessFile(report: SubjectAccessReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

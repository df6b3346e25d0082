import type { Decision, RequestStatus } from '../model';

/**
 * Conditions on a request written once, as data, and read two ways: evaluated on the request in
 * TypeScript (the lifecycle, the cards) and compiled to a SQL fragment where the store must
 * filter by the same rule (the background checks' sweep, the queue of transfers). A parity
 * test (test/store/request-conditions.test.ts) evaluates both on generated request states, on
 * PGlite and on PostgreSQL, so the two readings cannot drift apart.
 */

/** The facts about an account a condition may test, each with its column. */
const ACCOUNT_FACTS = {
  transferredAt: 'transferred_at',
  transferConfirmedAt: 'transfer_confirmed_at',
  transferOverride: 'transfer_overridden_at',
} as const;
export type AccountFact = keyof typeof ACCOUNT_FACTS;

export type AccountCondition =
  { decisionIs: Decision } | { has: AccountFact } | { not: AccountCondition } | { all: readonly AccountCondition[] } | { any: readonly AccountCondition[] };

export type RequestCondition =
  | { statusIn: readonly RequestStatus[] }
  | { someAccount: AccountCondition }
  | { everyAccount: AccountCondition }
  | { not: RequestCondition }
  | { all: readonly RequestCondition[] }
  | { any: readonly RequestCondition[] };

/** What a condition reads of an account (a StoredAccount has all of it). */
export type ConditionAccount = {
  decision: Decision | null;
  transferredAt: Date | null;
  transferConfirmedAt?: Date | null;
  transferOverride?: unknown;
};
export type ConditionRequest = { status: RequestStatus; accounts: readonly ConditionAccount[] };

export function accountMeets(account: ConditionAccount, condition: AccountCondition): boolean {
  if ('decisionIs' in condition) return account.decision === condition.decisionIs;
  if ('has' in condition) return Boolean(account[condition.has]);
  if ('not' in condition) return !accountMeets(account, condition.not);
  if ('all' in condition) return condition.all.every((part) => accountMeets(account, part));
  return condition.any.some((part) => accountMeets(account, part));
}

export function requestMeets(request: ConditionRequest, condition: RequestCondition): boolean {
  if ('statusIn' in condition) return condition.statusIn.includes(request.status);
  if ('someAccount' in condition) return request.accounts.some((account) => accountMeets(account, condition.someAccount));
  if ('everyAccount' in condition) return request.accounts.every((account) => accountMeets(account, condition.everyAccount));
  if ('not' in condition) return !requestMeets(request, condition.not);
  if ('all' in condition) return condition.all.every((part) => requestMeets(request, part));
  return condition.any.some((part) => requestMeets(request, part));
}

const quoted = (value: string): string => {
  // Values come from the definitions in code (statuses, decisions), never from input; a quote would be a bug.
  if (!/^[a-z_]+$/.test(value)) throw new Error(`not a plain word: ${value}`);
  return `'${value}'`;
};

/** The SQL for an account condition on alias `a`; never NULL (every leaf is IS [NOT] ...), so NOT is safe. */
function accountSql(condition: AccountCondition, a: string): string {
  if ('decisionIs' in condition) return `(${a}.decision IS NOT DISTINCT FROM ${quoted(condition.decisionIs)})`;
  if ('has' in condition) return `(${a}.${ACCOUNT_FACTS[condition.has]} IS NOT NULL)`;
  if ('not' in condition) return `(NOT ${accountSql(condition.not, a)})`;
  if ('all' in condition) return condition.all.length === 0 ? 'TRUE' : `(${condition.all.map((part) => accountSql(part, a)).join(' AND ')})`;
  return condition.any.length === 0 ? 'FALSE' : `(${condition.any.map((part) => accountSql(part, a)).join(' OR ')})`;
}

/** The SQL for a request condition on `transfer_requests` alias `r`, for a WHERE clause. */
export function requestSql(condition: RequestCondition, r = 'r'): string {
  const accounts = (where: string) => `SELECT 1 FROM request_accounts ${r}_a WHERE ${r}_a.request_id = ${r}.id AND ${where}`;
  if ('statusIn' in condition) return condition.statusIn.length === 0 ? 'FALSE' : `(${r}.status IN (${condition.statusIn.map(quoted).join(', ')}))`;
  if ('someAccount' in condition) return `(EXISTS (${accounts(accountSql(condition.someAccount, `${r}_a`))}))`;
  if ('everyAccount' in condition) return `(NOT EXISTS (${accounts(`NOT ${accountSql(condition.everyAccount, `${r}_a`)}`)}))`;
  if ('not' in condition) return `(NOT ${requestSql(condition.not, r)})`;
  if ('all' in condition) return condition.all.length === 0 ? 'TRUE' : `(${condition.all.map((part) => requestSql(part, r)).join(' AND ')})`;
  return condition.any.length === 0 ? 'FALSE' : `(${condition.any.map((part) => requestSql(part, r)).join(' OR ')})`;
}

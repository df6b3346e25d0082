import { AppError, type ErrorCode } from '../../core/errors';
import {
  changedSinceSubmission,
  isScreenedOut,
  OPEN_STATUSES,
  STATUS_LABEL,
  transferState,
  type Actor,
  type Decision,
  type RecheckFacts,
  type RequestStatus,
  type StoredAccount,
  type StoredRequest,
} from '../model';
import { accountMeets, requestMeets, type AccountCondition, type RequestCondition } from './request-conditions';

/**
 * The request's life in one place: which actions a request, an account and an actor allow.
 * Pure. The ops card draws its buttons from it, and every use case asks it again inside its
 * transaction, on the request as locked there, before it changes anything; so a button is
 * shown exactly when pressing it would work, and a stale card cannot do more than a fresh one.
 */

/** What NAS Operations can do to a request as a whole. */
export type RequestAction = 'claim' | 'takeOver' | 'approveEligible' | 'rejectUndecided' | 'ask' | 'markTransferred';
/** What NAS Operations can do to one account of it. */
export type AccountAction = 'decide' | 'correct' | 'markAccountTransferred' | 'overrideTransfer';
/** What the requester can do to their own request. */
export type RequesterAction = 'withdraw' | 'answer';

/**
 * The request as the lifecycle needs it: its status, who reviews it, its accounts' decisions and
 * questions. Of a re-check only its verdict and changes: a decision reads no evidence
 * (services/store/requests.ts lockRequestForDecision).
 */
export type LifecycleRequest = Pick<StoredRequest, 'status' | 'claimedBy' | 'claimedAt' | 'withdrawnAt'> & {
  accounts: ReadonlyArray<
    Pick<StoredAccount, 'id' | 'verdict' | 'decision' | 'decidedBy' | 'decidedAt' | 'transferredAt'> &
      Partial<Pick<StoredAccount, 'transferConfirmedAt' | 'transferOverride'>> & { recheck?: RecheckFacts | null }
  >;
  questions: ReadonlyArray<{ answer: string | null }>;
  requester: Pick<Actor, 'id'>;
};
type LifecycleAccount = LifecycleRequest['accounts'][number];

/**
 * Why the lifecycle refuses an action: one code per rule, so a test can tell which rule refused.
 * The words for the person who pressed are the Teams edge's (bot/refusal-words.ts), never here.
 */
export type RefusalReason =
  /** The requester withdrew it: nothing to decide. */
  | 'withdrawn'
  /** Claim or take over a request no longer open. */
  | 'not_open'
  | 'already_reviewing'
  | 'claimed_by_other'
  | 'nobody_reviewing'
  | 'no_eligible_accounts'
  /** Decisions are closed, or there is nothing left to decide. */
  | 'nothing_left_to_decide'
  | 'all_changed_since_submission'
  | 'no_one_to_ask'
  | 'not_all_decided'
  | 'already_marked_transferred'
  | 'account_not_in_request'
  | 'account_already_decided'
  | 'screened_out'
  | 'withdrawn_no_corrections'
  | 'completed'
  | 'not_decided_yet'
  | 'account_transferred'
  | 'same_decision'
  | 'transfer_not_decided'
  | 'not_approved'
  | 'not_approved_to_override'
  | 'not_marked_transferred'
  | 'transfer_confirmed'
  | 'transfer_overridden'
  | 'not_your_request'
  | 'already_withdrawn'
  | 'decisions_made'
  | 'no_open_question';

/** The catalogue code each refusal carries (core/errors.ts: how an API or log classes it). */
export const REFUSAL_CODE: Record<RefusalReason, ErrorCode> = {
  withdrawn: 'INVALID_INPUT',
  not_open: 'INVALID_INPUT',
  already_reviewing: 'INVALID_INPUT',
  claimed_by_other: 'ALREADY_CLAIMED',
  nobody_reviewing: 'INVALID_INPUT',
  no_eligible_accounts: 'INVALID_INPUT',
  nothing_left_to_decide: 'ALREADY_DECIDED',
  all_changed_since_submission: 'INVALID_INPUT',
  no_one_to_ask: 'INVALID_INPUT',
  not_all_decided: 'INVALID_INPUT',
  already_marked_transferred: 'ALREADY_DECIDED',
  account_not_in_request: 'ACCOUNT_NOT_IN_REQUEST',
  account_already_decided: 'ALREADY_DECIDED',
  screened_out: 'INVALID_INPUT',
  withdrawn_no_corrections: 'INVALID_INPUT',
  completed: 'INVALID_INPUT',
  not_decided_yet: 'INVALID_INPUT',
  account_transferred: 'INVALID_INPUT',
  same_decision: 'INVALID_INPUT',
  transfer_not_decided: 'INVALID_INPUT',
  not_approved: 'INVALID_INPUT',
  not_approved_to_override: 'INVALID_INPUT',
  not_marked_transferred: 'INVALID_INPUT',
  transfer_confirmed: 'ALREADY_DECIDED',
  transfer_overridden: 'ALREADY_DECIDED',
  not_your_request: 'NOT_YOUR_REQUEST',
  already_withdrawn: 'INVALID_INPUT',
  decisions_made: 'INVALID_INPUT',
  no_open_question: 'INVALID_INPUT',
};

/** A refusal and the facts its words need: the request as locked, the account, the decision asked for. */
export interface Refusal {
  reason: RefusalReason;
  request: LifecycleRequest;
  account?: LifecycleAccount;
  to?: Decision;
}

/** The lifecycle's refusal as an error a use case throws; its words are the edge's (bot/refusal-words.ts). */
export class RefusedError extends AppError {
  constructor(readonly refusal: Refusal) {
    super(REFUSAL_CODE[refusal.reason]);
  }
}

/** Allowed, or which rule refused (an AppError a use case throws as it is). */
export type Verdict = { allowed: true } | { allowed: false; error: AppError };

const ALLOWED: Verdict = { allowed: true };
/**
 * The error is made only when someone reads it (a use case about to throw it): the ops card
 * asks every account's every action to draw its buttons, and an Error's stack trace for each
 * refusal was most of that cost (issue 23's CPU profile: 0.9 s of 41 s under the load run).
 */
const refused = (reason: RefusalReason, request: LifecycleRequest, account?: LifecycleAccount, to?: Decision): Verdict => {
  let error: AppError | undefined;
  return {
    allowed: false,
    get error() {
      return (error ??= new RefusedError({ reason, request, ...(account ? { account } : {}), ...(to ? { to } : {}) }));
    },
  };
};

/** Which rule refused, if the lifecycle did: what tests and the edge read. */
export function refusalReason(verdict: Verdict): RefusalReason | undefined {
  return !verdict.allowed && verdict.error instanceof RefusedError ? verdict.error.refusal.reason : undefined;
}

export function isOpen(status: RequestStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

function undecided(request: LifecycleRequest): LifecycleAccount[] {
  return request.accounts.filter((account) => account.decision === null && !isScreenedOut(account));
}

function untransferred(request: LifecycleRequest): LifecycleAccount[] {
  return request.accounts.filter((account) => account.decision === 'approved' && account.transferredAt === null);
}

function closedToDecisions(request: LifecycleRequest): Verdict | undefined {
  if (request.status === 'withdrawn') return refused('withdrawn', request);
  if (!isOpen(request.status)) return refused('nothing_left_to_decide', request);
  return undefined;
}

/** May `actor` (a confirmed member of NAS Operations) do `action` to the request? */
export function requestAction(request: LifecycleRequest, action: RequestAction, actor: Pick<Actor, 'id'>): Verdict {
  switch (action) {
    case 'claim':
    case 'takeOver': {
      if (!isOpen(request.status)) return refused('not_open', request);
      if (request.claimedBy?.id === actor.id) return refused('already_reviewing', request);
      if (action === 'claim' && request.claimedBy) return refused('claimed_by_other', request);
      if (action === 'takeOver' && !request.claimedBy) return refused('nobody_reviewing', request);
      return ALLOWED;
    }
    case 'approveEligible': {
      if (request.status !== 'withdrawn' && !request.accounts.some((account) => account.verdict === 'eligible')) {
        return refused('no_eligible_accounts', request);
      }
      const closed = closedToDecisions(request);
      if (closed) return closed;
      const eligibleUndecided = undecided(request).filter((account) => account.verdict === 'eligible');
      if (eligibleUndecided.length === 0) return refused('nothing_left_to_decide', request);
      // An account whose facts changed since submission is decided on its own, never in bulk.
      if (!eligibleUndecided.some((account) => !changedSinceSubmission(account))) return refused('all_changed_since_submission', request);
      return ALLOWED;
    }
    case 'rejectUndecided': {
      const closed = closedToDecisions(request);
      if (closed) return closed;
      return undecided(request).length > 0 ? ALLOWED : refused('nothing_left_to_decide', request);
    }
    case 'ask':
      return requestMeets(request, REQUEST_CONDITIONS.askable) ? ALLOWED : refused('no_one_to_ask', request);
    case 'markTransferred':
      // Completed: every approved account was marked (and seen moved) already.
      if (request.status === 'completed') return refused('already_marked_transferred', request);
      if (request.status !== 'decided') return refused('not_all_decided', request);
      return untransferred(request).length > 0 ? ALLOWED : refused('already_marked_transferred', request);
  }
}

/** May a member of NAS Operations do `action` to account `accountId` of the request (`to`: the decision asked for)? */
export function accountAction(request: LifecycleRequest, accountId: number, action: AccountAction, to?: Decision): Verdict {
  const account = request.accounts.find((candidate) => candidate.id === accountId);
  if (!account) return refused('account_not_in_request', request);
  switch (action) {
    case 'decide': {
      if (request.status === 'withdrawn') return refused('withdrawn', request, account);
      if (account.decision !== null) return refused('account_already_decided', request, account);
      if (isScreenedOut(account)) return refused('screened_out', request, account);
      if (!isOpen(request.status)) return refused('nothing_left_to_decide', request, account);
      return ALLOWED;
    }
    case 'correct': {
      if (request.status === 'withdrawn') return refused('withdrawn_no_corrections', request, account);
      if (request.status === 'completed') return refused('completed', request, account);
      if (account.decision === null) return refused('not_decided_yet', request, account);
      if (account.transferredAt) return refused('account_transferred', request, account);
      if (to !== undefined && account.decision === to) return refused('same_decision', request, account, to);
      return ALLOWED;
    }
    case 'markAccountTransferred': {
      const whole = requestAction(request, 'markTransferred', { id: '' });
      if (!whole.allowed) return whole;
      if (account.decision !== 'approved') return refused('not_approved', request, account);
      return account.transferredAt === null ? ALLOWED : refused('already_marked_transferred', request, account);
    }
    case 'overrideTransfer': {
      if (request.status !== 'decided') return refused('transfer_not_decided', request, account);
      if (account.decision !== 'approved') return refused('not_approved_to_override', request, account);
      const state = transferState(account);
      if (state === 'approved') return refused('not_marked_transferred', request, account);
      if (state === 'confirmed') return refused('transfer_confirmed', request, account);
      if (state === 'overridden') return refused('transfer_overridden', request, account);
      return ALLOWED;
    }
  }
}

/** May the requester (`requesterId`) do `action` to their request? */
export function requesterAction(request: LifecycleRequest, action: RequesterAction, requesterId: string): Verdict {
  if (request.requester.id !== requesterId) return refused('not_your_request', request);
  switch (action) {
    case 'withdraw':
      if (request.status === 'withdrawn') return refused('already_withdrawn', request);
      if (!isOpen(request.status) || request.accounts.some((account) => account.decision !== null)) return refused('decisions_made', request);
      return ALLOWED;
    case 'answer':
      return request.questions.some((question) => question.answer === null) ? ALLOWED : refused('no_open_question', request);
  }
}

/**
 * Which reason an action needs and was not given: one code per rule, so a test can tell them
 * apart. The words (where to type it, who will read it) are the Teams edge's (bot/refusal-words.ts).
 */
export type ReasonNeeded =
  /** Rejecting (one account, or all undecided): the requester will see why. */
  | 'reject'
  /** Changing a decision: kept in the audit beside the first one. */
  | 'correct'
  /** Vouching for a transfer the directory does not show. */
  | 'override'
  /** Approving an account the latest re-check finds not eligible: a judgement against the facts. */
  | 'approve_ineligible';

/** An action refused because it needs a reason (`needed`) that was not given. */
export class ReasonRequiredError extends AppError {
  constructor(readonly needed: ReasonNeeded) {
    super('REASON_REQUIRED');
  }
}

/**
 * The reason an action on an account needs before it may go ahead, or undefined. Approving an
 * account the latest re-check finds ineligible is a judgement against the facts, so it is
 * explained like a correction; overriding the directory always is.
 */
export function reasonNeeded(request: LifecycleRequest, accountId: number, action: AccountAction, to?: Decision): ReasonNeeded | undefined {
  const account = request.accounts.find((candidate) => candidate.id === accountId);
  if (!account) return undefined;
  if (action === 'overrideTransfer') return 'override';
  if ((action === 'decide' || action === 'correct') && to === 'approved' && account.recheck?.verdict === 'ineligible') return 'approve_ineligible';
  return undefined;
}

const APPROVED: AccountCondition = { decisionIs: 'approved' };
/** Seen moved in the directory, or vouched for by NAS Operations: nothing more to watch. */
const MOVED: AccountCondition = { any: [{ has: 'transferConfirmedAt' }, { has: 'transferOverride' }] };
const DECIDED: RequestCondition = { statusIn: ['decided'] };
/** Approved and not yet seen moved nor overridden: the directory is watched for its move, and the account re-checked (a leaver is deleted). */
const AWAITING_MOVE: AccountCondition = { all: [APPROVED, { not: MOVED }] };

/**
 * The request's conditions, each written once. The lifecycle and the cards evaluate them
 * (requestMeets); the store filters by the same definitions compiled to SQL (requestSql).
 */
export const REQUEST_CONDITIONS = {
  /** NAS Operations may still decide its accounts. */
  open: { statusIn: OPEN_STATUSES } as RequestCondition,
  /** Decided, with approved accounts not yet seen moved (nor overridden): the directory is watched for the moves. */
  awaitingTransfer: { all: [DECIDED, { someAccount: AWAITING_MOVE }] } as RequestCondition,
  /**
   * The request may complete: at least one account approved, and every approved account seen
   * moved in the directory or overridden. A request with nothing approved never completes.
   */
  readyToComplete: { all: [DECIDED, { someAccount: APPROVED }, { everyAccount: { any: [{ not: APPROVED }, MOVED] } }] } as RequestCondition,
  /** NAS Operations can still put a question to the requester (and the bot can put it again): anything not withdrawn or completed. */
  askable: { not: { statusIn: ['withdrawn', 'completed'] } } as RequestCondition,
  /** The requester is owed the outcome (it is on its way or told): a change from now on must reach them too. */
  outcomeOwed: { statusIn: ['decided', 'completed'] } as RequestCondition,
  /** Every account decided and none approved: there is nothing to transfer (and it stays correctable). */
  nothingToTransfer: { all: [DECIDED, { not: { someAccount: APPROVED } }] } as RequestCondition,
  /**
   * Its accounts are screened again (a leaver found at once): while it is open, and after the
   * decision until every approved account has moved, since a leaver is deleted.
   */
  rechecked: { any: [{ statusIn: OPEN_STATUSES }, { all: [DECIDED, { someAccount: AWAITING_MOVE }] }] } as RequestCondition,
} as const;

export type RequestConditionName = keyof typeof REQUEST_CONDITIONS;

/** Whether the request meets the named condition. */
export function meets(request: Parameters<typeof requestMeets>[0], name: RequestConditionName): boolean {
  return requestMeets(request, REQUEST_CONDITIONS[name]);
}

export const NOTHING_TO_TRANSFER_LABEL = 'Decided: nothing to transfer';

/** The status as a label, from the one table of status words: a decided request with nothing approved says so. */
export function statusLabel(request: LifecycleRequest): string {
  return nothingToTransfer(request) ? NOTHING_TO_TRANSFER_LABEL : STATUS_LABEL[request.status];
}

/** The request may complete (see REQUEST_CONDITIONS.readyToComplete). */
export function readyToComplete(request: LifecycleRequest): boolean {
  return meets(request, 'readyToComplete');
}

/** Every account decided and none approved: "decided: nothing to transfer". */
export function nothingToTransfer(request: LifecycleRequest): boolean {
  return meets(request, 'nothingToTransfer');
}

/** Approved accounts still waiting to be seen moved (or overridden). */
export function awaitingConfirmation<A extends LifecycleAccount>(accounts: readonly A[]): A[] {
  return accounts.filter((account) => accountMeets(account, AWAITING_MOVE));
}

/**
 * The accounts a re-check screens, account by account as REQUEST_CONDITIONS.rechecked reads the
 * request: while it is open, every account put to a decision; once decided, each approved
 * account until it is seen moved or overridden (a leaver is deleted, so the risk lasts until NAS
 * administers it); none once the request is not re-checked.
 */
export function recheckedAccounts<A extends LifecycleAccount>(request: Omit<LifecycleRequest, 'accounts'> & { accounts: readonly A[] }): A[] {
  if (!meets(request, 'rechecked')) return [];
  if (meets(request, 'open')) return request.accounts.filter((account) => !isScreenedOut(account));
  return awaitingConfirmation(request.accounts);
}

/** Throws the refusal: what a use case does inside its transaction. */
export function assertAllowed(verdict: Verdict): void {
  if (!verdict.allowed) throw verdict.error;
}

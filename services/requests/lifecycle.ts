import { AppError } from '../../core/errors';
import {
  changedSinceSubmission,
  formatTime,
  isScreenedOut,
  OPEN_STATUSES,
  STATUS_LABEL,
  statusPhrase,
  transferState,
  type Actor,
  type Decision,
  type RequestStatus,
  type StoredAccount,
  type StoredRequest,
} from '../model';
import { requestMeets, type AccountCondition, type RequestCondition } from './request-conditions';

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

/** The request as the lifecycle needs it: its status, who reviews it, its accounts' decisions and questions. */
export type LifecycleRequest = Pick<StoredRequest, 'status' | 'claimedBy' | 'claimedAt' | 'withdrawnAt'> & {
  accounts: ReadonlyArray<
    Pick<StoredAccount, 'id' | 'verdict' | 'decision' | 'decidedBy' | 'decidedAt' | 'transferredAt'> &
      Partial<Pick<StoredAccount, 'recheck' | 'transferConfirmedAt' | 'transferOverride'>>
  >;
  questions: ReadonlyArray<{ answer: string | null }>;
  requester: Pick<Actor, 'id'>;
};
type LifecycleAccount = LifecycleRequest['accounts'][number];

/** Allowed, or why not, in words for the person who pressed (AppError: the catalogue's code and our own detail). */
export type Verdict = { allowed: true } | { allowed: false; error: AppError };

const ALLOWED: Verdict = { allowed: true };
const refused = (error: AppError): Verdict => ({ allowed: false, error });

export function isOpen(status: RequestStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

function undecided(request: LifecycleRequest): LifecycleAccount[] {
  return request.accounts.filter((account) => account.decision === null && !isScreenedOut(account));
}

function untransferred(request: LifecycleRequest): LifecycleAccount[] {
  return request.accounts.filter((account) => account.decision === 'approved' && account.transferredAt === null);
}

function lastDecided(request: LifecycleRequest): string {
  const latest = request.accounts.filter((account) => account.decidedAt).sort((a, b) => b.decidedAt!.getTime() - a.decidedAt!.getTime())[0];
  return latest ? `Last decided by ${latest.decidedBy?.name ?? 'someone'} at ${formatTime(latest.decidedAt)}.` : 'There is nothing left to decide.';
}

function closedToDecisions(request: LifecycleRequest): Verdict | undefined {
  if (request.status === 'withdrawn') return refused(new AppError('INVALID_INPUT', 'The requester withdrew this request: there is nothing to decide.'));
  if (!isOpen(request.status)) return refused(new AppError('ALREADY_DECIDED', lastDecided(request)));
  return undefined;
}

/** May `actor` (a confirmed member of NAS Operations) do `action` to the request? */
export function requestAction(request: LifecycleRequest, action: RequestAction, actor: Pick<Actor, 'id'>): Verdict {
  switch (action) {
    case 'claim':
    case 'takeOver': {
      if (!isOpen(request.status))
        return refused(new AppError('INVALID_INPUT', `This request is ${statusPhrase(request.status)}: there is nothing to review.`));
      if (request.claimedBy?.id === actor.id) return refused(new AppError('INVALID_INPUT', 'You are already reviewing this request.'));
      if (action === 'claim' && request.claimedBy) return refused(alreadyClaimed(request));
      if (action === 'takeOver' && !request.claimedBy) return refused(new AppError('INVALID_INPUT', 'Nobody is reviewing this request now: use Assign to me.'));
      return ALLOWED;
    }
    case 'approveEligible': {
      if (request.status !== 'withdrawn' && !request.accounts.some((account) => account.verdict === 'eligible')) {
        return refused(new AppError('INVALID_INPUT', 'This request has no eligible accounts: decide the accounts for review one by one.'));
      }
      const closed = closedToDecisions(request);
      if (closed) return closed;
      const eligibleUndecided = undecided(request).filter((account) => account.verdict === 'eligible');
      if (eligibleUndecided.length === 0) return refused(new AppError('ALREADY_DECIDED', lastDecided(request)));
      // An account whose facts changed since submission is decided on its own, never in bulk.
      if (!eligibleUndecided.some((account) => !changedSinceSubmission(account))) {
        return refused(new AppError('INVALID_INPUT', 'Every eligible account left has changed since submission: decide them one by one.'));
      }
      return ALLOWED;
    }
    case 'rejectUndecided': {
      const closed = closedToDecisions(request);
      if (closed) return closed;
      return undecided(request).length > 0 ? ALLOWED : refused(new AppError('ALREADY_DECIDED', lastDecided(request)));
    }
    case 'ask':
      return request.status === 'withdrawn' || request.status === 'completed'
        ? refused(new AppError('INVALID_INPUT', `This request is ${request.status}: there is no one to ask.`))
        : ALLOWED;
    case 'markTransferred':
      if (request.status !== 'decided') {
        return refused(
          new AppError(
            'INVALID_INPUT',
            `Accounts can be marked as transferred once every account is decided; this request is ${statusPhrase(request.status)}.`,
          ),
        );
      }
      return untransferred(request).length > 0 ? ALLOWED : refused(new AppError('ALREADY_DECIDED', 'Those accounts are already marked as transferred.'));
  }
}

/** May a member of NAS Operations do `action` to account `accountId` of the request (`to`: the decision asked for)? */
export function accountAction(request: LifecycleRequest, accountId: number, action: AccountAction, to?: Decision): Verdict {
  const account = request.accounts.find((candidate) => candidate.id === accountId);
  if (!account) return refused(new AppError('ACCOUNT_NOT_IN_REQUEST'));
  switch (action) {
    case 'decide': {
      if (request.status === 'withdrawn') return refused(new AppError('INVALID_INPUT', 'The requester withdrew this request: there is nothing to decide.'));
      if (account.decision !== null)
        return refused(
          new AppError('ALREADY_DECIDED', `It was ${account.decision} by ${account.decidedBy?.name ?? 'someone'} at ${formatTime(account.decidedAt)}.`),
        );
      if (isScreenedOut(account))
        return refused(new AppError('INVALID_INPUT', 'That account was screened out at submission as not eligible: it is not for decision.'));
      if (!isOpen(request.status)) return refused(new AppError('ALREADY_DECIDED', lastDecided(request)));
      return ALLOWED;
    }
    case 'correct': {
      if (request.status === 'withdrawn') return refused(new AppError('INVALID_INPUT', 'The requester withdrew this request.'));
      if (request.status === 'completed') return refused(new AppError('INVALID_INPUT', 'This request is completed: its decisions can no longer change.'));
      if (account.decision === null) return refused(new AppError('INVALID_INPUT', 'That account has not been decided yet: use Approve or Reject.'));
      if (account.transferredAt)
        return refused(
          new AppError('INVALID_INPUT', `That account was transferred at ${formatTime(account.transferredAt)}; its decision can no longer change.`),
        );
      if (to !== undefined && account.decision === to) return refused(new AppError('INVALID_INPUT', `That account is already ${to}.`));
      return ALLOWED;
    }
    case 'markAccountTransferred': {
      const whole = requestAction(request, 'markTransferred', { id: '' });
      if (!whole.allowed) return whole;
      if (account.decision !== 'approved') return refused(new AppError('INVALID_INPUT', 'Only an approved account can be marked as transferred.'));
      return account.transferredAt === null ? ALLOWED : refused(new AppError('ALREADY_DECIDED', 'Those accounts are already marked as transferred.'));
    }
    case 'overrideTransfer': {
      if (request.status !== 'decided')
        return refused(new AppError('INVALID_INPUT', `Only a decided request's transfers can be overridden; this request is ${statusPhrase(request.status)}.`));
      if (account.decision !== 'approved') return refused(new AppError('INVALID_INPUT', 'Only an approved account is transferred.'));
      const state = transferState(account);
      if (state === 'approved') return refused(new AppError('INVALID_INPUT', 'Mark the account as transferred first: the bot then checks the directory.'));
      if (state === 'confirmed')
        return refused(new AppError('ALREADY_DECIDED', `The directory shows it moved at ${formatTime(account.transferConfirmedAt ?? null)}.`));
      if (state === 'overridden')
        return refused(
          new AppError(
            'ALREADY_DECIDED',
            `${account.transferOverride?.by.name ?? 'Someone'} overrode it at ${formatTime(account.transferOverride?.at ?? null)}.`,
          ),
        );
      return ALLOWED;
    }
  }
}

/** May the requester (`requesterId`) do `action` to their request? */
export function requesterAction(request: LifecycleRequest, action: RequesterAction, requesterId: string): Verdict {
  if (request.requester.id !== requesterId) return refused(new AppError('NOT_YOUR_REQUEST'));
  switch (action) {
    case 'withdraw':
      if (request.status === 'withdrawn') return refused(new AppError('INVALID_INPUT', 'This request is already withdrawn.'));
      if (!isOpen(request.status) || request.accounts.some((account) => account.decision !== null)) {
        return refused(new AppError('INVALID_INPUT', 'NAS Operations have already decided on accounts in this request, so it can no longer be withdrawn.'));
      }
      return ALLOWED;
    case 'answer':
      return request.questions.some((question) => question.answer === null)
        ? ALLOWED
        : refused(new AppError('INVALID_INPUT', 'NAS Operations have no open question on that request.'));
  }
}

/**
 * The reason an action on an account needs before it may go ahead, or undefined. Approving an
 * account the latest re-check finds ineligible is a judgement against the facts, so it is
 * explained like a correction; overriding the directory always is.
 */
export function reasonNeeded(request: LifecycleRequest, accountId: number, action: AccountAction, to?: Decision): string | undefined {
  const account = request.accounts.find((candidate) => candidate.id === accountId);
  if (!account) return undefined;
  if (action === 'overrideTransfer') return 'Give a reason for overriding the directory, in the box above the buttons: it is kept in the audit.';
  if ((action === 'decide' || action === 'correct') && to === 'approved' && account.recheck?.verdict === 'ineligible') {
    return 'This account is not eligible now (see what changed since submission): give a reason to approve it anyway, in the box above the buttons.';
  }
  return undefined;
}

const APPROVED: AccountCondition = { decisionIs: 'approved' };
/** Seen moved in the directory, or vouched for by NAS Operations: nothing more to watch. */
const MOVED: AccountCondition = { any: [{ has: 'transferConfirmedAt' }, { has: 'transferOverride' }] };
const DECIDED: RequestCondition = { statusIn: ['decided'] };

/**
 * The request's conditions, each written once. The lifecycle and the cards evaluate them
 * (requestMeets); the store filters by the same definitions compiled to SQL (requestSql).
 */
export const REQUEST_CONDITIONS = {
  /** NAS Operations may still decide its accounts. */
  open: { statusIn: OPEN_STATUSES } as RequestCondition,
  /** Decided, with approved accounts not yet seen moved (nor overridden): the directory is watched for the moves. */
  awaitingTransfer: { all: [DECIDED, { someAccount: { all: [APPROVED, { not: MOVED }] } }] } as RequestCondition,
  /**
   * The request may complete: at least one account approved, and every approved account seen
   * moved in the directory or overridden. A request with nothing approved never completes.
   */
  readyToComplete: { all: [DECIDED, { someAccount: APPROVED }, { everyAccount: { any: [{ not: APPROVED }, MOVED] } }] } as RequestCondition,
  /** The requester is owed the outcome (it is on its way or told): a change from now on must reach them too. */
  outcomeOwed: { statusIn: ['decided', 'completed'] } as RequestCondition,
  /** Every account decided and none approved: there is nothing to transfer (and it stays correctable). */
  nothingToTransfer: { all: [DECIDED, { not: { someAccount: APPROVED } }] } as RequestCondition,
  /**
   * Its accounts are screened again (a leaver found at once): while it is open, and after the
   * decision until every approved account has moved, since a leaver is deleted.
   */
  rechecked: { any: [{ statusIn: OPEN_STATUSES }, { all: [DECIDED, { someAccount: { all: [APPROVED, { not: MOVED }] } }] }] } as RequestCondition,
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
  return accounts.filter((account) => account.decision === 'approved' && (transferState(account) === 'approved' || transferState(account) === 'marked'));
}

/** Throws the refusal: what a use case does inside its transaction. */
export function assertAllowed(verdict: Verdict): void {
  if (!verdict.allowed) throw verdict.error;
}

function alreadyClaimed(request: LifecycleRequest): AppError {
  return new AppError(
    'ALREADY_CLAIMED',
    `${request.claimedBy?.name ?? 'Another member of NAS Operations'} has been reviewing it since ${formatTime(request.claimedAt)}.`,
  );
}

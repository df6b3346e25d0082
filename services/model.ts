import { z } from 'zod';
import type { Evidence, Reason, ScreenedAccount, Verdict } from './eligibility/types';

/**
 * The transfer domain's model: a request, its screened accounts, the decisions NAS
 * Operations make on them and whether the requester has been told. Free of Teams types:
 * the bot edge renders these, the store maps rows to them.
 */

/** Someone who did something, named from the directory (never from the client). */
export interface Actor {
  id: string;
  name: string;
}

/** The Primary or Local Administrator making a request, as the directory and ODS describe them. */
export interface RequesterContext extends Actor {
  organisationOds: string;
  organisationName: string;
}

/** A request's reference as people type it, e.g. NTR-100001 (any case). */
export const REQUEST_REFERENCE_PATTERN = /^NTR-\d{1,12}$/i;

export type Decision = 'approved' | 'rejected';
/** submitted -> in_review (claimed) -> decided -> completed (every approved account transferred); or withdrawn before any decision. */
export type RequestStatus = 'submitted' | 'in_review' | 'decided' | 'completed' | 'withdrawn';
export const OPEN_STATUSES: readonly RequestStatus[] = ['submitted', 'in_review'];

/** The process's four "considerations" the requester must confirm; one schema for every boundary. */
export const ATTESTATION_KEYS = ['usersInformed', 'residualDataRemoved', 'notMarkedAsLeavers', 'resolutionForIneligible'] as const;
export type AttestationKey = (typeof ATTESTATION_KEYS)[number];
export const attestationsSchema = z.object(Object.fromEntries(ATTESTATION_KEYS.map((key) => [key, z.boolean()])) as Record<AttestationKey, z.ZodBoolean>);
export type Attestations = z.infer<typeof attestationsSchema>;

/** What the requester told us, and the policy their accounts were screened under. */
export interface RequestDetails {
  organisationOds: string;
  organisationName: string;
  requester: Actor;
  reason: string;
  attestations: Attestations;
  policyVersion: string;
}

export interface NewTransferRequest extends RequestDetails {
  /** The conversation's draft: submitting the same draft again answers with the same request. */
  draftId: string;
  accounts: readonly ScreenedAccount[];
}

export interface StoredAccount {
  id: number;
  position: number;
  email: string;
  siteOds: string | null;
  specialism: string | null;
  verdict: Verdict;
  reasons: Reason[];
  evidence: Evidence;
  decision: Decision | null;
  decisionReason: string | null;
  decidedBy: Actor | null;
  decidedAt: Date | null;
  transferredBy: Actor | null;
  transferredAt: Date | null;
  transferNote: string | null;
  /** The latest re-screening while the request was open; absent before the first. */
  recheck?: AccountRecheckState | null;
  /** Seen moved in the directory (its administering organisation is now a NAS one). */
  transferConfirmedAt?: Date | null;
  /** When the directory was last read for this approved account. */
  transferCheckedAt?: Date | null;
  /** NAS Operations vouched for the transfer the directory does not show. */
  transferOverride?: { by: Actor; at: Date; reason: string } | null;
  /** Marked as a leaver after submission: when the requester's urgent alert was owed (not that it reached them). */
  leaverAlertedAt?: Date | null;
  /** Whether that alert reached the requester: on its way, delivered, or refused for good; absent where not read. */
  leaverAlert?: NotificationState;
}

/** An account screened again after submission: what it is now, and what changed (if anything) and since when. */
export interface AccountRecheckState {
  at: Date;
  verdict: Verdict;
  reasons: Reason[];
  evidence: Evidence;
  /** What differs from submission, in words; null when nothing does. */
  changes: string | null;
  /** When the current change was first seen. */
  changedAt: Date | null;
}

/** What a decision reads of an account's latest re-check: its verdict now, and what changed since submission. */
export type RecheckFacts = Pick<AccountRecheckState, 'verdict' | 'changes'>;

/**
 * An account as a decision reads it under the request's lock: what the lifecycle asks of it
 * (services/requests/lifecycle.ts) and what a refusal names, without its reasons and evidence.
 */
export type AccountFacts = Pick<
  StoredAccount,
  'id' | 'position' | 'verdict' | 'decision' | 'decidedBy' | 'decidedAt' | 'transferredAt' | 'transferConfirmedAt' | 'transferOverride'
> & { recheck: RecheckFacts | null };

/** A request as a decision reads it: the request's row whole, its accounts as facts (services/store/requests.ts lockRequestForDecision). */
export type RequestForDecision = Omit<StoredRequest, 'accounts'> & { accounts: AccountFacts[] };

/** Where an approved account's move to NAS stands. */
export type TransferState = 'approved' | 'marked' | 'confirmed' | 'overridden';

export function transferState(account: Pick<StoredAccount, 'transferredAt' | 'transferConfirmedAt' | 'transferOverride'>): TransferState {
  if (account.transferConfirmedAt) return 'confirmed';
  if (account.transferOverride) return 'overridden';
  return account.transferredAt ? 'marked' : 'approved';
}

/** Changed since submission, per the latest re-check. */
export function changedSinceSubmission(account: { recheck?: Pick<AccountRecheckState, 'changes'> | null }): boolean {
  return Boolean(account.recheck?.changes);
}

/** Whether the requester has been told (the outcome, or a leaver): Teams accepted it, it is on its way, or Teams refused it for good. */
export type NotificationState = 'not_due' | 'pending' | 'delivered' | 'undeliverable';

export interface StoredRequest extends RequestDetails {
  id: number;
  reference: string;
  status: RequestStatus;
  createdAt: Date;
  decidedAt: Date | null;
  opsConversationId: string | null;
  opsActivityId: string | null;
  outcomeNotifiedAt: Date | null;
  /** Where the requester's outcome card was sent (absent before it was, or for requests told before this was kept). */
  outcomeCard?: { conversationId: string; activityId: string } | null;
  outcomeNotification: NotificationState;
  /** Who in NAS Operations is reviewing it ("Assign to me"). */
  claimedBy: Actor | null;
  claimedAt: Date | null;
  completedAt: Date | null;
  withdrawnAt: Date | null;
  /** What NAS Operations asked the requester, and the answers. */
  questions: RequestQuestion[];
  accounts: StoredAccount[];
  /** The affected users' messages sent from the requester's mailbox, per stage (services/duties); absent where not read. */
  affectedUsersTold?: AffectedUsersTold[];
}

/** How many of the affected users were told by email at a stage, and when the last message went. */
export interface AffectedUsersTold {
  stage: 'submitted' | 'outcome';
  total: number;
  sent: number;
  pending: number;
  lastSentAt: Date | null;
}

export interface RequestQuestion {
  id: number;
  askedBy: Actor;
  question: string;
  askedAt: Date;
  answer: string | null;
  answeredAt: Date | null;
}

export interface RequestSummary {
  id: number;
  reference: string;
  organisationName: string;
  status: RequestStatus;
  createdAt: Date;
  claimedByName: string | null;
  accountCount: number;
  approvedCount: number;
  rejectedCount: number;
}

export interface DecisionOutcome {
  decidedAccountIds: number[];
  /** True for exactly one caller: the one whose decision settled the last account. */
  requestNowDecided: boolean;
}

export interface DecisionTally {
  approved: number;
  rejected: number;
  undecided: number;
  eligibleUndecided: number;
  /** Not eligible at screening: kept for the record, never put to a decision. */
  screenedOut: number;
}

/** Found not eligible at screening: on the request for the record, not for NAS Operations to decide. */
export function isScreenedOut(account: Pick<StoredAccount, 'verdict' | 'decision'>): boolean {
  return account.verdict === 'ineligible' && account.decision === null;
}

export function tallyDecisions(accounts: readonly StoredAccount[]): DecisionTally {
  const tally: DecisionTally = { approved: 0, rejected: 0, undecided: 0, eligibleUndecided: 0, screenedOut: 0 };
  for (const account of accounts) {
    if (isScreenedOut(account)) tally.screenedOut++;
    else if (account.decision === 'approved') tally.approved++;
    else if (account.decision === 'rejected') tally.rejected++;
    else {
      tally.undecided++;
      if (account.verdict === 'eligible') tally.eligibleUndecided++;
    }
  }
  return tally;
}

const UK_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
  timeZoneName: 'short',
});

/** UK local time (GMT or BST, as the clocks say), e.g. "24 Nov 2026, 11:30 GMT". */
export function formatTime(at: Date | null): string {
  return at ? UK_TIME.format(at) : 'an unknown time';
}

/** Whole days since `at`, for ages in lists. */
export function ageInDays(at: Date, now: Date = new Date()): number {
  return Math.max(0, Math.floor((now.getTime() - at.getTime()) / 86_400_000));
}

export const STATUS_LABEL: Record<RequestStatus, string> = {
  submitted: 'Awaiting review',
  in_review: 'In review',
  decided: 'Decided',
  completed: 'Completed',
  withdrawn: 'Withdrawn',
};

/** The status inside a sentence ("this request is awaiting review"): the same words as the label. */
export function statusPhrase(status: RequestStatus): string {
  return STATUS_LABEL[status].toLowerCase();
}

/**
 * Reasons a requester can put right themselves (add a UK mobile, unmark a leaver, complete
 * the DSPT), after which the account may be requested again.
 */
export const FIXABLE_RULES: ReadonlySet<string> = new Set(['NO_UK_MOBILE', 'MARKED_AS_LEAVER', 'SITE_NOT_DSPT_COMPLIANT']);

/** Accounts of a request turned down (by NAS Operations or at screening) only for reasons the requester can fix. */
export function fixableAccounts(request: StoredRequest): StoredAccount[] {
  return request.accounts.filter((account) => {
    if (account.decision === 'approved') return false;
    if (account.decision === null && !isScreenedOut(account)) return false;
    const blocking = account.reasons.filter((reason) => reason.verdict === 'ineligible' || account.decision === 'rejected');
    return blocking.length > 0 && blocking.every((reason) => reason.fixable === true || FIXABLE_RULES.has(reason.rule));
  });
}

/**
 * Teams refreshes a card automatically for at most this many users named in refresh.userIds;
 * in a larger channel the rest keep the base card.
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views
 */
export const REFRESH_USER_LIMIT = 60;

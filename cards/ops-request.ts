import type { Attachment } from 'botbuilder';
import { formatTime, isScreenedOut, STATUS_LABEL, tallyDecisions, type NotificationState, type StoredAccount, type StoredRequest } from '../services/model';
import { accountRow, countVerdicts, escapeMarkdown, type AccountRowData } from './account-rows';
import { ATTESTATION_TEXT, DECISION_DISPLAY, type CardColor } from './labels';
import { expandCard, fitToMessageLimit } from './render';
import template from './ops-request.json';

export const OPS_PAGE_SIZE = 20;

/** NAS Operations judge the accounts for review first, then the eligible ones; the screened-out ones come last, for the record. */
const OPS_ORDER: Record<StoredAccount['verdict'], number> = { review: 0, eligible: 1, ineligible: 2 };

function inOpsOrder(accounts: readonly StoredAccount[]): StoredAccount[] {
  return [...accounts].sort((a, b) => OPS_ORDER[a.verdict] - OPS_ORDER[b.verdict] || a.position - b.position);
}

export interface OpsAccountRowData extends AccountRowData {
  requestId: number;
  start: number;
  accountId: number;
  decisionLine: string;
  decisionColor: CardColor;
  canDecide: boolean;
  /** Decided, not yet transferred: the decision may be changed (with a reason). */
  canCorrect: boolean;
  correctTo: 'approved' | 'rejected' | '';
  correctTitle: string;
  /** Approved, the request decided, not yet transferred. */
  canMarkTransferred: boolean;
  transferLine: string;
  /** A refusal of an action on this row, shown next to its buttons. */
  rowNotice: string;
}

export interface OpsRequestCardData {
  requestId: number;
  reference: string;
  statusLabel: string;
  statusColor: CardColor;
  organisationName: string;
  organisationOds: string;
  requesterName: string;
  submittedAt: string;
  policyVersion: string;
  reason: string;
  attestations: Array<{ text: string }>;
  total: number;
  eligibleCount: number;
  reviewCount: number;
  screenedOutCount: number;
  approvedCount: number;
  rejectedCount: number;
  undecidedCount: number;
  eligibleUndecidedCount: number;
  start: number;
  previousStart: number;
  firstShown: number;
  lastShown: number;
  accounts: OpsAccountRowData[];
  notificationLine: string;
  notificationColor: CardColor;
  notice: string;
  reviewerLine: string;
  questions: Array<{ askedLine: string; question: string; answerLine: string; answerColor: CardColor }>;
  canAsk: boolean;
  /** False for the read-only view everyone outside NAS Operations sees. */
  actionable: boolean;
  /** Who gets the card refreshed automatically to their own view (Teams user ids, at most 60). */
  refreshUserIds: string[];
  canClaim: boolean;
  canCorrectAny: boolean;
  untransferredCount: number;
  open: boolean;
}

const NOTIFICATION_DISPLAY: Record<NotificationState, { line: string; color: CardColor }> = {
  not_due: { line: '', color: 'Default' },
  pending: { line: 'The requester is being told the outcome.', color: 'Default' },
  delivered: { line: 'The requester has been told the outcome.', color: 'Good' },
  undeliverable: { line: 'The requester could not be notified in Teams (the bot cannot reach their chat). Tell them another way.', color: 'Attention' },
};

/**
 * The card NAS Operations act on, showing accounts from `start` (0-based) on. Always rendered
 * from the stored request, never from card data.
 */
const STATUS_COLOR: Record<StoredRequest['status'], CardColor> = { submitted: 'Warning', in_review: 'Accent', decided: 'Good', completed: 'Good', withdrawn: 'Default' };

export interface OpsCardView {
  /** The buttons and inputs NAS Operations use; false renders the read-only view. */
  actionable: boolean;
  refreshUserIds: readonly string[];
}

const ACTIONABLE: OpsCardView = { actionable: true, refreshUserIds: [] };

export function renderOpsRequestCard(request: StoredRequest, start = 0, notice = '', noticeAccountId?: number, view: OpsCardView = ACTIONABLE): Attachment {
  const accounts = inOpsOrder(request.accounts);
  const pageStart = start >= 0 && start < accounts.length ? start : 0;
  const pageAccounts = accounts.slice(pageStart, pageStart + OPS_PAGE_SIZE);
  const counts = countVerdicts(accounts);
  const tally = tallyDecisions(accounts);
  const notification = NOTIFICATION_DISPLAY[request.outcomeNotification];
  const decided = request.status === 'decided';
  const open = request.status === 'submitted' || request.status === 'in_review';
  const untransferred = accounts.filter((account) => account.decision === 'approved' && account.transferredAt === null).length;
  const correctable = (account: StoredAccount) => account.decision !== null && account.transferredAt === null && (open || decided);
  const rowNotice = noticeAccountId !== undefined && accounts.some((account) => account.id === noticeAccountId);
  return fitToMessageLimit(pageAccounts.length, (shown) =>
    expandCard<OpsRequestCardData>(template, {
      requestId: request.id,
      reference: request.reference,
      statusLabel: STATUS_LABEL[request.status],
      statusColor: STATUS_COLOR[request.status],
      reviewerLine: request.status === 'in_review' && request.claimedBy ? `Being reviewed by ${escapeMarkdown(request.claimedBy.name)} since ${formatTime(request.claimedAt)}` : '',
      actionable: view.actionable,
      // Plain text in TextRuns: the question and the answer are people's words, not markdown.
      questions: request.questions.map((question) => ({
        askedLine: `${question.askedBy.name} asked at ${formatTime(question.askedAt)}:`,
        question: question.question,
        answerLine: question.answer ? `Answer (${formatTime(question.answeredAt)}): ${question.answer}` : 'Not answered yet.',
        answerColor: question.answer ? 'Default' : 'Warning',
      })),
      canAsk: request.status !== 'withdrawn' && request.status !== 'completed',
      refreshUserIds: [...view.refreshUserIds],
      canClaim: open,
      canCorrectAny: accounts.some(correctable),
      untransferredCount: decided ? untransferred : 0,
      open,
      // FactSet values are markdown in Teams: names from ODS and the directory are shown as written.
      organisationName: escapeMarkdown(request.organisationName),
      organisationOds: escapeMarkdown(request.organisationOds),
      requesterName: escapeMarkdown(request.requester.name),
      submittedAt: formatTime(request.createdAt),
      policyVersion: request.policyVersion,
      reason: request.reason,
      attestations: (Object.keys(ATTESTATION_TEXT) as Array<keyof typeof ATTESTATION_TEXT>)
        .filter((key) => request.attestations[key])
        .map((key) => ({ text: ATTESTATION_TEXT[key] })),
      total: accounts.length,
      eligibleCount: counts.eligible,
      reviewCount: counts.review,
      screenedOutCount: tally.screenedOut,
      approvedCount: tally.approved,
      rejectedCount: tally.rejected,
      undecidedCount: tally.undecided,
      eligibleUndecidedCount: tally.eligibleUndecided,
      start: pageStart,
      previousStart: Math.max(0, pageStart - OPS_PAGE_SIZE),
      firstShown: pageStart + 1,
      lastShown: pageStart + shown,
      accounts: pageAccounts.slice(0, shown).map((account) => ({
        ...opsAccountRow(request.id, pageStart, account, { open, decided, correctable: correctable(account) }),
        rowNotice: rowNotice && account.id === noticeAccountId ? notice : '',
      })),
      notificationLine: notification.line,
      notificationColor: notification.color,
      // A refusal of a row's button is shown by that row; anything else here.
      notice: rowNotice ? '' : notice,
    }),
  ).card;
}

function opsAccountRow(requestId: number, start: number, account: StoredAccount, state: { open: boolean; decided: boolean; correctable: boolean }): OpsAccountRowData {
  const decision = account.decision ? DECISION_DISPLAY[account.decision] : undefined;
  const correctTo = account.decision === 'approved' ? 'rejected' : account.decision === 'rejected' ? 'approved' : '';
  const because = account.decisionReason ? `: ${account.decisionReason}` : '';
  return {
    ...accountRow(account, false),
    requestId,
    start,
    accountId: account.id,
    decisionLine: decision
      ? `${decision.label} by ${account.decidedBy?.name ?? 'unknown'} at ${formatTime(account.decidedAt)}${because}`
      : isScreenedOut(account)
        ? 'Screened out at submission: not put to a decision.'
        : '',
    decisionColor: decision?.color ?? 'Default',
    canDecide: state.open && account.decision === null && !isScreenedOut(account),
    canCorrect: state.correctable,
    correctTo,
    correctTitle: correctTo === 'approved' ? 'Change to approved' : 'Change to rejected',
    canMarkTransferred: state.decided && account.decision === 'approved' && account.transferredAt === null,
    transferLine: account.transferredAt
      ? `Transferred to NAS by ${account.transferredBy?.name ?? 'NAS Operations'} at ${formatTime(account.transferredAt)}${account.transferNote ? `: ${account.transferNote}` : ''}`
      : '',
    rowNotice: '',
  };
}

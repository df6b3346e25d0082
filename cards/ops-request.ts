import {
  changedSinceSubmission,
  formatTime,
  isScreenedOut,
  tallyDecisions,
  transferState,
  type DecisionTally,
  type NotificationState,
  type StoredAccount,
  type StoredRequest,
} from '../services/model';
import { escapeMarkdown, printableOnOneLine } from '../core/text';
import { plural, pluralWord } from './plural';
import { accountRow, countVerdicts, type AccountRowData } from './account-rows';
import { opsTallyWords } from '../services/duties/tally-words';
import { ATTESTATION_TEXT, DECISION_DISPLAY, REQUEST_STATUS_COLOR, type CardColor, type TextWeight } from './labels';
import { accountAction, isOpen, nothingToTransfer, requestAction, statusLabel, type AccountAction, type RequestAction } from '../services/requests/lifecycle';
import { CARD_BUDGET_BYTES, expandCard, fitToMessageLimit, type CardAttachment } from './render';
import template from './ops-request.json';

export const OPS_PAGE_SIZE = 20;
/** The latest questions to the requester shown on the card (the rest are in the audit history): each may be 500 characters, with a 500-character answer. */
const QUESTIONS_SHOWN = 3;
/** How much of the reason for transfer a card that Teams found too large still shows. */
const SHORT_REASON = 200;

/** NAS Operations judge the accounts for review first, then the eligible ones; the screened-out ones come last, for the record. */
const OPS_ORDER: Record<StoredAccount['verdict'], number> = { review: 0, eligible: 1, ineligible: 2 };

/** Accounts whose facts changed since submission come first: they are decided one by one, and may be urgent. */
function inOpsOrder(accounts: readonly StoredAccount[]): StoredAccount[] {
  const changedFirst = (account: StoredAccount) => (changedSinceSubmission(account) ? 0 : 1);
  return [...accounts].sort((a, b) => changedFirst(a) - changedFirst(b) || OPS_ORDER[a.verdict] - OPS_ORDER[b.verdict] || a.position - b.position);
}

/** Marked as a leaver since submission, and not yet decided against or moved: it will be deleted unless unmarked. */
/**
 * Marked as a leaver since submission and not yet administered by NAS (a leaver is deleted): found
 * by a re-check, or by a transfer check before the re-check it owes has recorded the reasons.
 */
function isUrgentLeaver(account: StoredAccount): boolean {
  if (account.decision === 'rejected' || account.transferConfirmedAt || account.transferOverride || !account.leaverAlertedAt) return false;
  const recheck = account.recheck;
  if (!recheck || recheck.at < account.leaverAlertedAt) return true;
  return recheck.reasons.some((reason) => reason.rule === 'MARKED_AS_LEAVER');
}

/**
 * One account row. A `$when` inside the template's `$data` repetition sees only the row, so
 * everything a row's buttons depend on (the card's view included) is decided here, per row.
 */
export interface OpsAccountRowData extends AccountRowData {
  requestId: number;
  start: number;
  accountId: number;
  /** The address as plain text, for button tooltips (not markdown). */
  plainEmail: string;
  decisionLine: string;
  decisionColor: CardColor;
  /** Approve and Reject: open request, undecided account, not screened out, actionable view. */
  showDecide: boolean;
  /** Change to …: decided, not yet transferred (a reason is needed). */
  showCorrect: boolean;
  correctTo: 'approved' | 'rejected' | '';
  correctTitle: string;
  /** Mark transferred: approved, the request decided, not yet transferred. */
  showMarkTransferred: boolean;
  /** Override: marked transferred, the directory not showing it moved (a reason is needed). */
  showOverride: boolean;
  transferLine: string;
  /** What changed since submission, and when it was seen; empty when nothing did. */
  changeLine: string;
  /** A refusal of an action on this row, shown next to its buttons. */
  rowNotice: string;
}

export interface OpsRequestCardData {
  requestId: number;
  reference: string;
  statusLabel: string;
  statusColor: CardColor;
  /** After the status: who has it, or who withdrew it and when, or when it was decided or completed. */
  statusDetail: string;
  showClaim: boolean;
  showTakeOver: boolean;
  takeOverTitle: string;
  /** The reviewer the take-over button names, so a take-over from a stale card is refused. */
  reviewerId: string;
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
  decisionSummary: string;
  undecidedCount: number;
  eligibleUndecidedCount: number;
  untransferredCount: number;
  start: number;
  previousStart: number;
  firstShown: number;
  lastShown: number;
  /** The inputs and bulk buttons, above the rows whose buttons share the inputs. */
  showDecisionArea: boolean;
  decisionAreaTitle: string;
  showReasonBox: boolean;
  showApproveEligible: boolean;
  showRejectUndecided: boolean;
  rejectUndecidedWarning: string;
  rejectUndecidedTitle: string;
  showTransferArea: boolean;
  decisionNotice: string;
  accounts: OpsAccountRowData[];
  questions: Array<{ askedLine: string; question: string; answerLine: string; answerColor: CardColor; answerWeight: TextWeight }>;
  showAsk: boolean;
  questionNotice: string;
  earlierQuestionsLine: string;
  notificationLine: string;
  notificationColor: CardColor;
  /** A notice about the request as a whole, under its status. */
  notice: string;
  /** At the top: accounts marked as leavers since submission. */
  urgentLine: string;
  /** When the accounts were last screened again, and how many changed since submission. */
  recheckLine: string;
  /** Who gets the card refreshed automatically to their own view (Teams user ids, at most 60). */
  refreshUserIds: string[];
  /** The read-only base card's button for one's own view (channels of more than 60 members). */
  showOwnViewButton: boolean;
}

const NOTIFICATION_DISPLAY: Record<NotificationState, { line: string; color: CardColor }> = {
  not_due: { line: '', color: 'Default' },
  pending: { line: 'The requester is being told the outcome.', color: 'Default' },
  delivered: { line: 'The requester has been told the outcome.', color: 'Default' },
  undeliverable: { line: 'The requester could not be notified in Teams (the bot cannot reach their chat). Tell them another way.', color: 'Accent' },
};

export interface OpsCardView {
  /** The buttons and inputs NAS Operations use; false renders the read-only view. */
  actionable: boolean;
  /** Whose view this is (a refresh names them): the reviewer is not offered to take over from themselves. Unset for the card everyone sees. */
  viewerId?: string;
  /** The card action whose refusal `notice` is: it is shown by the button that was pressed. */
  noticeVerb?: string;
  /** How many times Teams found this card too large (413): each step shows fewer accounts, in less room. */
  smaller?: number;
  /**
   * The base card of a channel with more than 60 members: read-only, with a button that asks
   * for one's own view (an Action.Execute the bot answers with the viewer's card), as Microsoft
   * recommends where refresh.userIds cannot name everyone.
   * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views
   */
  askForOwnView?: boolean;
  refreshUserIds: readonly string[];
}

const ACTIONABLE: OpsCardView = { actionable: true, refreshUserIds: [] };

/** Where a refusal is shown: by the row whose button was pressed, by the question box, by the status, or by the decision buttons. */
type NoticePlace = 'row' | 'question' | 'status' | 'decision';

const NOTICE_PLACE_OF_VERB: Record<string, NoticePlace> = {
  askRequester: 'question',
  claimRequest: 'status',
  takeOverRequest: 'status',
  showPage: 'status',
  approveEligible: 'decision',
  rejectRequest: 'decision',
  markTransferred: 'decision',
};

function noticePlace(verb: string | undefined, onRow: boolean, decisionAreaShown: boolean): NoticePlace {
  if (onRow) return 'row';
  const place = verb === undefined ? undefined : NOTICE_PLACE_OF_VERB[verb];
  if (place === 'decision' || place === undefined) return decisionAreaShown ? 'decision' : 'status';
  return place;
}

/**
 * The card NAS Operations act on, showing accounts from `start` (0-based) on. Always rendered
 * from the stored request, never from card data. The card posted in the channel is the
 * actionable view: clients without Universal Actions refresh (the Agents Playground, older
 * Teams) show only it, so it carries every button a member of NAS Operations needs.
 */
export function renderOpsRequestCard(request: StoredRequest, start = 0, notice = '', noticeAccountId?: number, view: OpsCardView = ACTIONABLE): CardAttachment {
  const pageStart = start >= 0 && start < request.accounts.length ? start : 0;
  // After a 413 the page holds half as many accounts each time, in half the room.
  const smaller = Math.max(0, view.smaller ?? 0);
  const onPage = Math.min(Math.max(1, OPS_PAGE_SIZE >> smaller), request.accounts.length - pageStart);
  const budget = CARD_BUDGET_BYTES / 2 ** smaller;
  return fitToMessageLimit(
    onPage,
    (shown) => expandCard<OpsRequestCardData>(template, opsRequestCardData(request, pageStart, notice, noticeAccountId, view, shown)),
    budget,
  ).card;
}

/** The template's data for the page from `start`, showing its first `shown` accounts. */
export function opsRequestCardData(
  request: StoredRequest,
  start: number,
  notice: string,
  noticeAccountId: number | undefined,
  view: OpsCardView,
  shown = OPS_PAGE_SIZE,
): OpsRequestCardData {
  const accounts = inOpsOrder(request.accounts);
  const pageStart = start >= 0 && start < accounts.length ? start : 0;
  const pageAccounts = accounts.slice(pageStart, pageStart + Math.min(shown, OPS_PAGE_SIZE));
  const counts = countVerdicts(accounts);
  const tally = tallyDecisions(accounts);
  const notification = NOTIFICATION_DISPLAY[request.outcomeNotification];
  const open = isOpen(request.status);
  const can = view.actionable;
  // Every button is drawn from the lifecycle's own answer, the one the use case checks again when it is pressed.
  const allows = (action: RequestAction) => can && requestAction(request, action, { id: view.viewerId ?? '' }).allowed;
  const showTransferArea = allows('markTransferred');
  const untransferred = showTransferArea ? accounts.filter((account) => account.decision === 'approved' && account.transferredAt === null).length : 0;
  const eligibleUnchanged = accounts.filter(
    (account) => account.verdict === 'eligible' && account.decision === null && !changedSinceSubmission(account),
  ).length;
  const noticeOnPage = noticeAccountId !== undefined && pageAccounts.some((account) => account.id === noticeAccountId);
  const rows = pageAccounts.map((account) => ({
    ...opsAccountRow(request, pageStart, account, can),
    rowNotice: noticeOnPage && account.id === noticeAccountId ? notice : '',
  }));
  const showApproveEligible = allows('approveEligible');
  const showRejectUndecided = allows('rejectUndecided');
  // The reason box only where a button on this card reads it.
  const showReasonBox = showRejectUndecided || rows.some((row) => row.showDecide || row.showCorrect || row.showOverride);
  const showDecisionArea = showReasonBox || showApproveEligible || showTransferArea;
  const place = notice ? noticePlace(view.noticeVerb, noticeOnPage, showDecisionArea) : 'status';
  // After a 413: fewer questions, then none (they stay in the history); a long reason is cut, with where to read it whole.
  const smaller = view.smaller ?? 0;
  const shownQuestions = smaller >= 3 ? [] : request.questions.slice(-Math.max(1, QUESTIONS_SHOWN >> smaller));
  const earlier = request.questions.length - shownQuestions.length;
  const reviewer = request.claimedBy;
  return {
    requestId: request.id,
    reference: request.reference,
    statusLabel: statusLabel(request),
    statusColor: REQUEST_STATUS_COLOR[request.status],
    statusDetail: statusDetail(request),
    showClaim: reviewer === null && allows('claim'),
    // The card everyone sees offers it to all (the reviewer pressing it is told they have it); a refreshed view hides it from the reviewer.
    showTakeOver: reviewer !== null && reviewer.id !== view.viewerId && allows('takeOver'),
    takeOverTitle: reviewer ? `Take over from ${reviewer.name}` : '',
    reviewerId: reviewer?.id ?? '',
    // FactSet values are markdown in Teams: names from ODS and the directory are shown as written.
    organisationName: escapeMarkdown(request.organisationName),
    organisationOds: escapeMarkdown(request.organisationOds),
    requesterName: escapeMarkdown(request.requester.name),
    submittedAt: formatTime(request.createdAt),
    policyVersion: request.policyVersion,
    reason:
      smaller >= 2 && request.reason.length > SHORT_REASON
        ? `${request.reason.slice(0, SHORT_REASON)}… (the whole reason: type status ${request.reference})`
        : request.reason,
    attestations: (Object.keys(ATTESTATION_TEXT) as Array<keyof typeof ATTESTATION_TEXT>)
      .filter((key) => request.attestations[key])
      .map((key) => ({ text: ATTESTATION_TEXT[key] + (key === 'usersInformed' ? toldByEmail(request) : '') })),
    total: accounts.length,
    eligibleCount: counts.eligible,
    reviewCount: counts.review,
    screenedOutCount: tally.screenedOut,
    decisionSummary: decisionSummary(request, tally),
    undecidedCount: tally.undecided,
    // Approve all eligible leaves the accounts changed since submission to be decided one by one.
    eligibleUndecidedCount: eligibleUnchanged,
    untransferredCount: untransferred,
    start: pageStart,
    previousStart: Math.max(0, pageStart - OPS_PAGE_SIZE),
    firstShown: pageStart + 1,
    lastShown: pageStart + rows.length,
    showDecisionArea,
    decisionAreaTitle: open ? 'Decide' : showTransferArea ? 'Transfer the approved accounts' : 'Change a decision',
    showReasonBox,
    showApproveEligible,
    showRejectUndecided,
    rejectUndecidedWarning: rejectUndecidedWarning(tally),
    rejectUndecidedTitle: `Yes, reject ${tally.undecided === 1 ? 'the undecided account' : tally.undecided === 2 ? 'both undecided' : `all ${tally.undecided} undecided`}`,
    showTransferArea,
    decisionNotice: place === 'decision' ? notice : '',
    accounts: rows,
    // Plain text in TextRuns: the question and the answer are people's words, not markdown. The latest few, so the card stays within Teams' limit.
    questions: shownQuestions.map((question) => ({
      askedLine: `${question.askedBy.name} asked at ${formatTime(question.askedAt)}:`,
      question: question.question,
      answerLine: question.answer ? `Answer (${formatTime(question.answeredAt)}): ${question.answer}` : 'Not answered yet.',
      answerColor: question.answer ? 'Default' : 'Accent',
      answerWeight: question.answer ? 'Default' : 'Bolder',
    })),
    showAsk: allows('ask'),
    questionNotice: place === 'question' ? notice : '',
    earlierQuestionsLine:
      earlier > 0
        ? `${earlier} earlier ${earlier === 1 ? 'question' : 'questions'} and ${earlier === 1 ? 'its answer are' : 'their answers are'} in the history: type audit ${request.reference}.`
        : '',
    notificationLine: notification.line,
    notificationColor: notification.color,
    notice: place === 'status' ? notice : '',
    urgentLine: urgentLine(accounts),
    recheckLine: recheckLine(accounts),
    refreshUserIds: [...view.refreshUserIds],
    showOwnViewButton: view.askForOwnView === true && !can,
  };
}

/** Who decided the request's accounts, in the order they first decided: "Tom Ashdown", "Tom Ashdown and Jo Bloggs". */
export function decidersOf(request: Pick<StoredRequest, 'accounts'>): string {
  const names = [...new Set(request.accounts.flatMap((account) => (account.decision && account.decidedBy ? [account.decidedBy.name] : [])))];
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Where a decided request's approved accounts stand, after "every account decided". */
function transferStage(request: StoredRequest): string {
  if (nothingToTransfer(request)) return 'no account was approved, so nothing is transferred; a decision can still be changed';
  const approved = request.accounts.filter((account) => account.decision === 'approved');
  const unmarked = approved.filter((account) => transferState(account) === 'approved').length;
  if (unmarked > 0) return `${plural(unmarked, 'approved account')} ${pluralWord(unmarked, 'is', 'are')} waiting to be transferred`;
  const unseen = approved.filter((account) => transferState(account) === 'marked').length;
  return unseen === 0
    ? 'every approved account is transferred'
    : `every approved account is marked transferred; the bot is waiting for the directory to show ${unseen === 1 ? 'one' : unseen} moved`;
}

function statusDetail(request: StoredRequest): string {
  // Nobody need press Assign to me to decide: the card then says who decided, never "not assigned" alone.
  const deciders = decidersOf(request);
  switch (request.status) {
    case 'submitted':
      return deciders ? ` · not assigned; decided so far by ${deciders}` : ' · not assigned to anyone yet';
    case 'in_review':
      return request.claimedBy
        ? ` · assigned to ${request.claimedBy.name} since ${formatTime(request.claimedAt)}`
        : deciders
          ? ` · decided so far by ${deciders}`
          : '';
    case 'decided':
      return ` · every account decided${deciders ? ` by ${deciders}` : ''}${request.decidedAt ? ` at ${formatTime(request.decidedAt)}` : ''}; ${transferStage(request)}`;
    case 'completed':
      return ` · every approved account transferred${request.completedAt ? ` at ${formatTime(request.completedAt)}` : ''}`;
    case 'withdrawn':
      return ` · withdrawn by ${request.requester.name} (the requester) at ${formatTime(request.withdrawnAt)}, before any decision`;
  }
}

function urgentLine(accounts: readonly StoredAccount[]): string {
  const leavers = accounts.filter(isUrgentLeaver);
  if (leavers.length === 0) return '';
  const one = leavers.length === 1;
  const positions = leavers
    .slice(0, 10)
    .map((account) => account.position)
    .join(', ');
  const told = leaverToldLine(leavers);
  return `Urgent: ${one ? `account ${positions} was` : `${leavers.length} accounts (${positions}${leavers.length > 10 ? ', …' : ''}) were`} marked as ${one ? 'a leaver' : 'leavers'} since submission and will be deleted 30 days after marking unless unmarked.${told ? ` ${told}` : ''}`;
}

/**
 * Whether the requester was told of each leaver, from its alert's delivery, not from its being owed:
 * NAS Operations do not chase a deletion they believe the requester knows of. Accounts alerted
 * together share a state; where states differ, each is named with its accounts.
 */
const LEAVER_TOLD: Record<Exclude<NotificationState, 'not_due'>, (ofAccounts: string) => string> = {
  undeliverable: (of) => `could not be told${of} in Teams (the bot cannot reach their chat)`,
  pending: (of) => `is being told${of}`,
  delivered: (of) => `has been told${of}`,
};

function leaverToldLine(leavers: readonly StoredAccount[]): string {
  const groups = (['undeliverable', 'pending', 'delivered'] as const)
    .map((state) => ({ state, positions: leavers.filter((account) => account.leaverAlert === state).map((account) => account.position) }))
    .filter((group) => group.positions.length > 0);
  // No alert read for them (not on the card's read): nothing is claimed either way, and a state that is not every leaver's names its accounts.
  if (groups.length === 0) return '';
  const ofAccounts = (positions: readonly number[]) =>
    positions.length === leavers.length
      ? ''
      : ` of ${positions.length === 1 ? 'account' : 'accounts'} ${positions.slice(0, 10).join(', ')}${positions.length > 10 ? ', …' : ''}`;
  const parts = groups.map((group) => LEAVER_TOLD[group.state](ofAccounts(group.positions)));
  return `The requester ${parts.join('; ')}${groups[0]!.state === 'undeliverable' ? ': tell them another way' : ''}.`;
}

function recheckLine(accounts: readonly StoredAccount[]): string {
  const checked = accounts.map((account) => account.recheck?.at).filter((at): at is Date => at instanceof Date);
  if (checked.length === 0) return '';
  const latest = new Date(Math.max(...checked.map((at) => at.getTime())));
  const changed = accounts.filter(changedSinceSubmission).length;
  return `Accounts screened again at ${formatTime(latest)}: ${changed === 0 ? 'nothing changed since submission' : `${changed} changed since submission (shown first; decide them one by one)`}.`;
}

function transferLine(account: StoredAccount): string {
  if (account.decision !== 'approved') return '';
  const marked = account.transferredAt
    ? `marked transferred by ${account.transferredBy?.name ?? 'NAS Operations'} at ${formatTime(account.transferredAt)}${account.transferNote ? ` (${account.transferNote})` : ''}`
    : '';
  switch (transferState(account)) {
    case 'confirmed':
      return `Transferred: seen moved in the directory at ${formatTime(account.transferConfirmedAt ?? null)}${account.transferNote === 'seen moved in the directory' ? '' : marked ? `; ${marked}` : ''}`;
    case 'overridden':
      return `Transferred: overridden by ${account.transferOverride?.by.name ?? 'NAS Operations'} at ${formatTime(account.transferOverride?.at ?? null)}: ${account.transferOverride?.reason ?? ''}; ${marked}`;
    case 'marked':
      return `Not yet moved in the directory${account.transferCheckedAt ? ` (last checked ${formatTime(account.transferCheckedAt)})` : ''}; ${marked}. The bot keeps checking.`;
    case 'approved':
      return '';
  }
}

function decisionSummary(request: StoredRequest, tally: DecisionTally): string {
  if (request.status === 'withdrawn') return 'none: the request was withdrawn';
  const made = `${tally.approved} approved, ${tally.rejected} rejected`;
  return tally.undecided > 0 ? `${made}, ${tally.undecided} to decide` : made;
}

function rejectUndecidedWarning(tally: DecisionTally): string {
  const eligible = tally.eligibleUndecided;
  const including = eligible > 0 ? `, including ${eligible} screened as eligible` : '';
  return `This rejects ${everyOf(tally.undecided, 'undecided account')}${including}, each with the reason in the box above. The requester sees it.`;
}

/** "the undecided account", "both undecided accounts", "all 3 undecided accounts": never "all 1" or "all 2". */
export function everyOf(count: number, noun: string): string {
  if (count === 1) return `the ${noun}`;
  if (count === 2) return `both ${noun}s`;
  return `all ${plural(count, noun)}`;
}

function opsAccountRow(request: StoredRequest, start: number, account: StoredAccount, can: boolean): OpsAccountRowData {
  const allows = (action: AccountAction) => can && accountAction(request, account.id, action).allowed;
  const decision = account.decision ? DECISION_DISPLAY[account.decision] : undefined;
  const correctTo = account.decision === 'approved' ? 'rejected' : account.decision === 'rejected' ? 'approved' : '';
  const because = account.decisionReason ? `: ${account.decisionReason}` : '';
  // The evidence shown is the latest: the last re-check's, when there has been one.
  const latest = account.recheck
    ? { ...account, verdict: account.recheck.verdict, reasons: account.recheck.reasons, evidence: account.recheck.evidence }
    : account;
  return {
    ...accountRow(latest, false),
    requestId: request.id,
    start,
    accountId: account.id,
    plainEmail: printableOnOneLine(account.email),
    decisionLine: decision
      ? `${decision.label} by ${account.decidedBy?.name ?? 'unknown'} at ${formatTime(account.decidedAt)}${because}`
      : isScreenedOut(account)
        ? 'Screened out at submission: not put to a decision.'
        : '',
    decisionColor: decision?.color ?? 'Default',
    showDecide: allows('decide'),
    showCorrect: allows('correct'),
    correctTo,
    correctTitle: correctTo === 'approved' ? 'Change to approved' : 'Change to rejected',
    showMarkTransferred: allows('markAccountTransferred'),
    showOverride: allows('overrideTransfer'),
    transferLine: transferLine(account),
    changeLine: account.recheck?.changes
      ? `Since submission: ${account.recheck.changes} (seen ${formatTime(account.recheck.changedAt)}). Decide it on its own.`
      : '',
    rowNotice: '',
  };
}

/** What the bot did, beside the requester's tick: "(affected users told by email on 6 Dec (at submission): 14 of 16)". */
function toldByEmail(request: StoredRequest): string {
  const words = opsTallyWords(request.affectedUsersTold ?? []);
  return words ? ` (${words})` : '';
}

/**
 * The card posted when Teams refuses even the smallest rendering as too large (413): the
 * reference, the counts, and where to open the request in full. NAS Operations read on it
 * that the full card could not be shown, and the requester is told separately.
 */
export function renderMinimalOpsCard(request: StoredRequest): CardAttachment {
  const tally = tallyDecisions(request.accounts);
  const counts = countVerdicts(request.accounts);
  return {
    contentType: 'application/vnd.microsoft.card.adaptive',
    content: {
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      body: [
        { type: 'TextBlock', text: `Transfer request ${request.reference}`, weight: 'Bolder', size: 'Medium', wrap: true },
        {
          type: 'TextBlock',
          text: `${statusLabel(request)} · ${escapeMarkdown(request.organisationName)} (${escapeMarkdown(request.organisationOds)})`,
          wrap: true,
        },
        {
          type: 'TextBlock',
          text: `${plural(request.accounts.length, 'account')}: ${counts.eligible} eligible, ${counts.review} for review, ${tally.screenedOut} screened out. Decisions: ${decisionSummary(request, tally)}.`,
          wrap: true,
        },
        {
          type: 'TextBlock',
          text: `Teams refused this request's full card as too large, even at its smallest. Open ${request.reference} in the NAS workspace tab to see and decide it (type **status ${request.reference}** for a summary here). The requester has been told.`,
          wrap: true,
          weight: 'Bolder',
          color: 'Accent',
        },
      ],
    },
  };
}

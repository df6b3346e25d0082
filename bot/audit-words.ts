import { joinClauses } from '../core/text';
import { plural } from '../cards/plural';
import { STATUS_LABEL, statusPhrase, type RequestStatus } from '../services/model';
import { opsActionRecorded, type OpsActionName } from './ops-actions';

/**
 * What each recorded action means, in words, for every place a person reads the audit (the
 * chat's "audit NTR-…" and the workspace's audit trail). One table, so the two never differ and
 * neither shows an event name such as request.rechecked, a rule code or raw JSON.
 */
export const EVENT_WORDS: Readonly<Record<string, string>> = {
  'request.submitted': 'submitted the request',
  'request.claimed': 'started reviewing',
  'request.taken_over': 'took over the review',
  'request.approved_eligible': 'approved (all eligible)',
  'request.rejected': 'rejected (all remaining)',
  'account.approved': 'approved',
  'account.rejected': 'rejected',
  'account.corrected': 'changed a decision',
  'account.transferred': 'marked transferred',
  'account.transfer_confirmed': 'saw the account moved to NAS in the directory',
  'account.transfer_overridden': 'confirmed the transfer although the directory does not show it',
  'request.rechecked': 'screened the accounts again',
  'request.leaver_alerted': 'told the requester of accounts marked as leavers',
  'request.completed': 'completed the request',
  'request.withdrawn': 'withdrew the request',
  'request.asked': 'asked the requester',
  'request.answered': 'answered',
  'request.exported': 'exported the request',
  'request.purged': 'removed personal data (retention)',
  'requester.notified': 'told the requester',
  'requester.notification_failed': 'could not tell the requester',
  'card_action.refused': 'was refused an action',
  'duties.mail_queued': 'queued a message to an affected user, from the requester’s mailbox',
  'duties.mail_sent': 'sent a message to an affected user, from the requester’s mailbox',
  'duties.mail_failed': 'could not send a message to an affected user',
};

/** The owed messages a requester can be sent, as the audit names them. */
const MESSAGE_KIND: Readonly<Record<string, string>> = {
  outcome: 'the outcome',
  completion: 'that the transfer is complete',
  question: 'a question from NAS Operations',
  'question.chase': 'a reminder of the question',
  'leaver.alert': 'that accounts were marked as leavers',
  'card.too_large': 'that NAS Operations got a summary (the full card was too large for Teams)',
  'outcome.changed': 'what changed after the outcome',
  'outcome.update': 'the outcome card brought up to date',
  'duties.tally': 'how sending to the affected users went',
};

/** What started a re-check (request_checks.trigger), in words. */
const TRIGGER_WORDS: Readonly<Record<string, string>> = {
  claim: 'when the review started',
  approval: 'before an approval took effect',
  daily: 'in the daily check',
  scheduled: 'as scheduled',
  decided: 'once every account was decided',
  marked: 'after a transfer was marked',
  approved: 'after an approval',
};

/** Each action NAS Operations can be refused (bot/ops-actions.ts), by its button's words. */
const ACTION_WORDS: Readonly<Record<OpsActionName, string>> = {
  approveEligible: 'Approve all eligible',
  rejectUndecided: 'Reject all undecided',
  decide: 'Approve or Reject',
  correct: 'Change a decision',
  markTransferred: 'Mark approved as transferred',
  markAccountTransferred: 'Mark transferred',
  overrideTransfer: 'Transferred anyway: override',
  claim: 'Assign to me',
  takeOver: 'Take over',
  ask: 'Ask the requester',
};
/** The card's verbs that only show it. */
const VIEW_WORDS: Readonly<Record<string, string>> = { refreshCard: 'see the card', showPage: 'show more accounts' };

/** A refused verb in words: an action by its name, or by the card verb recorded before actions had one name. */
function verbWords(verb: string): string {
  const action = opsActionRecorded(verb);
  return action ? ACTION_WORDS[action] : (VIEW_WORDS[verb] ?? verb);
}

/** Refusal codes (core/errors.ts) as the audit states them. */
const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  NOT_OPS: 'not in NAS Operations',
  OPS_UNCONFIRMED: 'membership of NAS Operations could not be confirmed',
};

const VERDICT_WORDS: Readonly<Record<string, string>> = { eligible: 'eligible', review: 'for review', ineligible: 'not eligible' };

const DETAIL_LIMIT = 160;
const VALUE_LIMIT = 60;

/** An action's words; one not listed reads as its words without the dots and underscores, never as a code. */
export function auditEventWords(action: string): string {
  return EVENT_WORDS[action] ?? action.replace(/^[a-z_]+\./, '').replace(/[._]/g, ' ');
}

/**
 * What an event recorded, in words ("6 accounts: 2 eligible, 1 for review, 3 not eligible";
 * "reason: …"), never as raw fields. Free text is cut at a word boundary, with an ellipsis.
 * `positionOf` names accounts by their line in the request.
 */
export function auditDetailWords(
  action: string,
  detail: Record<string, unknown>,
  positionOf: (accountId: number) => number | undefined = () => undefined,
): string {
  const before = asObject(detail.before);
  const after = asObject(detail.after);
  const text = (key: string, from: Record<string, unknown> | undefined = detail) => scalar(from?.[key]);
  const parts: string[] = [];
  switch (action) {
    case 'request.submitted': {
      const count = Number(detail.accountCount);
      const screened = asObject(detail.screened);
      if (Number.isFinite(count)) parts.push(plural(count, 'account'));
      if (screened) {
        const found = [
          [Number(screened.eligible), 'eligible'],
          [Number(screened.review), 'for review'],
          [Number(screened.ineligible), 'not eligible'],
        ].filter(([value]) => Number(value) > 0);
        if (found.length > 0) parts[parts.length - 1] = `${parts.at(-1) ?? ''}: ${found.map(([value, label]) => `${value} ${label}`).join(', ')}`;
      }
      if (text('policyVersion')) parts.push(`screened under policy ${text('policyVersion')}`);
      break;
    }
    case 'request.claimed':
    case 'request.taken_over':
    case 'request.completed':
    case 'request.withdrawn': {
      const from = statusWordsOf(text('status', before));
      const to = statusWordsOf(text('status', after));
      if (from && to && from !== to) parts.push(`was ${from}, now ${to}`);
      if (text('reviewer', before) && text('reviewer', before) !== text('reviewer', after)) parts.push(`previously reviewed by ${text('reviewer', before)}`);
      break;
    }
    case 'account.corrected':
      if (text('decision', before) && text('decision', after)) parts.push(`from ${text('decision', before)} to ${text('decision', after)}`);
      if (text('reason', after)) parts.push(`reason: ${text('reason', after)}`);
      break;
    case 'request.rechecked': {
      const accounts = Number(detail.accounts);
      const changed = Array.isArray(detail.changed) ? (detail.changed as unknown[]).map(asObject).filter((item) => item !== undefined) : [];
      if (Number.isFinite(accounts)) parts.push(`${plural(accounts, 'account')} screened ${TRIGGER_WORDS[text('trigger')] ?? 'again'}`);
      parts.push(changed.length === 0 ? 'nothing changed' : `${plural(changed.length, 'account')} changed`);
      for (const change of changed.slice(0, 3)) {
        const line = Number(change.position);
        const verdicts = [VERDICT_WORDS[text('verdict', asObject(change.before))], VERDICT_WORDS[text('verdict', asObject(change.after))]];
        const moved = verdicts[0] && verdicts[1] && verdicts[0] !== verdicts[1] ? `${verdicts[0]} to ${verdicts[1]}` : '';
        parts.push(joinClauses([Number.isFinite(line) ? `account ${line}` : 'an account', moved, text('changes', change)], ': '));
      }
      break;
    }
    case 'request.leaver_alerted': {
      const ids = Array.isArray(detail.accountIds) ? (detail.accountIds as unknown[]).map(Number) : [];
      const lines = ids.map(positionOf).filter((line): line is number => line !== undefined);
      if (ids.length > 0) parts.push(`${plural(ids.length, 'account')}${lines.length > 0 ? ` (${lines.map((line) => `account ${line}`).join(', ')})` : ''}`);
      break;
    }
    case 'account.transfer_confirmed':
      if (text('organisationOds')) parts.push(`administered by ${text('organisationOds')}`);
      if (text('state') === 'approved') parts.push('before it was marked transferred');
      break;
    case 'request.asked':
      if (text('question')) parts.push(`“${text('question')}”`);
      break;
    case 'request.answered':
      if (text('answer')) parts.push(`“${text('answer')}”`);
      break;
    case 'requester.notified':
    case 'requester.notification_failed':
      parts.push(MESSAGE_KIND[text('kind')] ?? 'a message');
      if (text('reason')) parts.push(`Teams answered ${text('reason').replace(/^HTTP_/, '')}`);
      break;
    case 'request.purged':
      if (text('olderThanDays')) parts.push(`older than ${text('olderThanDays')} days`);
      break;
    case 'card_action.refused':
      if (text('verb')) parts.push(`action ${verbWords(text('verb'))}`);
      if (text('reason')) parts.push(REFUSAL_WORDS[text('reason')] ?? text('reason').toLowerCase().replace(/_/g, ' '));
      break;
    default:
      if (text('reason')) parts.push(`reason: ${text('reason')}`);
      if (text('note')) parts.push(`note: ${text('note')}`);
  }
  return clip(joinClauses(parts), DETAIL_LIMIT);
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function scalar(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return clip(value.replace(/\s+/g, ' '), VALUE_LIMIT);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return clip(value.map(scalar).filter(Boolean).join(', '), VALUE_LIMIT);
  return '';
}

/** At most `limit` characters, cut at the last word boundary before it, with an ellipsis: never mid-word. */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 1);
  const boundary = cut.search(/\s\S*$/);
  return `${(boundary > limit / 2 ? cut.slice(0, boundary) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

/** A status as the audit recorded it, in the status words (services/model.ts); an unknown one as written. */
function statusWordsOf(status: string): string {
  return status in STATUS_LABEL ? statusPhrase(status as RequestStatus) : status;
}

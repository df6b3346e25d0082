import { escapeMarkdown } from '../../core/text';
import { plural } from '../../cards/plural';
import { AppError } from '../../core/errors';
import { formatTime, REQUEST_REFERENCE_PATTERN, STATUS_LABEL, statusPhrase, type RequestStatus, type StoredRequest } from '../../services/model';
import type { AuditEvent, TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import type { Command } from './command';

/**
 * A Teams message holds about 28 KB of text. Each line is bounded (LINE_LIMIT), so this many
 * lines stays far below it, and a long history is still readable in a chat. The rest is
 * counted and the export has it all.
 */
export const MAX_AUDIT_LINES = 40;
const DETAIL_LIMIT = 160;
const VALUE_LIMIT = 60;

/** What each recorded action means, in words; an action not listed is shown as recorded. */
const EVENT_LABEL: Record<string, string> = {
  'request.submitted': 'submitted the request',
  'request.claimed': 'started reviewing',
  'request.taken_over': 'took over the review',
  'request.approved_eligible': 'approved (all eligible)',
  'request.rejected': 'rejected (all remaining)',
  'account.approved': 'approved',
  'account.rejected': 'rejected',
  'account.corrected': 'changed a decision',
  'account.transferred': 'marked transferred',
  'request.completed': 'completed the request',
  'request.withdrawn': 'withdrew the request',
  'request.asked': 'asked the requester',
  'request.answered': 'answered',
  'request.exported': 'exported the request',
  'request.purged': 'removed personal data (retention)',
  'requester.notified': 'told the requester',
  'requester.notification_failed': 'could not tell the requester',
  'card_action.refused': 'was refused an action',
};

/** The owed messages a requester can be sent, as the audit names them. */
const MESSAGE_KIND: Record<string, string> = {
  outcome: 'the outcome',
  completion: 'that the transfer is complete',
  question: 'a question from NAS Operations',
  'question.chase': 'a reminder of the question',
};

/** "audit NTR-…": the request's history for NAS Operations, newest last, in UK local time. */
export function auditCommand(requests: TransferRequests, access: AccessControl): Command {
  return {
    words: ['audit'],
    // The channel, and an ops member's personal chat with the bot (the same authorisation).
    scope: ['channel', 'personal'],
    interruptsDialog: true,
    async run({ context, argument, userId }) {
      if (!(await access.isOpsMember(userId))) throw new AppError('NOT_OPS');
      if (!REQUEST_REFERENCE_PATTERN.test(argument))
        throw new AppError('INVALID_INPUT', 'Type **audit NTR-…** with the request’s reference, like audit NTR-100001.');
      const request = await requests.getByReference(argument);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      await context.sendActivity(describeAudit(request, await requests.history(request.id)));
    },
  };
}

/** The history as markdown: every value from people or the directory escaped, every line bounded. */
export function describeAudit(request: StoredRequest, events: readonly AuditEvent[]): string {
  const shown = events.slice(-MAX_AUDIT_LINES);
  const hidden = events.length - shown.length;
  const positions = new Map(request.accounts.map((account) => [account.id, account]));
  const lines = shown.map((event) => {
    const account = event.accountId === null ? undefined : positions.get(event.accountId);
    const detail = shortDetail(event.action, event.detail);
    const parts = [
      formatTime(event.occurredAt),
      escapeMarkdown(clip(event.actorName || event.actorId, VALUE_LIMIT)),
      escapeMarkdown(EVENT_LABEL[event.action] ?? event.action),
      ...(account ? [escapeMarkdown(`account ${account.position} (${clip(account.email, VALUE_LIMIT)})`)] : []),
      ...(detail ? [escapeMarkdown(detail)] : []),
    ];
    return `- ${parts.join(' · ')}`;
  });
  return [
    `**Audit history of ${request.reference}** (${plural(events.length, 'event')}, UK time)`,
    ...(hidden > 0
      ? [`${hidden} earlier ${hidden === 1 ? 'event is' : 'events are'} not shown here: type **export ${request.reference}** for the full history.`]
      : []),
    '',
    ...(lines.length > 0 ? lines : ['Nothing has been recorded for this request.']),
  ].join('\n');
}

/**
 * What an event recorded, in words ("6 accounts: 2 eligible, 1 for review, 3 not eligible";
 * "reason: …"), never as raw fields. Free text is cut at a word boundary, with an ellipsis.
 */
function shortDetail(action: string, detail: Record<string, unknown>): string {
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
      if (text('verb')) parts.push(`action ${text('verb')}`);
      if (text('reason')) parts.push(text('reason').toLowerCase().replace(/_/g, ' '));
      break;
    default:
      if (text('reason')) parts.push(`reason: ${text('reason')}`);
      if (text('note')) parts.push(`note: ${text('note')}`);
  }
  return clip(parts.join('; '), DETAIL_LIMIT);
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

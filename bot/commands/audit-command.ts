import { escapeMarkdown } from '../../cards/account-rows';
import { AppError } from '../../core/errors';
import { formatTime, REQUEST_REFERENCE_PATTERN, type StoredRequest } from '../../services/model';
import type { AuditEvent, AuditLog } from '../../services/store/audit';
import type { RequestRepository } from '../../services/store/requests';
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
  'request.approved_eligible': 'approved (all eligible)',
  'request.rejected': 'rejected (all remaining)',
  'account.approved': 'approved',
  'account.rejected': 'rejected',
  'account.corrected': 'corrected a decision',
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

/** "audit NTR-…": the request's history for NAS Operations, newest last, in UK local time. */
export function auditCommand(requests: RequestRepository, audit: AuditLog, access: AccessControl): Command {
  return {
    words: ['audit'],
    scope: 'channel',
    interruptsDialog: true,
    async run({ context, argument, userId }) {
      if (!(await access.isOpsMember(userId))) throw new AppError('NOT_OPS');
      if (!REQUEST_REFERENCE_PATTERN.test(argument)) throw new AppError('INVALID_INPUT', 'Type **audit NTR-…** with the request’s reference, like audit NTR-100001.');
      const request = await requests.getByReference(argument);
      if (!request) throw new AppError('REQUEST_NOT_FOUND');
      await context.sendActivity(describeAudit(request, await audit.forRequest(request.id)));
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
    const parts = [
      formatTime(event.occurredAt),
      escapeMarkdown(clip(event.actorName || event.actorId, VALUE_LIMIT)),
      escapeMarkdown(EVENT_LABEL[event.action] ?? event.action),
      ...(account ? [escapeMarkdown(`account ${account.position} (${clip(account.email, VALUE_LIMIT)})`)] : []),
      ...(shortDetail(event.detail) ? [escapeMarkdown(shortDetail(event.detail))] : []),
    ];
    return `- ${parts.join(' · ')}`;
  });
  return [
    `**Audit history of ${request.reference}** (${events.length} ${events.length === 1 ? 'event' : 'events'}, UK time)`,
    ...(hidden > 0 ? [`${hidden} earlier ${hidden === 1 ? 'event is' : 'events are'} not shown here: type **export ${request.reference}** for the full history.`] : []),
    '',
    ...(lines.length > 0 ? lines : ['Nothing has been recorded for this request.']),
  ].join('\n');
}

/** A before/after change as "status: submitted → in_review", anything else as "key: value", clipped. */
function shortDetail(detail: Record<string, unknown>): string {
  const parts: string[] = [];
  const before = asObject(detail.before);
  const after = asObject(detail.after);
  if (before || after) {
    for (const key of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
      const from = scalar(before?.[key]);
      const to = scalar(after?.[key]);
      if (from !== to) parts.push(`${key}: ${from || '–'} → ${to || '–'}`);
    }
  }
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'before' || key === 'after') continue;
    const text = scalar(value);
    if (text) parts.push(`${key}: ${text}`);
  }
  return clip(parts.join(', '), DETAIL_LIMIT);
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

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

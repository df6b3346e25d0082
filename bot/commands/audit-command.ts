import { escapeMarkdown } from '../../core/text';
import { auditDetailWords, auditEventWords, clip } from '../audit-words';
import { plural } from '../../cards/plural';
import { AppError } from '../../core/errors';
import { formatTime, REQUEST_REFERENCE_PATTERN, type StoredRequest } from '../../services/model';
import type { AuditEvent, TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import type { Command } from './command';

/** Moved to bot/audit-words.ts with the rest of the audit's words; re-exported for its callers. */
export { clip };

/**
 * A Teams message holds about 28 KB of text. Each line is bounded (LINE_LIMIT), so this many
 * lines stays far below it, and a long history is still readable in a chat. The rest is
 * counted and the export has it all.
 */
export const MAX_AUDIT_LINES = 40;
const VALUE_LIMIT = 60;

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
    const detail = auditDetailWords(event.action, event.detail, (id) => positions.get(id)?.position);
    const parts = [
      formatTime(event.occurredAt),
      escapeMarkdown(clip(event.actorName || event.actorId, VALUE_LIMIT)),
      escapeMarkdown(auditEventWords(event.action)),
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

import { AppError } from '../../core/errors';
import { joinClauses } from '../../core/text';
import { ukDateTime } from '../../services/eligibility/rules';
import type { SourceStatus } from '../../services/reference/source-status';
import type { AccessControl } from '../access-control';
import type { Command } from './command';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long ago an instant was, in words a reader takes in at a glance. */
export function ageOf(instant: string, now: Date): string {
  const ms = now.getTime() - Date.parse(instant);
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < DAY_MS) return `${Math.floor(ms / 3_600_000)} h ago`;
  const days = Math.floor(ms / DAY_MS);
  return `${days} ${days === 1 ? 'day' : 'days'} old`;
}

/** One line per source: what it is, where (a host or a file name, never a key), how fresh, how big, what last went wrong. */
export function describeSources(sources: readonly SourceStatus[], now: Date): string {
  const lines = sources.map((source) => {
    const parts = [`**${source.name}**: ${source.kind}, ${source.where}`];
    if (source.dataDate) parts.push(`file of ${ukDateTime(source.dataDate)} (${ageOf(source.dataDate, now)})`);
    if (source.rows !== undefined) parts.push(`${source.rows} rows${source.skippedRows ? `, ${source.skippedRows} skipped` : ''}`);
    if (source.lastSuccessAt) parts.push(`last answered ${ukDateTime(source.lastSuccessAt)} (${ageOf(source.lastSuccessAt, now)})`);
    if (source.requests !== undefined) parts.push(`${source.requests} requests since start`);
    if (source.notes) parts.push(source.notes);
    parts.push(source.lastError ? `last error ${ukDateTime(source.lastError.at)}: ${source.lastError.message}` : 'no errors');
    return `- ${joinClauses(parts)}`;
  });
  return ['Data sources:', ...lines].join('\n');
}

/** "sources" in the ops channel, or an ops member's personal chat (as help there says): each data source's freshness, for NAS Operations. */
export function sourcesCommand(sources: () => SourceStatus[], access: AccessControl, now: () => Date = () => new Date()): Command {
  return {
    words: ['sources'],
    scope: ['channel', 'personal'],
    interruptsDialog: true,
    async run({ context, userId }) {
      if (!(await access.isOpsMember(userId))) throw new AppError('NOT_OPS');
      await context.sendActivity(describeSources(sources(), now()));
    },
  };
}

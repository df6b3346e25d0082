import type { Draft } from '../duties/drafts';
import type { MessageGroup, MessageStage } from '../duties/message-templates';
import type { SendTally } from '../duties/send-tally';

export type { SendTally } from '../duties/send-tally';
import type { Actor } from '../model';
import { owed } from '../outbox/owed-messages';
import { appendAudit } from './audit';
import type { SqlDatabase, SqlExecutor } from './database';
import { enqueue } from './outbox';

/** One message to an affected user, as the delivery reads it. */
export interface AffectedUserMessage {
  id: number;
  requestId: number;
  accountId: number;
  stage: MessageStage;
  group: MessageGroup;
  recipient: string;
  /** Null once it is sent or given up: the text is kept only while it is owed. */
  subject: string | null;
  body: string | null;
  senderId: string;
  status: 'pending' | 'sent' | 'failed';
  errorCode: string | null;
  settledAt: Date | null;
}

export interface QueueOutcome {
  /** Newly owed (including failed ones queued again). */
  queued: number;
  /** Sent before: never sent twice. */
  alreadySent: number;
  /** Already owed and not yet sent. */
  alreadyQueued: number;
  /** Of those queued, to someone already sent a message of another group: a decision corrected since. */
  corrected: number;
}

interface MessageRow {
  id: string | number;
  request_id: number;
  account_id: number;
  stage: MessageStage;
  message_group: MessageGroup;
  recipient: string;
  subject: string | null;
  body: string | null;
  sender_id: string;
  status: AffectedUserMessage['status'];
  error_code: string | null;
  settled_at: Date | null;
}

const BOT = { id: 'nas-transfer-bot', name: 'NAS Transfer Bot' };

function messageOf(row: MessageRow): AffectedUserMessage {
  return {
    id: Number(row.id),
    requestId: row.request_id,
    accountId: row.account_id,
    stage: row.stage,
    group: row.message_group,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    senderId: row.sender_id,
    status: row.status,
    errorCode: row.error_code,
    settledAt: row.settled_at,
  };
}

/**
 * The affected users' messages in the store: queued with their owed deliveries in one
 * transaction, settled one by one with an audit event per recipient (never the text), and a
 * tally owed to the requester once none is left pending.
 */
export class AffectedUserMailStore {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Owes each draft, from `sender`'s mailbox. A message already sent is never sent again; one
   * still owed is left as it is; one that failed is owed again (a new round) with the text drafted now.
   * A message is the account's group at the stage: when the group changed since (NAS Operations
   * corrected the decision), the earlier one, sent or owed, is not this one, and the new text is
   * owed in a new round. One still owed is replaced, so it goes with the current text only.
   */
  async queue(requestId: number, stage: MessageStage, sender: Actor, drafts: readonly Draft[]): Promise<QueueOutcome> {
    return this.db.transaction(async (tx) => {
      // One sender at a time per request: two clicks of Send cannot both owe the same round.
      await tx.query('SELECT id FROM transfer_requests WHERE id = $1 FOR UPDATE', [requestId]);
      const existing = new Map(
        (
          await tx.query<{ account_id: number; status: string; message_group: MessageGroup }>(
            'SELECT account_id, status, message_group FROM affected_user_messages WHERE request_id = $1 AND stage = $2',
            [requestId, stage],
          )
        ).map((row) => [row.account_id, row]),
      );
      const outcome: QueueOutcome = { queued: 0, alreadySent: 0, alreadyQueued: 0, corrected: 0 };
      const groups: Record<string, number> = {};
      for (const draft of drafts) {
        const before = existing.get(draft.accountId);
        const changed = before !== undefined && before.message_group !== draft.group;
        if (before?.status === 'sent' && !changed) {
          outcome.alreadySent++;
          continue;
        }
        if (before?.status === 'pending' && !changed) {
          outcome.alreadyQueued++;
          continue;
        }
        const [row] = await tx.query<{ id: string | number; round: number }>(
          `INSERT INTO affected_user_messages (request_id, account_id, stage, message_group, recipient, subject, body, sender_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (request_id, stage, account_id) DO UPDATE SET
             message_group = EXCLUDED.message_group, recipient = EXCLUDED.recipient, subject = EXCLUDED.subject, body = EXCLUDED.body,
             sender_id = EXCLUDED.sender_id, round = affected_user_messages.round + 1, status = 'pending', error_code = NULL,
             queued_at = now(), settled_at = NULL
           WHERE affected_user_messages.status = 'failed' OR affected_user_messages.message_group <> EXCLUDED.message_group
           RETURNING id, round`,
          [requestId, draft.accountId, stage, draft.group, draft.to, draft.subject, draft.body, sender.id],
        );
        if (!row) continue;
        await enqueue(tx, owed.dutiesMail(requestId, Number(row.id), row.round));
        outcome.queued++;
        if (changed && before.status === 'sent') outcome.corrected++;
        groups[draft.group] = (groups[draft.group] ?? 0) + 1;
      }
      if (outcome.queued > 0) await appendAudit(tx, sender, 'duties.mail_queued', requestId, null, { stage, queued: outcome.queued, groups });
      return outcome;
    });
  }

  async message(id: number): Promise<AffectedUserMessage | null> {
    const [row] = await this.db.query<MessageRow>('SELECT * FROM affected_user_messages WHERE id = $1', [id]);
    return row ? messageOf(row) : null;
  }

  /**
   * Written with the delivery: sent, audited for this recipient, the text forgotten. Only if the
   * message is still the `group` sent: one replaced meanwhile by a corrected decision's stays
   * owed, and its own round sends it.
   */
  static sent(id: number, group: MessageGroup): (tx: SqlExecutor) => Promise<void> {
    return (tx) => AffectedUserMailStore.settle(tx, id, 'sent', null, group);
  }

  /** Written when it is given up: failed with our code (never Graph's words), audited, the text forgotten. */
  static failed(id: number, code: string): (tx: SqlExecutor) => Promise<void> {
    return (tx) => AffectedUserMailStore.settle(tx, id, 'failed', code);
  }

  /** Given up outside a delivery's own transaction (nobody signed in to send it; superseded, only while still of `group`). */
  async fail(id: number, code: string, group?: MessageGroup): Promise<void> {
    await this.db.transaction((tx) => AffectedUserMailStore.settle(tx, id, 'failed', code, group));
  }

  private static async settle(tx: SqlExecutor, id: number, status: 'sent' | 'failed', code: string | null, group?: MessageGroup): Promise<void> {
    const [row] = await tx.query<MessageRow>('SELECT * FROM affected_user_messages WHERE id = $1', [id]);
    if (!row || row.status !== 'pending' || (group !== undefined && row.message_group !== group)) return;
    // Serialises the last settles of a stage, so exactly one of them sees none left and owes the tally; and with queue(), which may replace the message.
    await tx.query('SELECT id FROM transfer_requests WHERE id = $1 FOR UPDATE', [row.request_id]);
    const settled = await tx.query(
      `UPDATE affected_user_messages SET status = $2, error_code = $3, settled_at = now(), subject = NULL, body = NULL
       WHERE id = $1 AND status = 'pending' AND ($4::text IS NULL OR message_group = $4) RETURNING id`,
      [id, status, code, group ?? null],
    );
    if (settled.length === 0) return;
    await appendAudit(tx, BOT, status === 'sent' ? 'duties.mail_sent' : 'duties.mail_failed', row.request_id, row.account_id, {
      stage: row.stage,
      group: row.message_group,
      ...(code ? { code } : {}),
    });
    const [left] = await tx.query<{ pending: string | number; rounds: string | number }>(
      `SELECT count(*) FILTER (WHERE status = 'pending') AS pending, sum(round) AS rounds FROM affected_user_messages WHERE request_id = $1 AND stage = $2`,
      [row.request_id, row.stage],
    );
    if (Number(left?.pending ?? 1) === 0) {
      await enqueue(tx, owed.dutiesTally(row.request_id, row.sender_id, row.stage, Number(left?.rounds ?? 0)));
      // The ops card shows the tally beside the requester's confirmation that the users were told.
      await enqueue(tx, owed.opsUpdate(row.request_id));
    }
  }

  /** How sending went, per stage that has any messages. */
  async tallies(requestId: number): Promise<SendTally[]> {
    const rows = await this.db.query<MessageRow>('SELECT * FROM affected_user_messages WHERE request_id = $1 ORDER BY stage DESC, id', [requestId]);
    const byStage = new Map<MessageStage, SendTally>();
    for (const row of rows) {
      const tally = byStage.get(row.stage) ?? { stage: row.stage, total: 0, sent: 0, pending: 0, failed: [], lastSentAt: null };
      byStage.set(row.stage, tally);
      tally.total++;
      if (row.status === 'sent') {
        tally.sent++;
        if (row.settled_at && (!tally.lastSentAt || row.settled_at > tally.lastSentAt)) tally.lastSentAt = new Date(row.settled_at);
      } else if (row.status === 'pending') tally.pending++;
      else tally.failed.push({ recipient: row.recipient, code: row.error_code ?? 'FAILED' });
    }
    return [...byStage.values()];
  }
}

import type { ConversationReference } from 'botbuilder';
import { formatTime } from '../../services/model';

/** Since when, and why, Teams has refused a chat. */
export interface Unreachable {
  since: Date;
  /** What Teams answered: 403 (bot removed or blocked) or 404 (conversation gone). */
  status: number;
}

/** The stored references (services/store/conversation-references.ts), wired in by the composition root. */
export interface ReferenceRecords {
  save(key: string, referenceJson: string): Promise<boolean>;
  saveChat(key: string, referenceJson: string, recipient: string): Promise<{ changed: boolean; woken: number }>;
  markUnreachable(key: string, status: number): Promise<boolean>;
  reach<R>(key: string): Promise<{ reference: R; unreachable: Unreachable | null } | null>;
  unreachable(key: string): Promise<Unreachable | null>;
  get<R>(key: string): Promise<R | null>;
  delete(key: string): Promise<void>;
}

/**
 * How long this process trusts its memory that a reference is stored unchanged. Another
 * instance may mark the chat unreachable meanwhile; after this, the next activity in the chat
 * goes to the database again, and clears the mark.
 */
const KNOWN_FOR_MS = 60_000;

/**
 * Where the bot may speak without being spoken to: each requester's personal chat and the
 * NAS Operations channel. Captured from inbound activities and kept in the database, so that
 * any instance can deliver. A reference that has not changed is not written again: most turns
 * cost no write at all.
 */
export class ConversationReferences {
  /** What this process last wrote or read per key, and when, to skip identical writes. */
  private readonly known = new Map<string, { json: string; at: number }>();

  constructor(
    private readonly records: ReferenceRecords,
    private readonly now: () => number = Date.now,
  ) {}

  static forUser(userId: string): string {
    return `user:${userId}`;
  }

  static readonly OPS_CHANNEL = 'ops-channel';

  /**
   * Saves the reference; true when it was new, different from what was stored, or marked
   * unreachable (the chat is evidently back). `recheck` goes to the database even when this
   * process remembers the same reference: for the activity that says the bot was added again.
   */
  async save(key: string, reference: Partial<ConversationReference>, recheck = false): Promise<boolean> {
    const json = JSON.stringify(reference);
    const known = this.known.get(key);
    if (!recheck && known?.json === json && this.now() - known.at < KNOWN_FOR_MS) return false;
    const changed = await this.records.save(key, json);
    this.remember(key, json);
    return changed;
  }

  /**
   * save for a person's own chat: when the reference is new, changed or was marked refused, what
   * waited for the chat (owed messages, an outcome Teams refused) is woken in the same statement.
   * `woken`: how many rows fell due, so the caller knows whether to wake the delivery worker.
   */
  async saveUserChat(userId: string, reference: Partial<ConversationReference>): Promise<{ changed: boolean; woken: number }> {
    const key = ConversationReferences.forUser(userId);
    const json = JSON.stringify(reference);
    const known = this.known.get(key);
    if (known?.json === json && this.now() - known.at < KNOWN_FOR_MS) return { changed: false, woken: 0 };
    const saved = await this.records.saveChat(key, json, userId);
    this.remember(key, json);
    return saved;
  }

  /**
   * Teams refused the chat for good. The reference is kept (the same chat usually comes back
   * when the bot is added again); true only for the call that marked it, so the outage is
   * logged and told once.
   */
  markUnreachable(key: string, status: number): Promise<boolean> {
    this.known.delete(key);
    return this.records.markUnreachable(key, status);
  }

  /** The reference and whether Teams has refused the chat, in one read. */
  reach(key: string): Promise<{ reference: Partial<ConversationReference>; unreachable: Unreachable | null } | null> {
    return this.records.reach<Partial<ConversationReference>>(key);
  }

  /** The ops channel's problem in words for NAS Operations (pending, /readyz), or null while Teams accepts it. */
  async opsChannelProblem(): Promise<string | null> {
    const unreachable = await this.unreachable(ConversationReferences.OPS_CHANNEL);
    if (!unreachable) return null;
    const why = unreachable.status === 404 ? 'the channel no longer exists' : 'the bot was removed from the team or blocked';
    return `Teams has refused the NAS Operations channel since ${formatTime(unreachable.since)} (${why}): new request cards are held and will be posted as soon as the bot is added back to the channel.`;
  }

  /** Since when, and why, Teams has refused the chat; null while it is reachable. */
  unreachable(key: string): Promise<Unreachable | null> {
    return this.records.unreachable(key);
  }

  async delete(key: string): Promise<void> {
    this.known.delete(key);
    await this.records.delete(key);
  }

  get(key: string): Promise<Partial<ConversationReference> | null> {
    return this.records.get<Partial<ConversationReference>>(key);
  }

  private remember(key: string, json: string): void {
    // Bounded: a process meets many users over its life; forgetting one only costs a write.
    if (this.known.size >= 10_000) this.known.clear();
    this.known.set(key, { json, at: this.now() });
  }
}

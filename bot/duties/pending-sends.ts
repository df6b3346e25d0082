import type { Storage } from 'botbuilder';
import { findAppError } from '../../core/errors';
import { MESSAGE_STAGES, type MessageStage } from '../../services/duties/message-templates';

/**
 * What a requester was about to send when the bot asked them to sign in: after the sign-in
 * completes, the send goes ahead without a second press of Send. Kept in the bot's shared
 * state store (any instance may take the sign-in's answer), one per person, and only for a
 * short while: a sign-in finished the next day should not send anything by itself.
 * It is taken once: Teams may answer one sign-in from several of the person's devices, or
 * two instances may take the answers at once, and only one of them sends (the outbox would
 * not send a message twice anyway, but the person would be told twice).
 */
export interface PendingSend {
  requestId: number;
  stage: MessageStage;
}

/** Long enough to read the consent screen and sign in; short enough not to surprise anyone later. */
export const PENDING_SEND_MINUTES = 30;

interface StoredPendingSend extends PendingSend {
  at: string;
  /** Set when taken: the row is kept as a marker, so that a second taker's compare-and-set fails. */
  taken?: boolean;
}

const keyFor = (userId: string) => `duties-pending-send/${userId}`;

export class PendingSends {
  constructor(
    private readonly storage: Storage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async remember(userId: string, pending: PendingSend): Promise<void> {
    const stored: StoredPendingSend = { ...pending, at: this.now().toISOString() };
    await this.storage.write({ [keyFor(userId)]: { ...stored, eTag: '*' } });
  }

  /**
   * The pending send, if recent, marked taken with a compare-and-set on the row's eTag: of two
   * takers only the first gets it. (A delete carries no eTag in botbuilder's Storage, so the row
   * stays, marked taken, until the next remember() overwrites it.)
   */
  async take(userId: string): Promise<PendingSend | undefined> {
    const key = keyFor(userId);
    const stored = (await this.storage.read([key]))[key] as (Partial<StoredPendingSend> & { eTag?: string }) | undefined;
    if (!stored || stored.taken || !stored.eTag) return undefined;
    try {
      await this.storage.write({ [key]: { ...stored, taken: true, eTag: stored.eTag } });
    } catch (error) {
      if (isETagConflict(error)) return undefined;
      throw error;
    }
    const age = this.now().getTime() - Date.parse(stored.at ?? '');
    const stage = MESSAGE_STAGES.find((known) => known === stored.stage);
    if (!(age >= 0 && age <= PENDING_SEND_MINUTES * 60_000) || !stage || !Number.isInteger(stored.requestId)) return undefined;
    return { requestId: stored.requestId!, stage };
  }
}

/** A write refused for its eTag: our SqlStorage's STORAGE_CONFLICT, or botbuilder's own storages' "eTag conflict". */
function isETagConflict(error: unknown): boolean {
  return findAppError(error)?.code === 'STORAGE_CONFLICT' || /etag conflict/i.test((error as Error | undefined)?.message ?? '');
}

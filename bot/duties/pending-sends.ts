import type { Storage } from 'botbuilder';
import { MESSAGE_STAGES, type MessageStage } from '../../services/duties/message-templates';

/**
 * What a requester was about to send when the bot asked them to sign in: after the sign-in
 * completes, the send goes ahead without a second press of Send. Kept in the bot's shared
 * state store (any instance may take the sign-in's answer), one per person, and only for a
 * short while: a sign-in finished the next day should not send anything by itself.
 * Taking it twice is harmless: the outbox never sends one person's message twice.
 */
export interface PendingSend {
  requestId: number;
  stage: MessageStage;
}

/** Long enough to read the consent screen and sign in; short enough not to surprise anyone later. */
export const PENDING_SEND_MINUTES = 30;

interface StoredPendingSend extends PendingSend {
  at: string;
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

  /** The pending send, if recent, removed as it is taken. */
  async take(userId: string): Promise<PendingSend | undefined> {
    const key = keyFor(userId);
    const stored = (await this.storage.read([key]))[key] as Partial<StoredPendingSend> | undefined;
    if (!stored) return undefined;
    await this.storage.delete([key]);
    const age = this.now().getTime() - Date.parse(stored.at ?? '');
    const stage = MESSAGE_STAGES.find((known) => known === stored.stage);
    if (!(age >= 0 && age <= PENDING_SEND_MINUTES * 60_000) || !stage || !Number.isInteger(stored.requestId)) return undefined;
    return { requestId: stored.requestId!, stage };
  }
}

import { TurnContext, type ConversationReference, type Middleware } from 'botbuilder';
import type { Logger } from '../../core/log';
import { ConversationReferences } from '../state/conversation-references';

/** What becomes possible when a chat becomes known: owed messages waiting for it can go. */
export interface ChatAvailability {
  /** A person's chat is new, changed or back; `woken` rows owed there fell due as it was stored. In memory only: never throws. */
  userChatKnown(userId: string, woken: number): void;
  opsChannelKnown(): Promise<void>;
}

/**
 * Keeps the conversation references proactive messages need, from every activity: the
 * user's personal chat, and the ops channel (learned from any activity in it, such as the
 * install conversationUpdate). Only a new or changed reference is written.
 */
export class ReferenceCapture implements Middleware {
  constructor(
    private readonly references: ConversationReferences,
    private readonly opsChannelId: string,
    private readonly availability: ChatAvailability,
    private readonly logger: Logger,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    // On the reply path only when the reference is new or changed, or once per chat a minute (KNOWN_FOR_MS, to clear an
    // unreachable mark another instance set): a chat's reference is stored before the turn can owe anything through it.
    await this.capture(context);
    await next();
  }

  private async capture(context: TurnContext): Promise<void> {
    const activity = context.activity;
    if (!activity.conversation || !activity.serviceUrl) return;
    const reference = TurnContext.getConversationReference(activity);
    delete reference.activityId;
    if (isPersonal(context)) {
      const userId = activity.from?.aadObjectId;
      // One statement on a new chat's first turn, and none on later ones: the reference is written before the turn goes
      // on (the turn may owe this chat a message), and what waited for the chat is woken in that same statement, so no
      // crash can store the chat as back and leave an outcome Teams refused given up.
      if (!userId) return;
      const { changed, woken } = await this.references.saveUserChat(userId, reference);
      if (changed) this.availability.userChatKnown(userId, woken);
      return;
    }
    const channelId = (activity.channelData as { channel?: { id?: string } } | undefined)?.channel?.id;
    const conversationChannel = activity.conversation.id.split(';')[0];
    if (channelId !== this.opsChannelId && conversationChannel !== this.opsChannelId) return;
    const bot = activity.recipient?.id;
    if (activity.type === 'conversationUpdate' && bot && activity.membersRemoved?.some((member) => member.id === bot)) {
      // Removed from the ops team: owed cards wait for it to be added back rather than failing one by one.
      if (await this.references.markUnreachable(ConversationReferences.OPS_CHANNEL, 403))
        this.logger.error('ops_channel.unreachable', { status: 403, cause: 'bot_removed' });
      return;
    }
    // Added (again): the stored reference may be unchanged, but whatever waited for the channel can go now.
    const readded = activity.type === 'conversationUpdate' && bot !== undefined && (activity.membersAdded?.some((member) => member.id === bot) ?? false);
    // A channel's reference addresses the channel itself, not the thread the activity came from.
    // Nor does it depend on who spoke, so each new speaker does not rewrite it.
    const opsReference: Partial<ConversationReference> = {
      ...reference,
      user: undefined,
      locale: undefined,
      conversation: { ...reference.conversation!, id: this.opsChannelId },
    };
    if (await this.references.save(ConversationReferences.OPS_CHANNEL, opsReference, readded)) {
      this.logger.info('ops_channel.learned', {});
      await this.availability.opsChannelKnown();
    }
  }
}

export function isPersonal(context: TurnContext): boolean {
  const type = context.activity.conversation?.conversationType;
  return type === 'personal' || type === undefined;
}

import type { Activity, Attachment, CloudAdapter, ConversationReference } from 'botbuilder';
import { MessageFactory } from 'botbuilder';
import { ConversationReferences } from './store/conversation-references';

export interface PostedMessage {
  conversationId: string;
  activityId: string;
}

/** Proactive messages: the ops channel and requesters' personal chats. */
export interface Messenger {
  /** Null when the ops channel is not known yet (the bot has not been added to it). */
  postToOpsChannel(card: Attachment): Promise<PostedMessage | null>;
  updateOpsMessage(posted: PostedMessage, card: Attachment): Promise<void>;
  /** False when the user has never talked to the bot, so no chat is known. */
  sendToUser(userId: string, message: Partial<Activity>): Promise<boolean>;
}

export class BotMessenger implements Messenger {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly botAppId: string,
    private readonly references: ConversationReferences,
  ) {}

  async postToOpsChannel(card: Attachment): Promise<PostedMessage | null> {
    const reference = await this.references.get(ConversationReferences.OPS_CHANNEL);
    if (!reference) return null;
    let posted: PostedMessage | null = null;
    await this.continueIn(reference, async (context) => {
      const response = await context.sendActivity(MessageFactory.attachment(card));
      if (response?.id) posted = { conversationId: context.activity.conversation.id, activityId: response.id };
    });
    return posted;
  }

  async updateOpsMessage(posted: PostedMessage, card: Attachment): Promise<void> {
    const reference = await this.references.get(ConversationReferences.OPS_CHANNEL);
    if (!reference) return;
    await this.continueIn({ ...reference, conversation: { ...reference.conversation!, id: posted.conversationId } }, async (context) => {
      await context.updateActivity({ ...MessageFactory.attachment(card), id: posted.activityId });
    });
  }

  async sendToUser(userId: string, message: Partial<Activity>): Promise<boolean> {
    const reference = await this.references.get(ConversationReferences.forUser(userId));
    if (!reference) return false;
    await this.continueIn(reference, async (context) => {
      await context.sendActivity(message);
    });
    return true;
  }

  /** Failures propagate: the caller logs them against the request they concern. */
  private async continueIn(reference: Partial<ConversationReference>, logic: Parameters<CloudAdapter['continueConversationAsync']>[2]): Promise<void> {
    await this.adapter.continueConversationAsync(this.botAppId, reference, logic as never);
  }
}

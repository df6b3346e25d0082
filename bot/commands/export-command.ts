import { MessageFactory } from 'botbuilder';
import { AppError } from '../../core/errors';
import { REQUEST_REFERENCE_PATTERN } from '../../services/model';
import { fileConsentAttachment, renderExport, type FileExportDependencies } from '../files/file-consent';
import { DeliveryError } from '../messaging/messenger';
import { ConversationReferences } from '../state/conversation-references';
import type { Command } from './command';

const OPEN_A_CHAT_FIRST =
  'I can only send files in a personal chat, and I do not have one with you yet. Open a chat with me (search for the NAS Transfer app in Teams Chat), say hello, then type **export** here again.';

/**
 * "export NTR-…" in the NAS Operations channel. A bot can only hand over a file in a personal
 * chat, with the person's consent (file consent card, bot/files/file-consent.ts), so the card
 * goes to the member's chat with the bot and the channel is told where to look. No personal
 * data is posted in the channel.
 */
export function exportCommand(deps: FileExportDependencies): Command {
  return {
    words: ['export'],
    // The channel, and an ops member's personal chat with the bot (the same authorisation).
    scope: ['channel', 'personal'],
    interruptsDialog: true,
    async run({ context, argument, userId }) {
      if (!userId || !(await deps.access.isOpsMember(userId))) throw new AppError('NOT_OPS');
      if (!REQUEST_REFERENCE_PATTERN.test(argument))
        throw new AppError('INVALID_INPUT', 'Type **export NTR-…** with the request’s reference, like export NTR-100001.');
      const found = await deps.requests.getByReference(argument);
      if (!found) throw new AppError('REQUEST_NOT_FOUND');
      const chat = await deps.references.get(ConversationReferences.forUser(userId));
      if (!chat?.conversation) {
        await context.sendActivity(OPEN_A_CHAT_FIRST);
        return;
      }
      // The size shown on the card; the file uploaded on acceptance is rendered again then, so it is current.
      const { request, bytes } = await renderExport(deps, found.id);
      try {
        await deps.messenger.send(chat, MessageFactory.attachment(fileConsentAttachment(request, bytes.length)));
      } catch (error) {
        // 403/404: the person removed the bot or the chat is gone; the stored reference is stale.
        if (error instanceof DeliveryError && (error.status === 403 || error.status === 404)) {
          deps.logger.info('export.chat_unavailable', { requestId: request.id, status: error.status });
          await context.sendActivity(OPEN_A_CHAT_FIRST);
          return;
        }
        throw error;
      }
      deps.logger.info('export.offered', { requestId: request.id });
      const inThisChat = context.activity.conversation?.conversationType === 'personal';
      await context.sendActivity(
        inThisChat
          ? `Here is the export: accept it to save ${request.reference}.csv to your OneDrive.`
          : `I have sent the export to your chat with me: accept it there to save ${request.reference}.csv to your OneDrive.`,
      );
    },
  };
}

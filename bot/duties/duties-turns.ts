import { MessageFactory, type Attachment, type FileConsentCardResponse, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import { renderDutiesDraftsCard } from '../../cards/duties-drafts';
import { plural } from '../../cards/plural';
import { AppError, describeErrorForLog, findAppError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { AffectedUserDuties } from '../../services/duties/affected-users';
import { DUTIES_FILES, dutiesFileName, filesFor, renderDutiesFile, type DutiesFile } from '../../services/duties/download-files';
import { MESSAGE_STAGES } from '../../services/duties/message-templates';
import { REQUEST_REFERENCE_PATTERN, type StoredRequest } from '../../services/model';
import type { Command } from '../commands/command';
import { FILE_CONSENT_CONTENT_TYPE, FILE_INFO_CONTENT_TYPE, isUploadUrlAllowed, upload } from '../files/file-consent';
import type { MailSignIn } from './mail-sign-in';
import type { PendingSends } from './pending-sends';

/**
 * The requester's side of telling the affected users, in their personal chat: "tell NTR-…"
 * (and the drafts card offered after submission and with the outcome), then the card's two
 * buttons: send from their own mailbox (after a one-off sign-in), or download the messages.
 * What is sent is drafted again from the store when the button is pressed, never taken from
 * the card. No message text or address is logged.
 */
export interface DutiesTurnDependencies {
  duties: AffectedUserDuties;
  /** The one requester check (AccessControl.requester): still a Primary or Local Administrator. Throws when not. */
  authoriseRequester: (userId: string | undefined) => Promise<unknown>;
  /** Undefined when no OAuth connection is configured: only the download is offered. */
  signIn?: MailSignIn;
  /** What each requester was about to send when asked to sign in: sent once the sign-in completes. */
  pendingSends?: PendingSends;
  logger: Logger;
  /** Local runs and tests: an http upload URL on loopback stands in for OneDrive. */
  allowInsecureUpload: boolean;
  fetch?: typeof fetch;
}

const actionSchema = z.object({
  duties: z.enum(['show', 'send', 'download']),
  requestId: z.coerce.number().int().positive(),
  stage: z.enum(MESSAGE_STAGES).optional(),
});

const consentSchema = z.object({
  dutiesFile: z.enum(DUTIES_FILES as [DutiesFile, ...DutiesFile[]]),
  requestId: z.number().int().positive(),
  stage: z.enum(MESSAGE_STAGES),
});

const NOT_SIGNED_IN =
  'To send from your mailbox, sign in on the card below and allow the bot to send mail as you (once): the messages then go without pressing **Send** again. If you would rather not, or your organisation does not allow it, choose **Download to send yourself** instead.';

export class DutiesTurns {
  constructor(private readonly deps: DutiesTurnDependencies) {}

  /** "tell NTR-…": the drafts for the request at its stage, shown before anything is sent. */
  command(): Command {
    return {
      words: ['tell'],
      scope: 'personal',
      interruptsDialog: true,
      run: async ({ context, argument, userId }) => {
        await this.deps.authoriseRequester(userId);
        if (!userId) throw new AppError('NOT_AN_ADMINISTRATOR');
        if (!REQUEST_REFERENCE_PATTERN.test(argument))
          throw new AppError('INVALID_INPUT', 'Say which request: for example **tell NTR-100001** shows the messages for the people it affects.');
        const offered = await this.deps.duties.offerByReference(argument, userId);
        await context.sendActivity(MessageFactory.attachment(this.card(offered)));
      },
    };
  }

  /** Offered right after submission, for the accounts submitted and those turned away. */
  async offerAfterSubmission(context: TurnContext, request: StoredRequest): Promise<void> {
    // The request is submitted and the requester told so: drafts that cannot be offered now must not fail the
    // submission's turn (the form would never end). They are one "tell NTR-…" away.
    try {
      const offered = await this.deps.duties.offer(request.id, request.requester.id);
      await context.sendActivity(MessageFactory.attachment(this.card(offered)));
    } catch (error) {
      this.deps.logger.warn('duties.offer_failed', { requestId: request.id, ...describeErrorForLog(error) });
      await context.sendActivity(`The messages for the people this affects could not be drafted just now: type **tell ${request.reference}** to see them.`);
    }
  }

  /** A button of the drafts card (or the outcome card's "Tell the affected users"); false when the activity is not one. */
  async handleAction(context: TurnContext, userId: string | undefined): Promise<boolean> {
    const parsed = actionSchema.safeParse(context.activity.value);
    if (!parsed.success) return false;
    const { duties: action, requestId, stage } = parsed.data;
    try {
      await this.deps.authoriseRequester(userId);
      if (!userId) throw new AppError('NOT_AN_ADMINISTRATOR');
      if (action === 'show') await context.sendActivity(MessageFactory.attachment(this.card(await this.deps.duties.offer(requestId, userId))));
      else if (action === 'download') await this.offerDownload(context, requestId, userId);
      else await this.send(context, requestId, stage, userId);
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      this.deps.logger.info('duties.refused', { requestId, action, code: appError.code });
      await context.sendActivity(appError.userMessage);
    }
    return true;
  }

  private card(offered: Awaited<ReturnType<AffectedUserDuties['offer']>>): Attachment {
    return renderDutiesDraftsCard(offered, { canSend: this.deps.signIn !== undefined });
  }

  private async send(context: TurnContext, requestId: number, stage: (typeof MESSAGE_STAGES)[number] | undefined, userId: string): Promise<void> {
    if (!stage) throw new AppError('CARD_DATA_INVALID');
    const signIn = this.deps.signIn;
    if (!signIn) throw new AppError('INVALID_INPUT', 'Sending from your mailbox is not set up for this bot. Choose **Download to send yourself** on the card.');
    // Whose request it is, before anything is remembered or a sign-in offered for it.
    const request = await this.deps.duties.ownRequest(requestId, userId);
    const token = await signIn.tokenFor(userId).catch((error: unknown) => {
      this.deps.logger.warn('duties.token_unavailable', { requestId, ...describeErrorForLog(error) });
      return undefined;
    });
    if (!token) {
      this.deps.logger.info('duties.sign_in_offered', { requestId });
      await this.deps.pendingSends?.remember(userId, { requestId, stage });
      await context.sendActivity(NOT_SIGNED_IN);
      await context.sendActivity(MessageFactory.attachment(await signIn.signInCard(context)));
      return;
    }
    const outcome = await this.deps.duties.send(requestId, stage, { id: userId, name: request.requester.name });
    this.deps.logger.info('duties.mail_owed', { requestId, stage, queued: outcome.queued, alreadySent: outcome.alreadySent });
    const minutes = Math.ceil(outcome.queued / 30);
    await context.sendActivity(
      outcome.queued === 0
        ? `Nothing new to send for **${request.reference}**: ${outcome.alreadySent} already sent${outcome.alreadyQueued > 0 ? `, ${outcome.alreadyQueued} on their way` : ''}. Messages are never sent twice.`
        : `Sending ${plural(outcome.queued, 'message')} from your mailbox for **${request.reference}**, at most 30 a minute (Exchange Online’s limit)${minutes > 1 ? `: about ${minutes} minutes` : ''}. I will tell you here how it went.` +
            (outcome.corrected > 0
              ? ` ${outcome.corrected === 1 ? 'One goes to someone' : `${outcome.corrected} go to people`} told an earlier decision, since changed.`
              : '') +
            (outcome.alreadySent > 0 ? ` ${outcome.alreadySent} sent before are not sent again.` : ''),
    );
  }

  /** A file consent card per file: Teams lets a bot hand over files only this way, in a personal chat. */
  private async offerDownload(context: TurnContext, requestId: number, userId: string): Promise<void> {
    const { request, drafts } = await this.deps.duties.offer(requestId, userId);
    const files = filesFor(drafts);
    if (files.length === 0) {
      await context.sendActivity('Nobody on this request needs a message from you, so there is nothing to download.');
      return;
    }
    await context.sendActivity(
      `Here ${files.length === 1 ? 'is the file' : `are ${files.length} files`} for **${request.reference}**: the CSV is for a mail merge (one row per person), and each text file holds one group's messages. Accept each to save it to your OneDrive. They hold personal data: keep them on NHS systems.`,
    );
    for (const file of files) {
      const bytes = renderDutiesFile(drafts, file);
      const name = dutiesFileName(request.reference, drafts.stage, file);
      const context_ = { dutiesFile: file, requestId, stage: drafts.stage };
      await context.sendActivity({
        attachments: [
          {
            contentType: FILE_CONSENT_CONTENT_TYPE,
            name,
            content: {
              description: `${name}: messages to the people ${request.reference} affects.`,
              sizeInBytes: bytes.length,
              acceptContext: context_,
              declineContext: context_,
            },
          },
        ],
      });
    }
  }

  /** Whether a file consent answer is about one of these files (the rest are NAS Operations' exports). */
  static isDutiesConsent(response: FileConsentCardResponse): boolean {
    return consentSchema.safeParse(response.context).success;
  }

  /** Accepted: the file is drafted again now, for the person who raised the request only, and uploaded. */
  async acceptFile(context: TurnContext, response: FileConsentCardResponse): Promise<void> {
    const consent = consentSchema.safeParse(response.context);
    const uploadInfo = response.uploadInfo;
    if (!consent.success || !uploadInfo?.uploadUrl || !uploadInfo.contentUrl || !uploadInfo.uniqueId) {
      await context.sendActivity(new AppError('CARD_DATA_INVALID').userMessage);
      return;
    }
    const { requestId, dutiesFile } = consent.data;
    try {
      const userId = context.activity.from?.aadObjectId;
      if (!userId) throw new AppError('NOT_YOUR_REQUEST');
      await this.deps.authoriseRequester(userId);
      if (!isUploadUrlAllowed(new URL(uploadInfo.uploadUrl), this.deps.allowInsecureUpload)) throw new AppError('EXPORT_UPLOAD_FAILED');
      const { drafts } = await this.deps.duties.offer(requestId, userId);
      if (drafts.stage !== consent.data.stage)
        throw new AppError('CARD_DATA_INVALID', 'The request has moved on since: type **tell** and its reference for the current messages.');
      await upload(uploadInfo.uploadUrl, renderDutiesFile(drafts, dutiesFile), this.deps.fetch ?? fetch);
      await context.sendActivity({
        attachments: [
          {
            contentType: FILE_INFO_CONTENT_TYPE,
            contentUrl: uploadInfo.contentUrl,
            name: uploadInfo.name,
            content: { uniqueId: uploadInfo.uniqueId, fileType: dutiesFile === 'mail-merge' ? 'csv' : 'txt' },
          },
        ],
      });
      this.deps.logger.info('duties.file_uploaded', { requestId, file: dutiesFile });
    } catch (error) {
      const appError = findAppError(error);
      this.deps.logger.warn('duties.file_failed', { requestId, ...describeErrorForLog(error) });
      await context.sendActivity(appError?.userMessage ?? new AppError('EXPORT_UPLOAD_FAILED').userMessage);
    }
  }

  async declineFile(context: TurnContext): Promise<void> {
    await context.sendActivity('Download cancelled: nothing was saved to your OneDrive.');
  }

  /**
   * Teams' signin/verifyState after the sign-in card: the code is exchanged for the token, which
   * the token service keeps; then what the requester was about to send goes, without a second press.
   */
  async verifySignIn(context: TurnContext, code: string | undefined): Promise<void> {
    const signed = this.deps.signIn && code ? await this.deps.signIn.verify(context, code).catch(() => false) : false;
    this.deps.logger.info('duties.sign_in', { signed, via: 'code' });
    const sent = signed ? await this.sendPending(context) : false;
    if (sent) return;
    await context.sendActivity(
      signed
        ? 'Signed in: the bot may now send mail as you. Press **Send** on the drafts card to send the messages.'
        : 'The sign-in did not complete, so nothing was sent. Press **Send** on the drafts card to try again, or choose **Download to send yourself**.',
    );
  }

  /**
   * Teams' single sign-on (signin/tokenExchange), sent when the sign-in card is shown: true when
   * the token service exchanged the person's Teams token, and what they were about to send then
   * goes. False (consent not given yet, or the exchange failed) and Teams shows the card's
   * sign-in button, which ends in verifySignIn. Teams may send the same exchange from each of
   * the person's devices: the pending send is taken once, and the others say nothing.
   * Microsoft Learn, "Add code to enable SSO in your bot app":
   * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/authentication/bot-sso-code
   */
  async exchangeSignIn(context: TurnContext, teamsToken: string | undefined): Promise<boolean> {
    const signIn = this.deps.signIn;
    const exchanged =
      signIn && teamsToken
        ? await signIn.exchange(context, teamsToken).catch((error: unknown) => {
            this.deps.logger.warn('duties.token_exchange_failed', describeErrorForLog(error));
            return false;
          })
        : false;
    this.deps.logger.info('duties.sign_in', { signed: exchanged, via: 'single sign-on' });
    if (exchanged) await this.sendPending(context);
    return exchanged;
  }

  /**
   * Teams' signin/failure: single sign-on failed in the Teams client, which shows the person
   * nothing for most codes. They are told nothing was sent and what they can do; only the code
   * (a fixed word such as resourcematchfailed) is logged, never Teams' message.
   * Microsoft Learn, "SSO troubleshooting" (failure codes):
   * https://learn.microsoft.com/microsoftteams/platform/teams-sdk/teams/user-authentication/troubleshooting-sso
   */
  async signInFailed(context: TurnContext, code: string): Promise<void> {
    this.deps.logger.warn('duties.sign_in_failed', { code });
    // Teams answers these two itself, with the card's sign-in button.
    if (code === 'userconsentrequired' || code === 'interactionrequired') return;
    await context.sendActivity(
      'Signing in through Teams did not work, so nothing was sent. Choose **Download to send yourself** on the drafts card, or ask the bot’s administrators to check its sign-in set-up.',
    );
  }

  /** What the requester was about to send when asked to sign in, sent now: false when there was nothing waiting. */
  private async sendPending(context: TurnContext): Promise<boolean> {
    const userId = context.activity.from?.aadObjectId;
    const pending = userId ? await this.deps.pendingSends?.take(userId) : undefined;
    if (!userId || !pending) return false;
    await context.sendActivity('Signed in: the bot may now send mail as you.');
    try {
      await this.deps.authoriseRequester(userId);
      await this.send(context, pending.requestId, pending.stage, userId);
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      this.deps.logger.info('duties.refused', { requestId: pending.requestId, action: 'send', code: appError.code });
      await context.sendActivity(appError.userMessage);
    }
    return true;
  }
}

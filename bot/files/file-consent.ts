import type { Attachment, FileConsentCardResponse, TurnContext } from 'botbuilder';
import { z } from 'zod';
import { describeErrorForLog, findAppError, AppError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { isLoopbackHost } from '../../core/net';
import { csvFileBytes, exportFileName, requestCsv } from '../../services/export/request-csv';
import type { StoredRequest } from '../../services/model';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import type { AccessControl } from '../access-control';
import type { Messenger } from '../messaging/messenger';
import type { ConversationReferences } from '../state/conversation-references';

/**
 * Files the Teams way: a bot cannot attach a file to a message. It sends a file consent card
 * to a personal chat; when the person accepts, Teams makes an upload session in their OneDrive
 * and sends the bot a `fileConsent/invoke` with `uploadInfo` (uploadUrl, contentUrl, name,
 * uniqueId); the bot PUTs the bytes to uploadUrl with Content-Length and
 * `Content-Range: bytes 0-{n-1}/{n}`, then sends a file info card
 * (application/vnd.microsoft.teams.card.file.info, content {uniqueId, fileType}) pointing at
 * contentUrl. Personal chat only; the app manifest must say `"supportsFiles": true`.
 * Microsoft Learn, "Send and receive files using bot", "Use Teams bot APIs" / "Send files to
 * personal chat": https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4
 */
export const FILE_CONSENT_CONTENT_TYPE = 'application/vnd.microsoft.teams.card.file.consent';
export const FILE_INFO_CONTENT_TYPE = 'application/vnd.microsoft.teams.card.file.info';

/** A Teams invoke must be answered within about 15 s: the upload must finish well inside it. */
const UPLOAD_TIMEOUT_MS = 8_000;

export interface FileExportDependencies {
  requests: TransferRequests;
  access: AccessControl;
  /** Where the bot can write to each person's personal chat. */
  references: ConversationReferences;
  /** Sends the consent card into the person's personal chat, from a channel turn. */
  messenger: Messenger;
  logger: Logger;
  /** Local runs and tests: an http upload URL on loopback (a stand-in for OneDrive) is accepted. */
  allowInsecureUpload: boolean;
  fetch?: typeof fetch;
}

/** What the consent card carries: the request id only. Everything else is read again from the store. */
const consentContextSchema = z.object({ requestId: z.number().int().positive() });

const acceptedSchema = z.object({
  action: z.literal('accept'),
  context: consentContextSchema,
  uploadInfo: z.object({
    uploadUrl: z.url(),
    contentUrl: z.url(),
    name: z.string().min(1).max(255),
    uniqueId: z.string().min(1).max(200),
    fileType: z.string().max(20).optional(),
  }),
});

export function fileConsentAttachment(request: StoredRequest, sizeInBytes: number): Attachment {
  return {
    contentType: FILE_CONSENT_CONTENT_TYPE,
    name: exportFileName(request.reference),
    content: {
      description: `Transfer request ${request.reference}: answers, accounts, verdicts, decisions and audit history (CSV). It holds personal data: keep it on NHS systems.`,
      sizeInBytes,
      acceptContext: { requestId: request.id },
      declineContext: { requestId: request.id },
    },
  };
}

/** The file as it would be uploaded now: rendered from the store each time, never cached. */
export async function renderExport(deps: Pick<FileExportDependencies, 'requests'>, requestId: number): Promise<{ request: StoredRequest; bytes: Buffer }> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new AppError('REQUEST_NOT_FOUND');
  return { request, bytes: csvFileBytes(requestCsv(request, await deps.requests.history(request.id))) };
}

/**
 * The person accepted: check again that they are in NAS Operations (membership can end between
 * the card and the click), render the CSV afresh, upload it, show it, audit it. Failures are
 * told in the chat; the invoke itself is answered by botbuilder either way.
 */
export async function acceptFileConsent(deps: FileExportDependencies, context: TurnContext, response: FileConsentCardResponse): Promise<void> {
  const parsed = acceptedSchema.safeParse(response);
  if (!parsed.success) {
    deps.logger.warn('export.consent_invalid', {});
    await context.sendActivity(new AppError('CARD_DATA_INVALID').userMessage);
    return;
  }
  const { context: consent, uploadInfo } = parsed.data;
  let reference: string | undefined;
  try {
    const actor = await deps.access.opsMember(context.activity.from?.aadObjectId);
    if (!isUploadUrlAllowed(new URL(uploadInfo.uploadUrl), deps.allowInsecureUpload)) throw new AppError('EXPORT_UPLOAD_FAILED');
    const { request, bytes } = await renderExport(deps, consent.requestId);
    reference = request.reference;
    await upload(uploadInfo.uploadUrl, bytes, deps.fetch ?? fetch);
    await context.sendActivity({
      attachments: [
        {
          contentType: FILE_INFO_CONTENT_TYPE,
          contentUrl: uploadInfo.contentUrl,
          name: uploadInfo.name,
          content: { uniqueId: uploadInfo.uniqueId, fileType: 'csv' },
        },
      ],
    });
    await deps.requests.recordExport(actor, request.id);
    deps.logger.info('export.uploaded', { requestId: request.id, bytes: bytes.length });
  } catch (error) {
    const appError = findAppError(error);
    deps.logger.warn('export.failed', { requestId: consent.requestId, ...describeErrorForLog(error) });
    const message = appError?.userMessage ?? new AppError('EXPORT_UPLOAD_FAILED').userMessage;
    await context.sendActivity(
      reference && appError?.code !== 'NOT_OPS' ? `${message} Type **export ${reference}** in the NAS Operations channel to try again.` : message,
    );
  }
}

/** The person declined: nothing was uploaded, and nothing of the request is repeated back. */
export async function declineFileConsent(deps: Pick<FileExportDependencies, 'logger'>, context: TurnContext, response: FileConsentCardResponse): Promise<void> {
  const consent = consentContextSchema.safeParse(response.context);
  deps.logger.info('export.declined', consent.success ? { requestId: consent.data.requestId } : {});
  await context.sendActivity('Export cancelled: nothing was saved to your OneDrive.');
}

/** One PUT of the whole file to the upload session Teams made (files here are far below its single-request limit). */
export async function upload(uploadUrl: string, bytes: Buffer, fetchImpl: typeof fetch): Promise<void> {
  const response = await fetchImpl(uploadUrl, {
    method: 'PUT',
    headers: { 'Content-Length': String(bytes.length), 'Content-Range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
    body: new Uint8Array(bytes),
    redirect: 'error',
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new AppError('EXPORT_UPLOAD_FAILED', undefined, { cause: error });
  });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new AppError('EXPORT_UPLOAD_FAILED', undefined, { cause: new Error(`upload answered ${response.status}`) });
}

/**
 * Personal data goes only where Teams keeps chat files: OneDrive for Business, under
 * sharepoint.com, over https. In local runs a loopback server stands in for it. The invoke is
 * JSON anyone able to reach the bot could send, so the URL is not trusted because it arrived.
 */
export function isUploadUrlAllowed(url: URL, allowInsecure: boolean): boolean {
  if (url.username !== '' || url.password !== '') return false;
  if (allowInsecure && isLoopbackHost(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:')) return true;
  return url.protocol === 'https:' && url.hostname.endsWith('.sharepoint.com');
}

import type { Activity } from 'botbuilder';
import { z } from 'zod';
import { AppError } from '../../core/errors';
import { isLoopbackHost } from '../../core/net';
import { DEFAULT_ACCOUNT_FILE_LIMITS, type AccountFile } from '../../services/account-file';

/**
 * A file the requester attached in their personal chat. Teams sends it as a "file download
 * info" attachment whose downloadUrl is a short-lived, pre-authenticated link (Teams bot file
 * handling: https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4).
 */
export const TEAMS_FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
const DOWNLOAD_TIMEOUT_MS = 10_000;
const ACCEPTED_TYPES = new Set(['csv', 'xlsx', 'txt']);

const fileDownloadInfo = z.object({
  contentType: z.literal(TEAMS_FILE_DOWNLOAD_INFO),
  name: z.string().max(255).optional(),
  content: z.object({ downloadUrl: z.url(), fileType: z.string().max(10).optional() }),
});

export interface AttachedFile {
  name: string;
  fileType: string;
  downloadUrl: string;
}

/** The first file attachment of a message, if any; anything malformed is no file. */
export function attachedFile(activity: Partial<Activity>): AttachedFile | undefined {
  for (const attachment of activity.attachments ?? []) {
    const parsed = fileDownloadInfo.safeParse(attachment);
    if (!parsed.success) continue;
    const name = parsed.data.name ?? 'the file';
    const fileType = (parsed.data.content.fileType ?? name.split('.').pop() ?? '').toLowerCase();
    return { name, fileType, downloadUrl: parsed.data.content.downloadUrl };
  }
  return undefined;
}

/**
 * Where Teams puts a file a person sends the bot in a personal chat: "the file is first
 * uploaded to the user's OneDrive for business storage", and `downloadUrl` is the "OneDrive URL
 * for fetching the content of the file" (Send and receive files using bot, "Receive files in
 * personal chat": https://learn.microsoft.com/microsoftteams/platform/bots/how-to/bots-filesv4).
 * OneDrive for Business and SharePoint Online live under sharepoint.com (<tenant>-my.sharepoint.com
 * for OneDrive); the same page says bots cannot receive files in the GCC High, DoD and 21Vianet
 * clouds, so their SharePoint domains are not needed here.
 */
const FILE_HOST_SUFFIXES = ['.sharepoint.com'] as const;

/**
 * Whether the bot may follow this link. The attachment is just JSON in the activity, so anyone
 * who can message the bot could name any address; only the hosts Teams stores chat files on are
 * fetched (over https), and in local runs (`allowInsecure`) a loopback server standing in for
 * them. Redirects are refused when fetching, so an allowed host cannot bounce the bot elsewhere.
 */
function isFetchableFileLink(url: URL, allowInsecure: boolean): boolean {
  if (url.username !== '' || url.password !== '') return false;
  if (allowInsecure && (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname)) return true;
  return url.protocol === 'https:' && FILE_HOST_SUFFIXES.some((suffix) => url.hostname.endsWith(suffix));
}

/**
 * Fetches an attached file, bounded in size and time, from where Teams keeps chat files only.
 * The body is read as it arrives and abandoned once it passes the size limit, whatever the
 * server declared (or did not declare) as its length.
 */
export async function downloadAttachedFile(file: AttachedFile, allowInsecure: boolean, fetchImpl: typeof fetch = fetch): Promise<AccountFile> {
  if (!ACCEPTED_TYPES.has(file.fileType)) throw new AppError('INVALID_INPUT', 'Attach the list as a CSV or an Excel (.xlsx) file, or paste it as text.');
  const url = URL.canParse(file.downloadUrl) ? new URL(file.downloadUrl) : undefined;
  if (!url || !isFetchableFileLink(url, allowInsecure)) throw new AppError('INVALID_INPUT', 'The attached file could not be fetched from Teams.');
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'error' }).catch((error: unknown) => {
    throw notFetched(error);
  });
  if (!response.ok) throw notFetched();
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const content = await readCapped(response, DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes);
  return { content, name: file.name, contentType: response.headers.get('content-type') ?? undefined };
}

/** The body, read chunk by chunk and cancelled as soon as it is longer than `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((error: unknown) => {
      throw notFetched(error);
    });
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, received);
}

function notFetched(cause?: unknown): AppError {
  return new AppError(
    'INVALID_INPUT',
    'The attached file could not be fetched from Teams. Attach it again, or paste the list.',
    cause === undefined ? undefined : { cause },
  );
}

function tooLarge(): AppError {
  return new AppError(
    'INVALID_INPUT',
    `The attached file is larger than ${DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes / 1024} KB. Split the list into several requests.`,
  );
}

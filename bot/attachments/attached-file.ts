import type { Activity } from 'botbuilder';
import { z } from 'zod';
import { AppError } from '../../core/errors';
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
 * Fetches an attached file, bounded in size and time. Outside local runs only https links
 * are followed, so a forged attachment cannot point the bot at an internal address.
 */
export async function downloadAttachedFile(file: AttachedFile, allowInsecure: boolean, fetchImpl: typeof fetch = fetch): Promise<AccountFile> {
  if (!ACCEPTED_TYPES.has(file.fileType)) throw new AppError('INVALID_INPUT', 'Attach the list as a CSV or an Excel (.xlsx) file, or paste it as text.');
  const url = new URL(file.downloadUrl);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) throw new AppError('INVALID_INPUT', 'The attached file could not be fetched from Teams.');
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'error' }).catch((error: unknown) => {
    throw new AppError('INVALID_INPUT', 'The attached file could not be fetched from Teams. Attach it again, or paste the list.', { cause: error });
  });
  if (!response.ok) throw new AppError('INVALID_INPUT', 'The attached file could not be fetched from Teams. Attach it again, or paste the list.');
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes) throw tooLarge();
  const content = Buffer.from(await response.arrayBuffer());
  if (content.length > DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes) throw tooLarge();
  return { content, name: file.name, contentType: response.headers.get('content-type') ?? undefined };
}

function tooLarge(): AppError {
  return new AppError('INVALID_INPUT', `The attached file is larger than ${DEFAULT_ACCOUNT_FILE_LIMITS.maxBytes / 1024} KB. Split the list into several requests.`);
}

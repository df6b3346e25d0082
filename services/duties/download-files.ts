import { csvField, csvFileBytes } from '../export/request-csv';
import { allDrafts, type DraftSet } from './drafts';
import { MESSAGE_GROUPS, type MessageGroup } from './message-templates';

/**
 * The messages as files, for a requester whose tenant does not let the bot send mail for them:
 * a CSV for mail merge (one row per person: To, Name, Group, Subject, Body) and one text file
 * per group with each person's message in turn, to paste or send as they wish.
 */
export type DutiesFile = 'mail-merge' | MessageGroup;
export const DUTIES_FILES: readonly DutiesFile[] = ['mail-merge', ...MESSAGE_GROUPS];

const GROUP_FILE_NAME: Record<MessageGroup, string> = {
  transferring: 'being-transferred',
  notEligible: 'not-eligible-yet',
  keptLocally: 'staying-with-you',
};

export function dutiesFileName(reference: string, stage: string, file: DutiesFile): string {
  return file === 'mail-merge' ? `${reference}-${stage}-mail-merge.csv` : `${reference}-${stage}-${GROUP_FILE_NAME[file]}.txt`;
}

/** The files worth offering: the CSV, and a file for each group with anyone in it. */
export function filesFor(set: DraftSet): DutiesFile[] {
  return allDrafts(set).length === 0 ? [] : ['mail-merge', ...MESSAGE_GROUPS.filter((group) => set.groups[group].length > 0)];
}

export function renderDutiesFile(set: DraftSet, file: DutiesFile): Buffer {
  if (file === 'mail-merge') {
    const rows = [
      ['To', 'Name', 'Group', 'Subject', 'Body'],
      ...allDrafts(set).map((draft) => [draft.to, draft.name, draft.group, draft.subject, draft.body.replace(/\n/g, '\r\n')]),
    ];
    return csvFileBytes(rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n');
  }
  const text = set.groups[file]
    .map((draft) => [`To: ${draft.to}`, `Subject: ${draft.subject}`, '', draft.body].join('\r\n'))
    .join('\r\n\r\n----------------------------------------\r\n\r\n');
  return Buffer.from(text + '\r\n', 'utf8');
}

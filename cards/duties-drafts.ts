import { escapeMarkdown } from '../core/text';
import type { OfferedDrafts } from '../services/duties/affected-users';
import type { Draft } from '../services/duties/drafts';
import { MESSAGE_GROUPS, type MessageGroup } from '../services/duties/message-templates';
import { describeMeasure } from '../services/duties/timescales';
import { transferState, type StoredRequest } from '../services/model';
import { plural } from './plural';
import { expandCard, fitToMessageLimit, type CardAttachment } from './render';
import template from './duties-drafts.json';

const HEADINGS: Record<MessageGroup, string> = {
  transferring: 'Being transferred to NAS',
  notEligible: 'Not eligible yet: each is told their reason and what to do',
  keptLocally: 'Staying with you: each is told their reason and what happens next',
};

/**
 * Consideration 4, worded per group: the residual data and access the organisation must
 * remove before the move. The bot cannot see any of it, so it stays the requester's to check.
 */
const RESIDUAL_DATA: Record<MessageGroup, string> = {
  transferring:
    'Before they move, remove what your organisation has no right to keep with them: their access to your shared mailboxes and any delegated access (send as, send on behalf, full access, calendars); forwarding rules to or from your organisation’s addresses; and your organisation’s patient-identifiable data in their mailbox and OneDrive.',
  notEligible: '',
  keptLocally: '',
};

const PEOPLE_SHOWN = 12;

interface GroupData {
  heading: string;
  people: string;
  residualData: string;
  exampleName: string;
  exampleSubject: string;
  exampleBody: string;
}

/** Markdown-safe, keeping the message's paragraphs: each line its own, blank lines dropped (Teams already spaces paragraphs). */
function paragraphs(text: string): string {
  return text
    .split(/\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => escapeMarkdown(line))
    .join('\n\n');
}

/**
 * Consideration 3 as a reminder: until every approved (or submitted) account is confirmed moved
 * in the directory, marking any as a leaver deletes it. Empty once there is nothing left to move.
 */
export function leaverReminder(request: Pick<StoredRequest, 'status' | 'accounts'>): string {
  if (request.status === 'withdrawn' || request.status === 'completed') return '';
  const waiting = request.accounts.filter((account) =>
    account.decision === 'approved'
      ? transferState(account) !== 'confirmed' && transferState(account) !== 'overridden'
      : account.decision === null && account.verdict !== 'ineligible',
  );
  if (waiting.length === 0) return '';
  const one = waiting.length === 1;
  return `Do not mark ${one ? 'the account' : `any of the ${plural(waiting.length, 'account')}`} being transferred as a leaver: a leaver’s account is deleted, with its mailbox, and NAS cannot then move it. NAS move ${one ? 'it; this holds until it is' : 'them; this holds until each is'} confirmed moved.`;
}

export interface DraftsCardOptions {
  /** Whether sending from the requester's mailbox is set up (an OAuth connection); otherwise only the download is offered. */
  canSend: boolean;
}

/** The drafts, shown to the requester before anything is sent: who gets which message, one example of each, and the two ways to send. */
export function renderDutiesDraftsCard(offered: OfferedDrafts, options: DraftsCardOptions): CardAttachment {
  const most = Math.max(0, ...MESSAGE_GROUPS.map((group) => offered.drafts.groups[group].length));
  return fitToMessageLimit(Math.min(most, PEOPLE_SHOWN), (shown) => expandCard(template, dutiesDraftsData(offered, options, shown))).card;
}

/** The card's data, naming at most `shown` people per group. */
export function dutiesDraftsData(offered: OfferedDrafts, options: DraftsCardOptions, shown: number) {
  const { request, drafts, timescales, tallies } = offered;
  const nonEmpty = MESSAGE_GROUPS.filter((group) => drafts.groups[group].length > 0);
  const total = nonEmpty.reduce((sum, group) => sum + drafts.groups[group].length, 0);
  const tally = tallies.find((each) => each.stage === drafts.stage);
  {
    const groups = nonEmpty.map((group): GroupData => {
      const list: Draft[] = drafts.groups[group];
      const names = list.slice(0, shown).map((draft) => (draft.name === draft.to ? draft.to : `${draft.name} (${draft.to})`));
      const more = list.length - names.length;
      const example = list[0]!;
      return {
        heading: `${HEADINGS[group]} (${list.length})`,
        people: escapeMarkdown(names.join(', ') + (more > 0 ? `, and ${more} more` : '')),
        residualData: RESIDUAL_DATA[group],
        exampleName: escapeMarkdown(example.name),
        exampleSubject: escapeMarkdown(example.subject),
        exampleBody: paragraphs(example.body),
      };
    });
    return {
      reference: request.reference,
      intro:
        total === 0
          ? 'Nobody on this request needs a message from you.'
          : `${drafts.stage === 'outcome' ? 'NAS Operations have decided every account.' : 'Your request is submitted.'} The transfer process asks you to tell the people affected, and to give everyone who is not moving their resolution. I have drafted ${plural(total, 'message')}, one per person, each with their own details. Nothing is sent until you choose below.`,
      leaverReminder: leaverReminder(request),
      sentSoFar: tally
        ? `Sent so far: ${tally.sent} of ${tally.total}${tally.failed.length > 0 ? `; ${tally.failed.length} failed (sending again sends only those)` : ''}.`
        : '',
      groups,
      notTold:
        drafts.notTold.length > 0 ? escapeMarkdown(`No message drafted for: ${drafts.notTold.map((each) => `${each.email} (${each.why})`).join(' ')}`) : '',
      timescales: [describeMeasure('Time to a decision', timescales.decision), describeMeasure('Time to the move', timescales.transfer)].join(' '),
      howItGoes: options.canSend
        ? 'Send by email: each message goes from your own mailbox (you sign in once to allow it), one person per message, at most 30 a minute (Exchange Online’s limit); each is in your Sent Items, and I tell you here how many were sent. Or download them (a CSV for mail merge, and the messages of each group) to send yourself.'
        : 'Sending from your mailbox is not set up for this bot: download the messages (a CSV for mail merge, and the messages of each group) to send yourself.',
      sendTitle:
        tally && tally.failed.length > 0 ? `Send the ${plural(tally.failed.length, 'failed message')} again` : `Send ${plural(total, 'message')} by email`,
      canSend: options.canSend && total > 0 && (!tally || tally.failed.length > 0),
      requestId: request.id,
      stage: drafts.stage,
    };
  }
}

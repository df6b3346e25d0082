import { AppError } from '../../core/errors';
import type { Reason } from '../eligibility/types';
import { FIXABLE_RULES, isScreenedOut, type StoredAccount, type StoredRequest } from '../model';
import { fill, MESSAGE_GROUPS, type AffectedUserMessages, type MessageGroup, type MessageStage } from './message-templates';
import { describeTimescale, type Timescale } from './timescales';

/**
 * The messages the requester owes the users a transfer affects, drafted per person from the
 * policy's templates and grouped by what each needs to hear. Pure: the request, the templates
 * and the measured timescales in, the drafts out; nothing is sent from here.
 */

export interface Draft {
  accountId: number;
  /** The account's own address: a draft only ever goes to an account of the request. */
  to: string;
  name: string;
  group: MessageGroup;
  subject: string;
  body: string;
}

export interface NotTold {
  accountId: number;
  email: string;
  /** Why no message is drafted, for the requester. */
  why: string;
}

export interface DraftSet {
  requestId: number;
  reference: string;
  stage: MessageStage;
  groups: Record<MessageGroup, Draft[]>;
  notTold: NotTold[];
}

export interface MeasuredTimescales {
  decision: Timescale;
  transfer: Timescale;
}

/** Which group an account is in at this stage, with its own reason and resolution; null when it gets no message. */
function placeOf(
  account: StoredAccount,
  stage: MessageStage,
  messages: AffectedUserMessages,
): { group: MessageGroup; reason?: string; resolution?: string; decisionReason?: string } | { notTold: string } {
  if (account.decision === 'approved' || (stage === 'submitted' && !isScreenedOut(account))) return { group: 'transferring' };
  if (account.decision === 'rejected') {
    return {
      group: 'keptLocally',
      reason: messages.nasDecisionReason,
      resolution: messages.nasDecisionResolution,
      decisionReason: account.decisionReason?.trim() || 'no reason was recorded',
    };
  }
  if (!isScreenedOut(account)) return { notTold: 'Not decided yet.' };
  const blocking = account.reasons.filter((reason) => reason.verdict === 'ineligible');
  if (blocking.length === 0) return { notTold: 'Not decided yet.' };
  if (blocking.some((reason) => messages.notTold.has(reason.rule)))
    return { notTold: 'No message: the address was not found, repeats another, is in another request, or another organisation administers it.' };
  const fixable = (reason: Reason) => reason.fixable === true || FIXABLE_RULES.has(reason.rule);
  const reason = capitalise(unique(blocking.map((each) => messages.reasons[each.rule] ?? each.message)).join(' '));
  if (blocking.every(fixable)) {
    return { group: 'notEligible', reason, resolution: unique(blocking.map((each) => messages.resolutions[each.rule] ?? each.remedy)).join(' ') };
  }
  const lasting = blocking.find((each) => !fixable(each));
  return { group: 'keptLocally', reason, resolution: (lasting && messages.resolutions[lasting.rule]) ?? messages.defaultResolution };
}

/** The group an account's message is in at this stage now; null when it gets none. What a message queued earlier is checked against before it goes. */
export function groupOf(account: StoredAccount, stage: MessageStage, messages: AffectedUserMessages): MessageGroup | null {
  const place = placeOf(account, stage, messages);
  return 'notTold' in place ? null : place.group;
}

/** Drafts one message per affected user of the request at this stage. */
export function draftMessages(request: StoredRequest, stage: MessageStage, messages: AffectedUserMessages, timescales: MeasuredTimescales): DraftSet {
  const groups = Object.fromEntries(MESSAGE_GROUPS.map((group) => [group, [] as Draft[]])) as Record<MessageGroup, Draft[]>;
  const notTold: NotTold[] = [];
  const common = { organisation: request.organisationName, requester: request.requester.name, reference: request.reference };
  const unknown = fill(messages.tooLittleHistory, common);
  const values = {
    ...common,
    decisionTimescale: describeTimescale(timescales.decision, unknown),
    transferTimescale: describeTimescale(timescales.transfer, unknown),
  };
  for (const account of request.accounts) {
    const place = placeOf(account, stage, messages);
    if ('notTold' in place) {
      notTold.push({ accountId: account.id, email: account.email, why: place.notTold });
      continue;
    }
    const name = account.evidence.displayName?.trim() || account.email;
    const phrase = { ...common, decisionReason: place.decisionReason };
    const personal = {
      ...values,
      name,
      email: account.email,
      reason: place.reason === undefined ? undefined : fill(place.reason, phrase),
      resolution: place.resolution === undefined ? undefined : fill(place.resolution, phrase),
    };
    const template = messages.templates[stage][place.group];
    groups[place.group].push({
      accountId: account.id,
      to: account.email,
      name,
      group: place.group,
      subject: fill(template.subject, personal),
      body: fill(template.body, personal),
    });
  }
  return { requestId: request.id, reference: request.reference, stage, groups, notTold };
}

export function allDrafts(set: DraftSet): Draft[] {
  return MESSAGE_GROUPS.flatMap((group) => set.groups[group]);
}

/**
 * Messages go only to the accounts of the request, at their own address: anything else (a
 * tampered card, an address typed in) is refused, naming the address, before anything is sent.
 */
export function checkRecipients(request: Pick<StoredRequest, 'reference' | 'accounts'>, addresses: readonly string[]): void {
  const inRequest = new Set(request.accounts.map((account) => account.email.toLowerCase()));
  const outside = addresses.filter((address) => !inRequest.has(address.trim().toLowerCase()));
  if (outside.length > 0)
    throw new AppError(
      'INVALID_INPUT',
      `${outside.length === 1 ? `${outside[0]} is` : `${outside.join(', ')} are`} not an account in ${request.reference}: messages go only to the accounts of the request. Nothing was sent.`,
    );
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

import { z } from 'zod';
import type { Actor } from '../services/model';
import type { AccountAction, RequestAction } from '../services/requests/lifecycle';
import type { TransferRequests } from '../services/requests/transfer-requests';
import { decisionReasonField, requestIdField, typedTextField } from './card-actions/card-data';

/**
 * The one table of what NAS Operations can do to a request, keyed by the lifecycle's action
 * names (services/requests/lifecycle.ts). The ops card's buttons (bot/card-actions/dispatcher.ts)
 * and the workspace API (bot/workspace/workspace-api.ts) both take their actions from it, and the
 * audit words name them by it, so adding an action is one entry here and its use case.
 */
export type OpsActionName = RequestAction | AccountAction;

/** Ids and typed text only: everything else about a request is read from the store, never from the client. */
type ActionInput = z.ZodType<{ requestId: number }>;

export interface OpsAction<Input extends ActionInput = ActionInput> {
  /** What the client sends: the ops card's data, or the workspace's JSON body with the request id from the path. */
  input: Input;
  /** The audit events the use case writes when the action goes ahead (one of them, per account it changes). */
  audit: readonly string[];
  /**
   * The verb the ops card's button sends (cards/ops-request.json), where it predates this table
   * and differs from the action's name. Cards already posted in Teams carry it, so it is the one
   * verb accepted for the action (the name is not a second one no card sends). A new action's verb is its name.
   */
  cardVerb?: string;
  /** The use case: it locks the request, asks the lifecycle, changes it, audits it. */
  run(requests: TransferRequests, actor: Actor, input: z.infer<Input>): Promise<unknown>;
}

/** Lets actions with different inputs sit in one table, each checked against its own input. */
function opsAction<Input extends ActionInput>(action: OpsAction<Input>): OpsAction {
  return action;
}

const onRequest = z.object({ requestId: requestIdField });
/** A decision on one account, as a row's Approve/Reject (decide) or a change of it (correct) sends it. */
const accountDecision = z.object({
  requestId: requestIdField,
  accountId: requestIdField,
  decision: z.enum(['approved', 'rejected']),
  decisionReason: decisionReasonField,
});

export const OPS_ACTIONS: Readonly<Record<OpsActionName, OpsAction>> = {
  /** "Assign to me": everyone sees who is reviewing the request. */
  claim: opsAction({
    cardVerb: 'claimRequest',
    input: onRequest,
    audit: ['request.claimed'],
    run: (requests, actor, input) => requests.claim(input.requestId, actor),
  }),
  /**
   * "Take over": the client names the reviewer it showed, so a take-over pressed on an
   * out-of-date card is refused rather than taking the request from someone else.
   */
  takeOver: opsAction({
    cardVerb: 'takeOverRequest',
    input: z.object({ requestId: requestIdField, reviewerId: z.string().trim().min(1).max(100) }),
    audit: ['request.taken_over'],
    run: (requests, actor, input) => requests.takeOver(input.requestId, actor, input.reviewerId),
  }),
  approveEligible: opsAction({
    input: onRequest,
    audit: ['request.approved_eligible'],
    run: (requests, actor, input) => requests.approveEligible(input.requestId, actor),
  }),
  rejectUndecided: opsAction({
    cardVerb: 'rejectRequest',
    input: z.object({ requestId: requestIdField, decisionReason: decisionReasonField }),
    audit: ['request.rejected'],
    run: (requests, actor, input) => requests.rejectUndecided(input.requestId, actor, input.decisionReason),
  }),
  /** A question to the requester, who answers in their chat; both show on the card and in the audit. */
  ask: opsAction({
    cardVerb: 'askRequester',
    input: z.object({ requestId: requestIdField, question: typedTextField('question') }),
    audit: ['request.asked'],
    run: (requests, actor, input) => requests.ask(input.requestId, actor, input.question),
  }),
  /** The approved accounts not yet marked are now administered by NAS; an optional note goes with them. */
  markTransferred: opsAction({
    input: z.object({ requestId: requestIdField, transferNote: typedTextField('note') }),
    audit: ['account.transferred'],
    run: (requests, actor, input) => requests.markTransferred(input.requestId, actor, 'all', input.transferNote),
  }),
  /** One decision per account, ever; a rejection needs a reason the requester will see. */
  decide: opsAction({
    cardVerb: 'decideAccount',
    input: accountDecision,
    audit: ['account.approved', 'account.rejected'],
    run: (requests, actor, input) => requests.decideAccount(input.requestId, input.accountId, input.decision, actor, input.decisionReason),
  }),
  /** Changes a decision until the account is transferred; the reason is mandatory and both decisions stay in the audit. */
  correct: opsAction({
    cardVerb: 'correctDecision',
    input: accountDecision,
    audit: ['account.corrected'],
    run: (requests, actor, input) => requests.correctDecision(input.requestId, input.accountId, input.decision, actor, input.decisionReason),
  }),
  /** One approved account is now administered by NAS. */
  markAccountTransferred: opsAction({
    input: z.object({ requestId: requestIdField, accountId: requestIdField, transferNote: typedTextField('note') }),
    audit: ['account.transferred'],
    run: (requests, actor, input) => requests.markTransferred(input.requestId, actor, input.accountId, input.transferNote),
  }),
  /** NAS Operations vouch, with a reason, for a marked transfer the directory does not show yet; the bot stops checking it. */
  overrideTransfer: opsAction({
    input: z.object({ requestId: requestIdField, accountId: requestIdField, decisionReason: decisionReasonField }),
    audit: ['account.transfer_overridden'],
    run: (requests, actor, input) => requests.overrideTransfer(input.requestId, input.accountId, actor, input.decisionReason),
  }),
};

export const OPS_ACTION_NAMES = Object.keys(OPS_ACTIONS) as OpsActionName[];

/** The verb the ops card sends for an action. */
export function cardVerbOf(name: OpsActionName): string {
  return OPS_ACTIONS[name].cardVerb ?? name;
}

const BY_VERB: ReadonlyMap<string, OpsActionName> = new Map(OPS_ACTION_NAMES.map((name) => [cardVerbOf(name), name] as const));

/** The action a card verb asks for: only the verbs the ops card's buttons send (cardVerbOf). */
export function opsActionOfVerb(verb: string | undefined): OpsActionName | undefined {
  return verb === undefined ? undefined : BY_VERB.get(verb);
}

/** The action an audit row names: by its name (recorded since this table), or by the card verb recorded before it. */
export function opsActionRecorded(verb: string | undefined): OpsActionName | undefined {
  return verb !== undefined && Object.hasOwn(OPS_ACTIONS, verb) ? (verb as OpsActionName) : opsActionOfVerb(verb);
}

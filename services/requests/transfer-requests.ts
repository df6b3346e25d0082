import { AppError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { alreadyRequestedReason } from '../eligibility/rules';
import type { ScreenedAccount, Verdict } from '../eligibility/types';
import type { Actor, Decision, NewTransferRequest, RequestForDecision, RequestQuestion, RequestSummary, StoredRequest } from '../model';
import { appendAccountAudits, appendAudit, AuditLog, type AuditEvent } from '../store/audit';
import type { SqlDatabase, SqlExecutor } from '../store/database';
import { enqueue, owed } from '../store/outbox';
import { answerOldestOpenQuestion, insertQuestion } from '../store/questions';
import {
  approveEligibleAccounts,
  assignReviewer,
  changeDecision,
  decideOneAccount,
  markAccountsTransferred,
  markWithdrawn,
  rejectUndecidedAccounts,
  settleIfAllDecided,
} from '../store/request-changes';
import { insertAccounts, insertRequest, lockAddresses, RequestRepository } from '../store/requests';
import { SqlScreeningHistory } from '../store/screening-history';
import { oweCheck, oweChecks, overrideTransfer } from '../store/request-checks';
import { completeIfReady, tellRequesterOfChange } from './completion';
import { inTransaction, RequestEnvelope, type WorkSignal } from './request-envelope';
import { requestSql } from './request-conditions';
import {
  accountAction,
  assertAllowed,
  isOpen,
  reasonNeeded,
  ReasonRequiredError,
  RefusedError,
  REQUEST_CONDITIONS,
  requestAction,
  requesterAction,
  type Verdict as Allowed,
} from './lifecycle';

export type { AuditEvent };

export type { WorkSignal };

export interface Submitted {
  request: StoredRequest;
  /** False when this draft had already been submitted: the same request is answered again. */
  created: boolean;
}

export interface DecisionOutcome {
  decidedAccountIds: number[];
  /** This decision left nothing undecided: the request is decided and the requester is owed the outcome. */
  requestNowDecided: boolean;
}

const AWAITING_TRANSFER_SQL = requestSql(REQUEST_CONDITIONS.awaitingTransfer);

/**
 * What people do to transfer requests, one use case a method. Each locks the request, asks
 * the lifecycle (services/requests/lifecycle.ts) whether the change is allowed on the request
 * as it is now, makes the change with its audit events and the messages it owes, all in one
 * transaction, and signals the workers once it has committed. The Teams edge calls these and
 * nothing below them; repositories hold SQL only.
 */
export class TransferRequests {
  private readonly reads: RequestRepository;
  private readonly envelope: RequestEnvelope;
  private readonly audit: AuditLog;

  constructor(
    private readonly db: SqlDatabase,
    private readonly signal: WorkSignal,
    private readonly logger: Logger,
  ) {
    this.reads = new RequestRepository(db);
    this.audit = new AuditLog(db);
    this.envelope = new RequestEnvelope(db, signal);
  }

  // --- reading -------------------------------------------------------------------------

  get(id: number): Promise<StoredRequest | null> {
    return this.reads.get(id);
  }

  getByReference(reference: string): Promise<StoredRequest | null> {
    return this.reads.getByReference(reference);
  }

  /** Who raised a request (null when there is none): enough for the access rule, before an action reads it whole. */
  requesterOf(id: number): Promise<Pick<StoredRequest, 'requester'> | null> {
    return this.reads.requesterOf(id);
  }

  exists(id: number): Promise<boolean> {
    return this.reads.exists(id);
  }

  listBy(requesterId: string): Promise<RequestSummary[]> {
    return this.reads.listBy(requesterId);
  }

  /** Waiting for NAS Operations: undecided (oldest first), and decided with approved accounts not yet transferred. */
  async pending(): Promise<{ awaitingDecision: RequestSummary[]; awaitingTransfer: RequestSummary[] }> {
    const [awaitingDecision, awaitingTransfer] = await Promise.all([this.reads.listAwaitingDecision(), this.reads.listAwaitingTransfer(AWAITING_TRANSFER_SQL)]);
    return { awaitingDecision, awaitingTransfer };
  }

  /** The request's audit history, oldest first. */
  history(requestId: number): Promise<AuditEvent[]> {
    return this.audit.forRequest(requestId);
  }

  // --- the record of what was refused or taken away -------------------------------------

  /**
   * Someone was refused an action on a request (outside NAS Operations, or not confirmable):
   * audited against the request when it exists, otherwise with the id they named.
   */
  async recordRefusal(actor: Actor, verb: string, requestId: number, reason: string): Promise<void> {
    const known = await this.reads.exists(requestId);
    await this.audit.record(actor, 'card_action.refused', known ? requestId : null, { verb, reason, ...(known ? {} : { requestId }) });
  }

  /** A member of NAS Operations saved the request's export to their OneDrive. */
  recordExport(actor: Actor, requestId: number): Promise<void> {
    return this.audit.record(actor, 'request.exported', requestId, {});
  }

  // --- the requester -------------------------------------------------------------------

  /**
   * Turns a reviewed draft into a request for NAS Operations and owes its card. A draft
   * submitted again (a double click, a Teams retry, a Submit after a crash) answers with the
   * request it already became. With its addresses locked, an account another request took
   * since screening is screened out here, with why.
   */
  async submit(submission: NewTransferRequest): Promise<Submitted> {
    const requester = submission.requester;
    // A new request has no row to lock yet: its insert is the change, in one transaction that wakes the workers when it commits.
    const outcome = await inTransaction(this.db, this.signal, async (tx) => {
      const inserted = await insertRequest(tx, submission);
      if (!inserted.created) return inserted;
      const accounts = await withHistory(tx, inserted.id, await withoutAccountsTakenMeanwhile(tx, inserted.id, submission.accounts));
      await insertAccounts(tx, inserted.id, accounts);
      // The screening that preceded the request is recorded with it: what the policy found, by verdict.
      await appendAudit(tx, requester, 'request.submitted', inserted.id, null, {
        reference: inserted.reference,
        accountCount: accounts.length,
        policyVersion: submission.policyVersion,
        screened: { eligible: count(accounts, 'eligible'), review: count(accounts, 'review'), ineligible: count(accounts, 'ineligible') },
      });
      await enqueue(tx, owed.opsPost(inserted.id));
      return inserted;
    });
    const request = (await this.reads.get(outcome.id)) as StoredRequest;
    this.logger.info(outcome.created ? 'request.submitted' : 'request.resubmitted', {
      requestId: request.id,
      reference: request.reference,
      accountCount: request.accounts.length,
    });
    return { request, created: outcome.created };
  }

  /** The requester takes their request back, until NAS Operations decide anything on it. */
  withdraw(requestId: number, requester: Actor): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(requesterAction(request, 'withdraw', requester.id));
      await markWithdrawn(tx, requestId);
      await appendAudit(tx, requester, 'request.withdrawn', requestId, null, { before: { status: request.status }, after: { status: 'withdrawn' } });
    });
  }

  /** The requester's answer to the oldest open question; the card shows it and a reply in its thread tells NAS Operations. */
  answer(requestId: number, requester: Actor, answer: string): Promise<RequestQuestion> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(requesterAction(request, 'answer', requester.id));
      const question = await answerOldestOpenQuestion(tx, requestId, answer);
      if (!question) throw new RefusedError({ reason: 'no_open_question', request });
      await appendAudit(tx, requester, 'request.answered', requestId, null, { questionId: question.id, answer });
      // A card that changes in place is easy to miss: a reply in its thread tells NAS Operations.
      await enqueue(tx, owed.opsAnswer(requestId, question.id));
      return question;
    });
  }

  // --- NAS Operations ------------------------------------------------------------------

  /** "Assign to me": compare-and-set, so of two people pressing at once the second is told who has it. */
  claim(requestId: number, actor: Actor): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(requestAction(request, 'claim', actor));
      await assignReviewer(tx, requestId, actor);
      await appendAudit(tx, actor, 'request.claimed', requestId, null, reviewerChange(request, actor));
      // Taken up for review: its accounts are screened again, so the reviewer sees the facts as they are now.
      await oweCheck(tx, requestId, 'recheck', 'claim');
    });
  }

  /** Takes the request over from the reviewer the card showed; refused if someone else has it by now. */
  takeOver(requestId: number, actor: Actor, fromReviewerId: string): Promise<void> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(requestAction(request, 'takeOver', actor));
      if (request.claimedBy?.id !== fromReviewerId) assertAllowed(requestAction(request, 'claim', actor));
      await assignReviewer(tx, requestId, actor);
      await appendAudit(tx, actor, 'request.taken_over', requestId, null, reviewerChange(request, actor));
      await oweCheck(tx, requestId, 'recheck', 'claim');
    });
  }

  approveEligible(requestId: number, actor: Actor): Promise<DecisionOutcome> {
    return this.decide(
      requestId,
      actor,
      (request) => requestAction(request, 'approveEligible', actor),
      async (tx) => ({
        ids: await approveEligibleAccounts(tx, requestId, actor),
        action: 'request.approved_eligible',
        detail: {},
      }),
    );
  }

  rejectUndecided(requestId: number, actor: Actor, reason: string | null | undefined): Promise<DecisionOutcome> {
    if (!reason) throw new ReasonRequiredError('reject');
    return this.decide(
      requestId,
      actor,
      (request) => requestAction(request, 'rejectUndecided', actor),
      async (tx) => ({
        ids: await rejectUndecidedAccounts(tx, requestId, actor, reason),
        action: 'request.rejected',
        detail: { reason },
      }),
    );
  }

  /** One decision per account, ever: a second attempt learns who decided first. A rejection needs a reason the requester will see. */
  decideAccount(requestId: number, accountId: number, decision: Decision, actor: Actor, reason?: string | null): Promise<DecisionOutcome> {
    if (decision === 'rejected' && !reason) throw new ReasonRequiredError('reject');
    const allowed = (request: RequestForDecision): Allowed => {
      const verdict = accountAction(request, accountId, 'decide');
      const needed = verdict.allowed && !reason ? reasonNeeded(request, accountId, 'decide', decision) : undefined;
      return needed ? { allowed: false, error: new ReasonRequiredError(needed) } : verdict;
    };
    return this.decide(requestId, actor, allowed, async (tx) => ({
      ids: await decideOneAccount(tx, requestId, accountId, decision, actor, reason ?? null),
      action: `account.${decision}`,
      detail: reason ? { reason } : {},
    }));
  }

  /** Changes a decision, with a reason, until the account is transferred; both decisions stay in the audit. */
  correctDecision(requestId: number, accountId: number, decision: Decision, actor: Actor, reason: string | null | undefined): Promise<void> {
    if (!reason) throw new ReasonRequiredError('correct');
    return this.change(requestId, async (tx, request) => {
      assertAllowed(accountAction(request, accountId, 'correct', decision));
      const before = request.accounts.find((account) => account.id === accountId)!;
      if (decision === 'approved') {
        // Rejected here, the account may since have been resubmitted (the outcome offers it): approving it here as well would put
        // one mailbox in two requests. The address is locked as Submit locks it, so the two cannot pass each other.
        await refuseIfHeldElsewhere(tx, requestId, before.email);
        await oweCheck(tx, requestId, 'recheck', 'approval');
      }
      await changeDecision(tx, requestId, accountId, decision, actor, reason);
      const auditId = await appendAudit(tx, actor, 'account.corrected', requestId, accountId, {
        before: { decision: before.decision, by: before.decidedBy?.name ?? null, reason: before.decisionReason },
        after: { decision, by: actor.name, reason },
      });
      await tellRequesterOfChange(tx, request, auditId);
      // Decided: an account approved now is watched for its move; one rejected may leave every other approved one moved.
      if (request.status === 'decided' && decision === 'approved') await oweCheck(tx, requestId, 'transfer', 'decided');
      await completeIfReady(tx, request, actor);
    });
  }

  /**
   * Records approved accounts (all, or one) as moved to NAS, with an optional note, and owes a
   * look in the directory at once. The request completes, and the requester is owed the news,
   * only when every approved account is seen moved in the directory or overridden.
   */
  markTransferred(requestId: number, actor: Actor, accountId: number | 'all', note?: string | null): Promise<{ transferred: number; completed: boolean }> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(accountId === 'all' ? requestAction(request, 'markTransferred', actor) : accountAction(request, accountId, 'markAccountTransferred'));
      const marked = await markAccountsTransferred(tx, requestId, actor, accountId === 'all' ? 'all' : [accountId], note ?? null);
      await appendAccountAudits(tx, actor, 'account.transferred', requestId, marked, note ? { note } : {});
      await oweCheck(tx, requestId, 'transfer', 'marked');
      const completed = await completeIfReady(tx, request, actor);
      return { transferred: marked.length, completed };
    });
  }

  /**
   * NAS Operations vouch, with a reason, for a marked transfer the directory does not show;
   * the bot stops checking it. Completes the request when it was the last one waiting.
   */
  overrideTransfer(requestId: number, accountId: number, actor: Actor, reason: string | null | undefined): Promise<{ completed: boolean }> {
    return this.change(requestId, async (tx, request) => {
      assertAllowed(accountAction(request, accountId, 'overrideTransfer'));
      if (!reason) throw new ReasonRequiredError(reasonNeeded(request, accountId, 'overrideTransfer') ?? 'override');
      const overridden = await overrideTransfer(tx, requestId, accountId, actor, reason);
      const audits: number[] = [];
      for (const id of overridden) audits.push(await appendAudit(tx, actor, 'account.transfer_overridden', requestId, id, { reason }));
      const completed = await completeIfReady(tx, request, actor);
      // The completion message names each override, who and why: one message for the requester, not the override and then "complete".
      if (!completed) for (const auditId of audits) await tellRequesterOfChange(tx, request, auditId);
      return { completed };
    });
  }

  /** Puts NAS Operations' question to the requester, who answers in their chat. */
  ask(requestId: number, actor: Actor, question: string | null | undefined): Promise<number> {
    if (!question) throw new AppError('QUESTION_REQUIRED');
    return this.change(requestId, async (tx, request) => {
      assertAllowed(requestAction(request, 'ask', actor));
      const id = await insertQuestion(tx, requestId, actor, question);
      await appendAudit(tx, actor, 'request.asked', requestId, null, { questionId: id, question });
      await enqueue(tx, owed.question(requestId, request.requester.id, id));
      return id;
    });
  }

  // --- the one way a request changes ---------------------------------------------------

  /**
   * Locks the request, applies the change, owes the ops card its update (every change shows
   * on it), commits, then signals the workers.
   */
  private change<T>(requestId: number, apply: (tx: SqlExecutor, request: StoredRequest) => Promise<T>): Promise<T> {
    return this.envelope.change(requestId, apply);
  }

  /**
   * A decision: allowed on the request as locked (read as the lifecycle asks it, without the
   * accounts' evidence), each decided account audited, the outcome owed when it settles the request.
   */
  private decide(
    requestId: number,
    actor: Actor,
    allowed: (request: RequestForDecision) => Allowed,
    update: (tx: SqlExecutor) => Promise<{ ids: number[]; action: string; detail: Record<string, unknown> }>,
  ): Promise<DecisionOutcome> {
    return this.envelope.decide(requestId, async (tx, request, owe) => {
      assertAllowed(allowed(request));
      const { ids, action, detail } = await update(tx);
      await appendAccountAudits(tx, actor, action, requestId, ids, detail);
      const settled = await settleIfAllDecided(tx, requestId);
      // Written with the card's update, in one statement.
      if (settled) owe(owed.outcome(requestId, request.requester.id));
      // An approval has the facts read again at once, also the one that decides the request (a leaver found then is
      // still flagged: re-checks go on until every approved account has moved); once decided, the directory is watched
      // for the moves. Both in one statement.
      const approved = ids.length > 0 && action !== 'request.rejected' && action !== 'account.rejected' && isOpen(request.status);
      await oweChecks(tx, requestId, [
        ...(approved ? [{ kind: 'recheck' as const, trigger: 'approval' }] : []),
        ...(settled ? [{ kind: 'transfer' as const, trigger: 'decided' }] : []),
      ]);
      return { decidedAccountIds: ids, requestNowDecided: settled };
    });
  }
}

function reviewerChange(request: StoredRequest, actor: Actor): Record<string, unknown> {
  return { before: { status: request.status, reviewer: request.claimedBy?.name ?? null }, after: { status: 'in_review', reviewer: actor.name } };
}

function count(accounts: readonly ScreenedAccount[], verdict: Verdict): number {
  return accounts.filter((account) => account.verdict === verdict).length;
}

/**
 * The re-check at Submit, with the addresses it would take locked until it commits: an account
 * another request took since this list was screened (approved there, or waiting for a decision)
 * is screened out here, with the same reason screening would have given, so one mailbox is
 * never in two open requests.
 */
async function withoutAccountsTakenMeanwhile(tx: SqlExecutor, requestId: number, accounts: readonly ScreenedAccount[]): Promise<ScreenedAccount[]> {
  const wanted = accounts.filter((account) => account.verdict !== 'ineligible').map((account) => account.email.toLowerCase());
  if (wanted.length === 0) return [...accounts];
  await lockAddresses(tx, wanted);
  const taken = await new SqlScreeningHistory(tx).priorRequests(wanted, requestId);
  if (taken.size === 0) return [...accounts];
  return accounts.map((account) => {
    const prior = account.verdict === 'ineligible' ? undefined : taken.get(account.email.toLowerCase());
    return prior ? { ...account, verdict: 'ineligible', reasons: [alreadyRequestedReason(prior), ...account.reasons] } : account;
  });
}

/** Refuses approving `email` here while another request holds it (approved there, or waiting for a decision). */
async function refuseIfHeldElsewhere(tx: SqlExecutor, requestId: number, email: string): Promise<void> {
  const address = email.toLowerCase();
  await lockAddresses(tx, [address]);
  const elsewhere = (await new SqlScreeningHistory(tx).priorRequests([address], requestId)).get(address);
  if (elsewhere) {
    throw new AppError(
      'ACCOUNT_IN_ANOTHER_REQUEST',
      `It is ${elsewhere.state === 'approved' ? 'approved' : 'waiting for a decision'} in ${elsewhere.reference}.`,
    );
  }
}

/** Each account that was in an earlier request carries how it ended there, so a resubmitted account shows its history on the card. */
async function withHistory(tx: SqlExecutor, requestId: number, accounts: readonly ScreenedAccount[]): Promise<ScreenedAccount[]> {
  const earlier = await new SqlScreeningHistory(tx).earlierRequests(
    accounts.map((account) => account.email),
    requestId,
  );
  if (earlier.size === 0) return [...accounts];
  return accounts.map((account) => {
    const earlierRequest = earlier.get(account.email.toLowerCase());
    return earlierRequest ? { ...account, evidence: { ...account.evidence, earlierRequest } } : account;
  });
}

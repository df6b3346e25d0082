import { setImmediate as turnsFirst } from 'node:timers/promises';
import type { DirectoryAccount } from '../eligibility/types';
import { describeErrorForLog, findAppError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Directory } from '../directory/graph-directory';
import type { Evidence, Reason, RuleId, ScreenedAccount, Verdict } from '../eligibility/types';
import { isScreenedOut, type Actor, type StoredAccount, type StoredRequest } from '../model';
import type { ScreeningService } from '../screening';
import { appendAccountAuditsEach, appendAudit } from '../store/audit';
import type { SqlDatabase } from '../store/database';
import { enqueue, owed } from '../store/outbox';
import {
  claimTransferChase,
  confirmTransfers,
  markLeaverAlerted,
  oweCheck,
  recordRechecks,
  recordTransferChecked,
  RequestChecks,
  transferChaseState,
  type AccountRecheck,
  type ClaimedCheck,
} from '../store/request-checks';
import { RequestRepository } from '../store/requests';
import { londonDate, workingDaysElapsed } from '../working-days';
import { completeIfReady, tellRequesterOfChange } from './completion';
import { awaitingConfirmation, meets, recheckedAccounts, REQUEST_CONDITIONS } from './lifecycle';
import { requestSql } from './request-conditions';
import { RequestEnvelope, signalledDatabase } from './request-envelope';
import type { WorkSignal } from './transfer-requests';

/** The bot itself, as the actor of what it does on its own. */
export const BOT_ACTOR: Actor = { id: 'nas-transfer-bot', name: 'NAS Transfer Bot' };

export interface RecheckPolicy {
  /** ODS codes NAS-administered accounts carry in the administering-organisation attribute (policy data). */
  nasOrganisations: ReadonlySet<string>;
  /** Approved accounts are read in the directory this often until they have moved. */
  transferCheckMinutes: number;
  /** An approved account not moved this many working days after the decision is flagged in the channel. */
  transferChaseWorkingDays: number;
  holidays: ReadonlySet<string>;
}

/** Which requests the daily sweep owes checks: the lifecycle's conditions, as SQL. */
const SWEPT = { rechecked: requestSql(REQUEST_CONDITIONS.rechecked), awaitingTransfer: requestSql(REQUEST_CONDITIONS.awaitingTransfer) };

/** Requests checked per tick: each re-check screens a whole request, so a few at a time keep a tick short. */
const REQUESTS_PER_TICK = 5;
const LEASE_SECONDS = 120;
const DAY_SECONDS = 24 * 60 * 60;
/** A check that could not run (the directory away) is tried again after this. */
const RETRY_SECONDS = 5 * 60;

/** What a rule's appearing (or going) as a finding means, in the words the card uses after "since submission:". */
const CHANGE_WORDS: Partial<Record<RuleId, [appeared: string, went: string]>> = {
  MARKED_AS_LEAVER: ['marked as a leaver', 'no longer marked as a leaver'],
  ACCOUNT_DISABLED: ['disabled', 'enabled again'],
  ACCOUNT_NOT_FOUND: ['gone from the directory', 'found in the directory'],
  NO_UK_MOBILE: ['no UK mobile registered', 'a UK mobile registered'],
  SITE_NOT_DSPT_COMPLIANT: ["its site's DSPT no longer current", "its site's DSPT current again"],
  SITE_CLOSED: ['its site closed', 'its site open again'],
  NOT_IN_REQUESTING_ORG: ['no longer administered by the requesting organisation', 'administered by the requesting organisation again'],
  ALREADY_REQUESTED: ['in another request', 'no longer in another request'],
  NOT_DIRECT_PATIENT_CARE: ['no longer in a patient-facing role', 'in a patient-facing role'],
  GENERIC_ACCOUNT: ['now looks like a shared account', 'no longer looks like a shared account'],
  UNSUPPORTED_SPECIALISM: ['its site is now in an unsupported sector', 'its site is in a supported sector'],
  SITE_ALLOWANCE_EXCEEDED: ["over its site's allowance", "within its site's allowance"],
  CENTRALLY_FUNDED_EMAIL: ['has a centrally funded email', 'no centrally funded email'],
  OPTOMETRY_MULTIPLE: ['part of an optometry multiple', 'not part of an optometry multiple'],
};

/**
 * A rule at review could not be checked (a register row unreadable, the DSPT register too old
 * to trust): "over its site's allowance" would be untrue then. These words carry no counts,
 * files or lines, which change from day to day: a change is told when its words change, so the
 * requester would otherwise hear the same news every working day.
 */
const COULD_NOT_CHECK_WORDS: Partial<Record<RuleId, [appeared: string, went: string]>> = {
  SITE_NOT_DSPT_COMPLIANT: ["its site's DSPT could not be checked", "its site's DSPT checked again"],
  SITE_ALLOWANCE_EXCEEDED: ["its site's allowance could not be checked", "its site's allowance checked again"],
};

/**
 * What differs between the verdict at submission and the verdict now, in words ("marked as
 * a leaver, now ineligible"); null when the verdict and the rules behind it are the same.
 */
export function describeChange(
  before: { verdict: Verdict; reasons: readonly Reason[] },
  after: { verdict: Verdict; reasons: readonly Reason[] },
): string | null {
  const rulesBefore = new Set(before.reasons.map((reason) => reason.rule));
  const rulesAfter = new Set(after.reasons.map((reason) => reason.rule));
  const parts: string[] = [];
  const words = (reason: Reason) =>
    reason.verdict === 'review' ? (COULD_NOT_CHECK_WORDS[reason.rule] ?? CHANGE_WORDS[reason.rule]) : CHANGE_WORDS[reason.rule];
  for (const reason of after.reasons) if (!rulesBefore.has(reason.rule)) parts.push(words(reason)?.[0] ?? reason.message);
  for (const reason of before.reasons) if (!rulesAfter.has(reason.rule)) parts.push(words(reason)?.[1] ?? `no longer: ${reason.message}`);
  if (before.verdict !== after.verdict) parts.push(`now ${after.verdict === 'review' ? 'for review' : after.verdict}`);
  return parts.length > 0 ? [...new Set(parts)].join(', ') : null;
}

/** Which copies of the data a re-check read, for the audit. */
function snapshotOf(accounts: readonly ScreenedAccount[], policyVersion: string, readAt: Date): Record<string, unknown> {
  const withRegister = (key: keyof Evidence) => accounts.find((account) => account.evidence[key] !== undefined)?.evidence;
  const dspt = withRegister('dsptRegisterFile');
  const nas = withRegister('nasRegisterFile');
  return {
    policyVersion,
    directoryReadAt: readAt.toISOString(),
    ...(dspt ? { dsptRegisterFile: dspt.dsptRegisterFile, dsptRegisterDate: dspt.dsptRegisterDate } : {}),
    ...(nas ? { nasRegisterFile: nas.nasRegisterFile, nasRegisterDate: nas.nasRegisterDate } : {}),
  };
}

/**
 * Facts change after submission. Re-checks screen an open request's accounts again with the
 * same engine and sources as at submission (when it is taken up, when an account is approved,
 * and once a working day), record what changed since submission, and tell the requester at
 * once when an account was marked as a leaver. Transfer checks read approved accounts in the
 * directory until each shows a NAS organisation (confirmed) or NAS Operations override it;
 * then the request completes. Both run in the background as durable, leased checks (never
 * inside an invoke), batched through the screening service and the Graph directory.
 */
export class RequestRechecks {
  private readonly checks: RequestChecks;
  private readonly reads: RequestRepository;
  private readonly envelope: RequestEnvelope;

  constructor(
    private readonly db: SqlDatabase,
    private readonly screening: Pick<ScreeningService, 'screen'>,
    private readonly directory: Pick<Directory, 'lookupAccounts'>,
    private readonly policy: RecheckPolicy,
    private readonly signal: WorkSignal,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    // The sweep's owed checks wake the checks worker after they commit, as every change's do.
    this.checks = new RequestChecks(signalledDatabase(db, signal));
    this.reads = new RequestRepository(db);
    this.envelope = new RequestEnvelope(db, signal);
  }

  /** Adds the daily re-checks and the scheduled transfer checks that are missing. */
  sweep(): Promise<number> {
    return this.checks.sweep(SWEPT);
  }

  /** Runs due checks of both kinds; true when there may be more due now. */
  async runDue(): Promise<boolean> {
    const rechecks = await this.checks.claimDue('recheck', REQUESTS_PER_TICK, LEASE_SECONDS);
    for (const check of rechecks) {
      await this.guarded(check, () => this.recheck(check));
      // Turns that arrived during that request's check reach the database before the next request's reads.
      await turnsFirst();
    }
    const transfers = await this.checks.claimDue('transfer', REQUESTS_PER_TICK, LEASE_SECONDS);
    for (const check of transfers) {
      await this.guarded(check, () => this.checkTransfers(check));
      await turnsFirst();
    }
    return rechecks.length === REQUESTS_PER_TICK || transfers.length === REQUESTS_PER_TICK;
  }

  /** A check that could not run changes nothing (never "eligible" by default) and is tried again later. */
  private async guarded(check: ClaimedCheck, run: () => Promise<number | null>): Promise<void> {
    let next: number | null;
    try {
      next = await run();
    } catch (error) {
      const code = findAppError(error)?.code ?? 'CHECK_FAILED';
      this.logger.warn(`${check.kind}.failed`, { requestId: check.requestId, attempt: check.attempts, ...describeErrorForLog(error) });
      await this.checks.settle(check, RETRY_SECONDS, code);
      return;
    }
    await this.checks.settle(check, next);
  }

  // --- re-check -----------------------------------------------------------------------

  /** Screens the request's accounts again; seconds until the next (null: no more while it is not open). */
  private async recheck(check: ClaimedCheck): Promise<number | null> {
    const request = await this.reads.get(check.requestId);
    if (!request || !meets(request, 'rechecked')) return null;
    const now = this.now();
    // The daily round runs on working days; one owed by a person's action runs whenever it is owed.
    if (check.trigger === 'daily' && !this.isWorkingDay(now)) return DAY_SECONDS;
    const subjects = recheckedAccounts(request);
    if (subjects.length === 0) return DAY_SECONDS;
    const result = await this.screening.screen(
      request.organisationOds,
      subjects.map((account) => ({
        position: account.position,
        email: account.email,
        // Only a site the requester listed is kept; one read from the directory is read again, as it may have changed.
        ...(account.siteOds && account.evidence.siteSource !== 'directory' ? { siteOds: account.siteOds } : {}),
        ...(account.specialism ? { specialism: account.specialism } : {}),
      })),
      { excludeRequestId: request.id },
    );
    const screenedAt = new Map(result.accounts.map((account) => [account.position, account]));
    let newlyChanged = 0;
    let alerted: number[] = [];
    /** Whether the request still owes daily re-checks, as it stands under its lock (nothing written here changes that). */
    let stillRechecked = false;
    await this.envelope.changeIfPresent(request.id, async (tx, locked) => {
      stillRechecked = meets(locked, 'rechecked');
      // What was found is kept even if the request was decided meanwhile (the approval that decides it
      // closes it): a leaver found at that moment is exactly the one that must not be lost.
      const rechecks: AccountRecheck[] = [];
      const changed: Array<Record<string, unknown>> = [];
      const leavers: number[] = [];
      /** Accounts found marked as leavers: the urgent alert (now, or already by a transfer check) is how the requester hears of them. */
      const becameLeavers = new Set<number>();
      const atRisk = new Set(recheckedAccounts(locked).map((account) => account.id));
      for (const account of locked.accounts) {
        const now = screenedAt.get(account.position);
        if (!now || isScreenedOut(account)) continue;
        const stillAtRisk = atRisk.has(account.id);
        const changes = describeChange(account, now);
        const changeIsNew = changes !== null && changes !== (account.recheck?.changes ?? null);
        rechecks.push({ accountId: account.id, verdict: now.verdict, reasons: now.reasons, evidence: now.evidence, changeSummary: changes, changeIsNew });
        if (changeIsNew || (changes === null && account.recheck?.changes)) {
          changed.push({
            accountId: account.id,
            position: account.position,
            before: { verdict: account.verdict, rules: account.reasons.map((reason) => reason.rule) },
            after: { verdict: now.verdict, rules: now.reasons.map((reason) => reason.rule) },
            changes: changes ?? 'as at submission again',
          });
        }
        if (changeIsNew) newlyChanged++;
        if (!becameLeaver(account, now.reasons)) continue;
        if (account.leaverAlertedAt) becameLeavers.add(account.id);
        else if (stillAtRisk) leavers.push(account.id);
      }
      await recordRechecks(tx, locked.id, rechecks);
      alerted = await markLeaverAlerted(tx, locked.id, leavers);
      for (const id of alerted) becameLeavers.add(id);
      const auditId = await appendAudit(tx, BOT_ACTOR, 'request.rechecked', locked.id, null, {
        trigger: check.trigger,
        accounts: rechecks.length,
        changed,
        snapshot: snapshotOf(result.accounts, result.policyVersion, now),
      });
      // After the outcome, an approved account re-checked into another verdict is news for the requester, and only that
      // account: a leaver is told once, by its urgent alert (below, or already sent by the transfer check that saw it first).
      const approvedChanged = rechecks
        .filter(
          (recheck) =>
            recheck.changeIsNew &&
            !becameLeavers.has(recheck.accountId) &&
            locked.accounts.find((account) => account.id === recheck.accountId)?.decision === 'approved',
        )
        .map((recheck) => recheck.accountId);
      if (approvedChanged.length > 0) await tellRequesterOfChange(tx, locked, auditId, approvedChanged);
      if (alerted.length > 0) {
        await appendAudit(tx, BOT_ACTOR, 'request.leaver_alerted', locked.id, null, { accountIds: alerted });
        await enqueue(tx, owed.leaverAlert(locked.id, locked.requester.id, alerted));
      }
      // The card shows when the accounts were last checked, whatever was found: the envelope owes its update.
    });
    this.logger.info('recheck.done', {
      requestId: request.id,
      trigger: check.trigger,
      accounts: subjects.length,
      changed: newlyChanged,
      leavers: alerted.length,
    });
    // Decided from the locked request, not read again: a third read of every account per request checked, for one condition.
    return stillRechecked ? DAY_SECONDS : null;
  }

  private isWorkingDay(at: Date): boolean {
    const day = new Date(`${londonDate(at)}T12:00:00Z`).getUTCDay();
    return day !== 0 && day !== 6 && !this.policy.holidays.has(londonDate(at));
  }

  // --- transfer confirmation -------------------------------------------------------------

  /** Reads the request's approved accounts in the directory; seconds until the next look (null: nothing left to confirm). */
  private async checkTransfers(check: ClaimedCheck): Promise<number | null> {
    const request = await this.reads.get(check.requestId);
    if (!request || request.status !== 'decided') return null;
    const waiting = awaitingConfirmation(request.accounts);
    const found =
      waiting.length > 0 ? await this.directory.lookupAccounts(waiting.map((account) => account.email)) : new Map<string, DirectoryAccount | null>();
    const moved = waiting.filter((account) => this.isNasAdministered(found.get(account.email.toLowerCase())?.organisationOds));
    const now = this.now();
    let remaining = 0;
    await this.envelope.changeIfPresent(request.id, async (tx, locked) => {
      if (locked.status !== 'decided') return;
      const confirmed = await confirmTransfers(
        tx,
        locked.id,
        moved.map((account) => account.id),
        BOT_ACTOR,
      );
      const accounts = new Map(locked.accounts.map((account) => [account.id, account]));
      await appendAccountAuditsEach(
        tx,
        BOT_ACTOR,
        'account.transfer_confirmed',
        locked.id,
        confirmed.map((id) => {
          const before = accounts.get(id);
          return {
            accountId: id,
            detail: {
              state: before?.transferredAt ? 'marked' : 'approved',
              organisationOds: found.get(before?.email.toLowerCase() ?? '')?.organisationOds ?? null,
              seenAt: now.toISOString(),
            },
          };
        }),
      );
      const notMoved = waiting.filter((account) => !confirmed.includes(account.id)).map((account) => account.id);
      await recordTransferChecked(tx, locked.id, notMoved);
      // A leaver is deleted: one the directory shows among accounts not yet moved is urgent, whichever check sees it first.
      const leavers = waiting.filter(
        (account) => notMoved.includes(account.id) && !account.leaverAlertedAt && found.get(account.email.toLowerCase())?.markedAsLeaver === true,
      );
      const alerted = await markLeaverAlerted(
        tx,
        locked.id,
        leavers.map((account) => account.id),
      );
      if (alerted.length > 0) {
        await appendAudit(tx, BOT_ACTOR, 'request.leaver_alerted', locked.id, null, { accountIds: alerted, seenBy: 'transfer check' });
        await enqueue(tx, owed.leaverAlert(locked.id, locked.requester.id, alerted));
        // The re-check records the whole finding (the card's reasons), now rather than at the next daily round.
        await oweCheck(tx, locked.id, 'recheck', 'leaver');
      }
      remaining = notMoved.length;
      const completed = await completeIfReady(tx, locked, BOT_ACTOR);
      if (!completed && notMoved.length > 0) await this.chaseUnmoved(tx, locked, notMoved.length, now);
    });
    this.logger.info('transfer_check.done', { requestId: request.id, trigger: check.trigger, waiting: waiting.length, confirmed: waiting.length - remaining });
    return remaining > 0 ? this.policy.transferCheckMinutes * 60 : null;
  }

  /** Approved accounts not moved a period of working days after the decision (or the last flag) are flagged in the channel. */
  private async chaseUnmoved(tx: Parameters<Parameters<SqlDatabase['transaction']>[0]>[0], request: StoredRequest, unmoved: number, now: Date): Promise<void> {
    const chase = await transferChaseState(tx, request.id);
    const since = chase.chasedAt ?? request.decidedAt ?? request.createdAt;
    if (workingDaysElapsed(since, now, this.policy.holidays) < this.policy.transferChaseWorkingDays) return;
    if (!(await claimTransferChase(tx, request.id, chase.count, now))) return;
    const workingDays = workingDaysElapsed(request.decidedAt ?? request.createdAt, now, this.policy.holidays);
    await enqueue(tx, owed.transferChase(request.id, chase.count + 1, workingDays, unmoved));
  }

  private isNasAdministered(organisationOds: string | undefined): boolean {
    return organisationOds !== undefined && this.policy.nasOrganisations.has(organisationOds.toUpperCase());
  }
}

function becameLeaver(account: StoredAccount, reasonsNow: readonly Reason[]): boolean {
  return reasonsNow.some((reason) => reason.rule === 'MARKED_AS_LEAVER') && !account.reasons.some((reason) => reason.rule === 'MARKED_AS_LEAVER');
}

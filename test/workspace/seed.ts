import { randomUUID } from 'node:crypto';
import type { Verdict } from '../../services/eligibility/types';
import type { Actor } from '../../services/model';
import { silentLogger } from '../../core/log';
import { TransferRequests } from '../../services/requests/transfer-requests';
import type { SqlDatabase } from '../../services/store/database';
import { RequestRepository } from '../../services/store/requests';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * A store holding requests in every state, made through the use cases the bot uses (submit,
 * claim, decide, transfer, withdraw, ask and answer), then dated back so ages and weeks differ.
 * The people are the demo directory's, so the sandbox Graph knows who is in NAS Operations.
 */
export const TOM: Actor = { id: '6e6d7300-0000-4000-8000-000000000131', name: 'Tom Ashdown' };
export const LENA: Actor = { id: '6e6d7300-0000-4000-8000-000000000132', name: 'Lena Marsh' };
export const PRIYA: Actor = { id: '6e6d7300-0000-4000-8000-000000000128', name: 'Priya Okafor' };

/** The account that was in two requests (one withdrawn): the address search finds both. */
export const SHARED_ADDRESS = 'jane.doe@nhsmail.example';
/** An organisation name a spreadsheet would run as a formula: the export must keep it text. */
export const FORMULA_ORGANISATION = '=HYPERLINK("http://evil.example","Click")';

export type SeedKey = 'fresh' | 'mine' | 'lenas' | 'overdue' | 'decided' | 'completed' | 'withdrawn' | 'formula';

export interface Seeded {
  requests: Record<SeedKey, { id: number; reference: string }>;
  /** Further open requests (to fill a second page). */
  extraOpen: number;
}

const DAY = 86_400_000;

interface Plan {
  organisation: { ods: string; name: string };
  accounts: Array<[string, Verdict]>;
  /** Calendar days before now it was submitted. */
  daysAgo: number;
}

const PLANS: Record<SeedKey, Plan> = {
  fresh: {
    organisation: { ods: 'ZZ9001', name: 'Northmoor Community Care Partnership' },
    accounts: [
      ['amara.mensah@nhsmail.example', 'eligible'],
      ['esme.flint@nhsmail.example', 'review'],
      ['reception.harbourlane@nhsmail.example', 'ineligible'],
    ],
    daysAgo: 0,
  },
  mine: {
    organisation: { ods: 'ZZ9002', name: 'Harbour Lane Surgery' },
    accounts: [
      ['ben.hollis@nhsmail.example', 'eligible'],
      ['chloe.danvers@nhsmail.example', 'eligible'],
    ],
    daysAgo: 1,
  },
  lenas: { organisation: { ods: 'ZZ9001', name: 'Northmoor Community Care Partnership' }, accounts: [['kezia.morrow@nhsmail.example', 'review']], daysAgo: 20 },
  overdue: {
    organisation: { ods: 'ZZ9003', name: 'Fenwick Valley Pharmacy' },
    accounts: [
      [SHARED_ADDRESS, 'eligible'],
      ['quentin.ashe@nhsmail.example', 'ineligible'],
    ],
    daysAgo: 10,
  },
  decided: {
    organisation: { ods: 'ZZ9002', name: 'Harbour Lane Surgery' },
    accounts: [
      ['rosa.kemp@nhsmail.example', 'eligible'],
      ['sam.oduya@nhsmail.example', 'review'],
    ],
    daysAgo: 30,
  },
  completed: {
    organisation: { ods: 'ZZ9004', name: 'Kestrel Optical Partners' },
    accounts: [
      ['tariq.nunez@nhsmail.example', 'eligible'],
      ['una.wilde@nhsmail.example', 'eligible'],
    ],
    daysAgo: 40,
  },
  withdrawn: { organisation: { ods: 'ZZ9003', name: 'Fenwick Valley Pharmacy' }, accounts: [[SHARED_ADDRESS, 'eligible']], daysAgo: 15 },
  formula: { organisation: { ods: 'ZZ9005', name: FORMULA_ORGANISATION }, accounts: [['vic.amos@nhsmail.example', 'eligible']], daysAgo: 0 },
};

export async function seedEveryState(db: SqlDatabase, options: { extraOpen?: number; now?: Date } = {}): Promise<Seeded> {
  const now = options.now ?? new Date();
  const requests = new TransferRequests(db, { workQueued: () => undefined }, silentLogger);
  const submit = async (plan: Plan) => {
    const details = requestDetails(PRIYA);
    const { request } = await requests.submit({
      ...details,
      organisationOds: plan.organisation.ods,
      organisationName: plan.organisation.name,
      reason: 'Sponsorship ends in March. <b>not markup</b>',
      draftId: randomUUID(),
      accounts: plan.accounts.map(([email, verdict], index) => screenedAccount(index + 1, email, verdict)),
    });
    return request;
  };
  const seeded = {} as Seeded['requests'];
  // The withdrawn one first, so that the shared account is free again when the overdue one takes it.
  for (const key of ['withdrawn', 'completed', 'decided', 'lenas', 'overdue', 'mine', 'fresh', 'formula'] as SeedKey[]) {
    const request = await submit(PLANS[key]);
    seeded[key] = { id: request.id, reference: request.reference };
    if (key === 'withdrawn') await requests.withdraw(request.id, PRIYA);
    if (key === 'mine') await requests.claim(request.id, TOM);
    if (key === 'lenas') await requests.claim(request.id, LENA);
    if (key === 'decided') {
      await requests.claim(request.id, LENA);
      await requests.approveEligible(request.id, LENA);
      await requests.rejectUndecided(request.id, LENA, 'The site has not met the DSPT standard.');
    }
    if (key === 'completed') {
      await requests.claim(request.id, TOM);
      await requests.ask(request.id, TOM, 'Are both users still at the practice?');
      await requests.answer(request.id, PRIYA, 'Yes, both of them.');
      await requests.approveEligible(request.id, TOM);
      await requests.markTransferred(request.id, TOM, 'all', 'Moved in the NAS portal.');
      // The directory has not caught up: NAS Operations vouch for both moves, which completes the request.
      for (const account of request.accounts) await requests.overrideTransfer(request.id, account.id, TOM, 'Seen in the NAS portal; the directory lags.');
    }
    const createdAt = new Date(now.getTime() - PLANS[key].daysAgo * DAY - 60_000);
    await db.query('UPDATE transfer_requests SET created_at = $2 WHERE id = $1', [request.id, createdAt]);
    if (key === 'decided' || key === 'completed')
      await db.query('UPDATE transfer_requests SET decided_at = $2, claimed_at = $2 WHERE id = $1', [request.id, new Date(createdAt.getTime() + 4 * DAY)]);
  }
  // Re-screened while in review: one account of 'mine' was marked a leaver since submission; the other unchanged.
  await db.query(
    `UPDATE request_accounts SET rechecked_at = now(), rechecked_verdict = CASE WHEN position = 1 THEN 'ineligible' ELSE verdict END, rechecked_reasons = '[]'::jsonb, rechecked_evidence = '{}'::jsonb,
            change_summary = CASE WHEN position = 1 THEN 'Marked as a leaver since submission.' END, changed_at = CASE WHEN position = 1 THEN now() END
     WHERE request_id = $1`,
    [seeded.mine.id],
  );
  // Where its card was posted in the ops channel (the deep link).
  await RequestRepository.recordOpsMessage(db, seeded.overdue.id, '19:nas-ops-transfer-requests@thread.tacv2;messageid=1732890000000', '1732890000000');
  const extraOpen = options.extraOpen ?? 0;
  for (let index = 0; index < extraOpen; index++) {
    const request = await submit({
      organisation: { ods: 'ZZ9010', name: 'Ashby Care Homes' },
      accounts: [[`staff${index}@ashby.example`, 'eligible']],
      daysAgo: 0,
    });
    await db.query('UPDATE transfer_requests SET created_at = $2 WHERE id = $1', [request.id, new Date(now.getTime() - (index + 1) * 1000)]);
  }
  return { requests: seeded, extraOpen };
}

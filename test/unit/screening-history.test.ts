import assert from 'node:assert/strict';
import type { SqlDatabase } from '../../services/store/database';
import { SqlScreeningHistory } from '../../services/store/screening-history';
import { describeOnEachDatabase } from '../support/databases';

interface AccountRow {
  email: string;
  site?: string;
  verdict?: 'eligible' | 'review' | 'ineligible';
  decision?: 'approved' | 'rejected';
}

/** Writes a request straight into the tables the history reads (001-initial.sql columns only). */
async function request(db: SqlDatabase, reference: string, accounts: AccountRow[]): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO transfer_requests (reference, organisation_ods, organisation_name, requester_id, requester_name, reason, attestations, policy_version)
     VALUES ($1, 'ZZ9001', 'Northmoor', 'priya', 'Priya Okafor', 'Sponsor ending', '{}'::jsonb, 'test') RETURNING id`,
    [reference],
  );
  for (const [index, account] of accounts.entries()) {
    await db.query(
      `INSERT INTO request_accounts (request_id, position, email, site_ods, verdict, reasons, evidence, decision, decided_by_id, decided_by_name, decided_at)
       VALUES ($1, $2, $3, $4, $5, '[]'::jsonb, '{}'::jsonb, $6::text, CASE WHEN $6::text IS NULL THEN NULL ELSE 'tom' END, CASE WHEN $6::text IS NULL THEN NULL ELSE 'Tom' END, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END)`,
      [row!.id, index + 1, account.email, account.site ?? null, account.verdict ?? 'eligible', account.decision ?? null],
    );
  }
  return row!.id;
}

describeOnEachDatabase('screening history (SQL)', (db) => {
  it('tells an account in an open request from one already approved, approved first, in any case', async () => {
    const first = await request(db(), 'NTR-100001', [
      { email: 'Open.One@x.example' },
      { email: 'approved@x.example', decision: 'approved' },
      { email: 'rejected@x.example', decision: 'rejected' },
      { email: 'screened.out@x.example', verdict: 'ineligible' },
      { email: 'both@x.example' },
    ]);
    await request(db(), 'NTR-100002', [
      { email: 'both@x.example', decision: 'approved' },
      { email: 'review@x.example', verdict: 'review' },
    ]);
    const history = new SqlScreeningHistory(db());
    const prior = await history.priorRequests([
      'open.one@x.example',
      'APPROVED@x.example',
      'rejected@x.example',
      'screened.out@x.example',
      'both@x.example',
      'review@x.example',
      'nobody@x.example',
    ]);
    assert.deepEqual(Object.fromEntries(prior), {
      'open.one@x.example': { reference: 'NTR-100001', state: 'open' },
      'approved@x.example': { reference: 'NTR-100001', state: 'approved' },
      'both@x.example': { reference: 'NTR-100002', state: 'approved' },
      'review@x.example': { reference: 'NTR-100002', state: 'open' },
    });
    const excluding = await history.priorRequests(['open.one@x.example', 'both@x.example'], first);
    assert.deepEqual(Object.fromEntries(excluding), { 'both@x.example': { reference: 'NTR-100002', state: 'approved' } });
    assert.deepEqual(await history.priorRequests([]), new Map());
  });

  it('counts a site’s accounts approved or awaiting a decision in other requests, once each', async () => {
    const first = await request(db(), 'NTR-100001', [
      { email: 'a@x.example', site: 'ZZ9108', decision: 'approved' },
      { email: 'b@x.example', site: 'zz9108' },
      { email: 'c@x.example', site: 'ZZ9108', decision: 'rejected' },
      { email: 'd@x.example', site: 'ZZ9108', verdict: 'ineligible' },
      { email: 'e@x.example', site: 'ZZ9101', verdict: 'review' },
      { email: 'f@x.example' },
    ]);
    await request(db(), 'NTR-100002', [
      { email: 'B@x.example', site: 'ZZ9108' },
      { email: 'g@x.example', site: 'ZZ9108', decision: 'approved' },
    ]);
    const history = new SqlScreeningHistory(db());
    assert.deepEqual(Object.fromEntries(await history.siteAccountsInOtherRequests(['zz9108', 'ZZ9101', 'ZZ9999'])), { ZZ9108: 3, ZZ9101: 1 });
    assert.deepEqual(Object.fromEntries(await history.siteAccountsInOtherRequests(['ZZ9108', 'ZZ9101'], first)), { ZZ9108: 2 });
    assert.deepEqual(await history.siteAccountsInOtherRequests([]), new Map());
  });
});

import assert from 'node:assert/strict';
import type { ScreenedAccount } from '../../services/eligibility/types';
import { migrate } from '../../services/store/migrate';
import { RequestStore, type NewTransferRequest } from '../../services/store/request-store';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount } from '../support/fixtures';

const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const LENA = { id: 'ops-lena', name: 'Lena Marsh' };

const screened = screenedAccount;
const newRequest = (accounts: ScreenedAccount[]): NewTransferRequest => ({ ...requestDetails({ id: 'priya', name: 'Priya Okafor' }, 'test-1'), accounts });

describeOnEachDatabase('RequestStore', (db) => {
  it('stores a request with its accounts in order and gives it an NTR reference', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'review')]));
    assert.match(request.reference, /^NTR-\d+$/);
    assert.equal(request.status, 'awaiting_decision');
    assert.deepEqual(request.accounts.map((account) => [account.position, account.email, account.verdict, account.decision]), [
      [1, 'a@x.example', 'eligible', null],
      [2, 'b@x.example', 'review', null],
    ]);
    assert.equal(request.accounts[1]?.reasons[0]?.rule, 'SITE_NOT_DSPT_COMPLIANT');
    const second = await store.createRequest(newRequest([screened(1, 'c@x.example', 'eligible')]));
    assert.equal(Number(second.reference.slice(4)), Number(request.reference.slice(4)) + 1);
    assert.deepEqual((await store.getRequestByReference(request.reference.toLowerCase()))?.id, request.id);
    const audit = await store.auditEvents(request.id);
    assert.deepEqual(audit.map((event) => [event.action, event.actorName]), [['request.submitted', 'Priya Okafor']]);
  });

  it('approves eligible accounts, then settles the request exactly once when the last account is decided', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'review')]));
    const approval = await store.approveEligible(request.id, TOM);
    assert.equal(approval.decidedAccountIds.length, 1);
    assert.equal(approval.requestNowDecided, false);
    const reviewAccount = request.accounts[1]!;
    const rejection = await store.decideAccount(request.id, reviewAccount.id, 'rejected', LENA, 'DSPT must be met first.');
    assert.equal(rejection.requestNowDecided, true);
    const stored = (await store.getRequest(request.id))!;
    assert.equal(stored.status, 'decided');
    assert.deepEqual(stored.accounts.map((account) => [account.decision, account.decidedBy?.name, account.decisionReason]), [
      ['approved', 'Tom Ashdown', null],
      ['rejected', 'Lena Marsh', 'DSPT must be met first.'],
    ]);
    const audit = await store.auditEvents(request.id);
    assert.deepEqual(audit.map((event) => [event.action, event.actorName]), [
      ['request.submitted', 'Priya Okafor'],
      ['request.approved_eligible', 'Tom Ashdown'],
      ['account.rejected', 'Lena Marsh'],
    ]);
  });

  it('allows one decision per account: a second, even concurrent, learns who decided first', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'review')]));
    const accountId = request.accounts[0]!.id;
    const attempts = await Promise.allSettled([
      store.decideAccount(request.id, accountId, 'approved', TOM, null),
      store.decideAccount(request.id, accountId, 'rejected', LENA, 'No.'),
    ]);
    const succeeded = attempts.filter((attempt) => attempt.status === 'fulfilled');
    const refused = attempts.filter((attempt): attempt is PromiseRejectedResult => attempt.status === 'rejected');
    assert.equal(succeeded.length, 1);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.reason.code, 'ALREADY_DECIDED');
    const winner = (await store.getRequest(request.id))!.accounts[0]!;
    assert.match(refused[0]!.reason.userMessage, new RegExp(`${winner.decision} by ${winner.decidedBy!.name}`));
    await assert.rejects(store.approveEligible(request.id, TOM), { code: 'INVALID_INPUT' });
    await assert.rejects(store.rejectRemaining(request.id, TOM, 'late'), { code: 'ALREADY_DECIDED' });
  });

  it('refuses a decision on an account of another request', async () => {
    const store = new RequestStore(db());
    const first = await store.createRequest(newRequest([screened(1, 'a@x.example', 'review')]));
    const second = await store.createRequest(newRequest([screened(1, 'b@x.example', 'review')]));
    await assert.rejects(store.decideAccount(second.id, first.accounts[0]!.id, 'approved', TOM, null), { code: 'ACCOUNT_NOT_IN_REQUEST' });
    await assert.rejects(store.approveEligible(9999, TOM), { code: 'REQUEST_NOT_FOUND' });
  });

  it('finds accounts held by open requests, but not rejected ones', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'held@x.example', 'eligible'), screened(2, 'Freed@x.example', 'review')]));
    await store.decideAccount(request.id, request.accounts[1]!.id, 'rejected', TOM, 'No.');
    const holding = await store.openRequestsHolding(['HELD@x.example', 'freed@x.example', 'other@x.example']);
    assert.deepEqual([...holding], [['held@x.example', request.reference]]);
  });

  it('lists a requester’s requests with decision counts, newest first', async () => {
    const store = new RequestStore(db());
    const older = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'eligible')]));
    const newer = await store.createRequest(newRequest([screened(1, 'c@x.example', 'eligible')]));
    await store.approveEligible(older.id, TOM);
    const summaries = await store.listRequestsBy('priya');
    assert.deepEqual(summaries.map((summary) => [summary.reference, summary.accountCount, summary.approvedCount, summary.status]), [
      [newer.reference, 1, 0, 'awaiting_decision'],
      [older.reference, 2, 2, 'decided'],
    ]);
    assert.deepEqual((await store.listAwaitingDecision()).map((summary) => summary.reference), [newer.reference]);
    assert.deepEqual(await store.listRequestsBy('someone-else'), []);
  });

  it('applies migrations once, however often it starts', async () => {
    assert.deepEqual(await migrate(db()), []);
    const applied = await db().query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    assert.deepEqual(applied.map((row) => row.name), ['001-initial.sql']);
  });
});

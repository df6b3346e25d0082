import assert from 'node:assert/strict';
import type { AppError } from '../../core/errors';
import { userWords } from '../../bot/refusal-words';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { ScreenedAccount } from '../../services/eligibility/types';
import type { NewTransferRequest } from '../../services/model';
import { AuditLog } from '../../services/store/audit';
import type { SqlDatabase } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const LENA = { id: 'ops-lena', name: 'Lena Marsh' };

const screened = screenedAccount;
const newRequest = (accounts: ScreenedAccount[], draftId: string = randomUUID()): NewTransferRequest => ({
  ...requestDetails({ id: 'priya', name: 'Priya Okafor' }, 'test-1'),
  draftId,
  accounts,
});

/** The request use cases and the audit over one database, as the app wires them. */
class RequestStore {
  readonly requests: TransferRequests;
  readonly audit: AuditLog;
  constructor(readonly db: SqlDatabase) {
    this.requests = transferRequests(db);
    this.audit = new AuditLog(db);
  }
  async createRequest(request: NewTransferRequest) {
    return (await this.requests.submit(request)).request;
  }
  getRequest = (id: number) => this.requests.get(id);
  getRequestByReference = (reference: string) => this.requests.getByReference(reference);
  listRequestsBy = (id: string) => this.requests.listBy(id);
  listAwaitingDecision = async () => (await this.requests.pending()).awaitingDecision;
  approveEligible: TransferRequests['approveEligible'] = (...args) => this.requests.approveEligible(...args);
  rejectRemaining: TransferRequests['rejectUndecided'] = (...args) => this.requests.rejectUndecided(...args);
  decideAccount: TransferRequests['decideAccount'] = (...args) => this.requests.decideAccount(...args);
  auditEvents = (id: number) => this.audit.forRequest(id);
  owed = async () =>
    (await this.db.query<{ dedupe_key: string; status: string; version: number }>('SELECT dedupe_key, status, version FROM outbox ORDER BY id')).map((row) => [
      row.dedupe_key,
      row.status,
      row.version,
    ]);
}

const MIGRATIONS = readdirSync(path.join(__dirname, '..', '..', 'services', 'store', 'migrations'))
  .filter((file) => file.endsWith('.sql'))
  .sort();

describeOnEachDatabase('request store (requests, decisions, audit)', (db) => {
  it('stores a request with its accounts in order and gives it an NTR reference', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'review')]));
    assert.match(request.reference, /^NTR-\d+$/);
    assert.equal(request.status, 'submitted');
    assert.deepEqual(
      request.accounts.map((account) => [account.position, account.email, account.verdict, account.decision]),
      [
        [1, 'a@x.example', 'eligible', null],
        [2, 'b@x.example', 'review', null],
      ],
    );
    assert.equal(request.accounts[1]?.reasons[0]?.rule, 'SITE_NOT_DSPT_COMPLIANT');
    const second = await store.createRequest(newRequest([screened(1, 'c@x.example', 'eligible')]));
    assert.equal(Number(second.reference.slice(4)), Number(request.reference.slice(4)) + 1);
    assert.deepEqual((await store.getRequestByReference(request.reference.toLowerCase()))?.id, request.id);
    const audit = await store.auditEvents(request.id);
    assert.deepEqual(
      audit.map((event) => [event.action, event.actorName]),
      [['request.submitted', 'Priya Okafor']],
    );
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
    assert.deepEqual(
      stored.accounts.map((account) => [account.decision, account.decidedBy?.name, account.decisionReason]),
      [
        ['approved', 'Tom Ashdown', null],
        ['rejected', 'Lena Marsh', 'DSPT must be met first.'],
      ],
    );
    const audit = await store.auditEvents(request.id);
    assert.deepEqual(
      audit.map((event) => [event.action, event.actorName]),
      [
        ['request.submitted', 'Priya Okafor'],
        ['request.approved_eligible', 'Tom Ashdown'],
        ['account.rejected', 'Lena Marsh'],
      ],
    );
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
    assert.match(userWords(refused[0]!.reason as AppError), new RegExp(`${winner.decision} by ${winner.decidedBy!.name}`));
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

  it('makes one request of a draft, however often and however concurrently it is submitted, and owes one ops card', async () => {
    const store = new RequestStore(db());
    const draft = newRequest([screened(1, 'a@x.example', 'eligible')], randomUUID());
    const attempts = await Promise.all([store.requests.submit(draft), store.requests.submit(draft), store.requests.submit(draft)]);
    assert.deepEqual(new Set(attempts.map((attempt) => attempt.request.reference)).size, 1);
    assert.equal(attempts.filter((attempt) => attempt.created).length, 1, 'exactly one submission created it');
    const [count] = await db().query<{ count: number }>('SELECT count(*)::int AS count FROM transfer_requests');
    assert.equal(count?.count, 1);
    assert.deepEqual(await store.owed(), [[`ops.post:${attempts[0].request.id}`, 'pending', 1]]);
    assert.equal((await store.auditEvents(attempts[0].request.id)).length, 1, 'one submission in the audit');
  });

  it('screens out at Submit an account another request took after this list was checked', async () => {
    const store = new RequestStore(db());
    const first = newRequest([screened(1, 'shared@x.example', 'eligible'), screened(2, 'mine@x.example', 'eligible')]);
    const second = newRequest([screened(1, 'Shared@x.example', 'eligible')]);
    // Both lists were screened while neither was submitted; they are submitted at the same moment.
    const [a, b] = await Promise.all([store.requests.submit(first), store.requests.submit(second)]);
    const holders = [a.request, b.request].filter((request) =>
      request.accounts.some((account) => account.email.toLowerCase() === 'shared@x.example' && account.verdict !== 'ineligible'),
    );
    assert.equal(holders.length, 1, 'the mailbox is in one open request only');
    const loser = [a.request, b.request].find((request) => !holders.includes(request))!;
    const lost = loser.accounts.find((account) => account.email.toLowerCase() === 'shared@x.example')!;
    assert.equal(lost.verdict, 'ineligible');
    assert.equal(lost.reasons[0]?.rule, 'ALREADY_REQUESTED');
    assert.match(lost.reasons[0].message, new RegExp(holders[0]!.reference));
  });

  it('owes the ops card update with every decision (one row, re-armed) and the outcome once, when the request settles', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'review')]));
    await store.approveEligible(request.id, TOM);
    assert.deepEqual((await store.owed()).slice(1), [[`ops.update:${request.id}`, 'pending', 1]]);
    await store.decideAccount(request.id, request.accounts[1]!.id, 'approved', LENA, null);
    assert.deepEqual((await store.owed()).slice(1), [
      [`ops.update:${request.id}`, 'pending', 2],
      [`outcome:${request.id}`, 'pending', 1],
    ]);
    const stored = (await store.getRequest(request.id))!;
    assert.equal(stored.outcomeNotification, 'pending');
  });

  it('writes nothing when a decision is refused: no audit event, no owed message', async () => {
    const store = new RequestStore(db());
    const request = await store.createRequest(newRequest([screened(1, 'a@x.example', 'review')]));
    await store.decideAccount(request.id, request.accounts[0]!.id, 'approved', TOM, null);
    const before = await store.owed();
    await assert.rejects(store.decideAccount(request.id, request.accounts[0]!.id, 'rejected', LENA, 'late'), { code: 'ALREADY_DECIDED' });
    assert.deepEqual(await store.owed(), before);
    assert.equal((await store.auditEvents(request.id)).length, 2);
  });

  it('lists a requester’s requests with decision counts, newest first', async () => {
    const store = new RequestStore(db());
    const older = await store.createRequest(newRequest([screened(1, 'a@x.example', 'eligible'), screened(2, 'b@x.example', 'eligible')]));
    const newer = await store.createRequest(newRequest([screened(1, 'c@x.example', 'eligible')]));
    await store.approveEligible(older.id, TOM);
    const summaries = await store.listRequestsBy('priya');
    assert.deepEqual(
      summaries.map((summary) => [summary.reference, summary.accountCount, summary.approvedCount, summary.status]),
      [
        [newer.reference, 1, 0, 'submitted'],
        [older.reference, 2, 2, 'decided'],
      ],
    );
    assert.deepEqual(
      (await store.listAwaitingDecision()).map((summary) => summary.reference),
      [newer.reference],
    );
    assert.deepEqual(await store.listRequestsBy('someone-else'), []);
  });

  it('applies migrations once, however often it starts', async () => {
    assert.deepEqual(await migrate(db()), []);
    const applied = await db().query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    assert.deepEqual(
      applied.map((row) => row.name),
      MIGRATIONS,
    );
  });

  it('keeps a NUL-free copy of what it is given: text columns refuse NUL, so the edge removes it first', async () => {
    // The input guard strips control characters; this pins down why it must (PostgreSQL 22P05/22021).
    await assert.rejects(db().query('SELECT $1::jsonb', [JSON.stringify({ reason: 'a\u0000b' })]));
  });
});

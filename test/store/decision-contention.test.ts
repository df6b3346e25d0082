import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ScreenedAccount } from '../../services/eligibility/types';
import type { NewTransferRequest } from '../../services/model';
import { AuditLog } from '../../services/store/audit';
import type { SqlDatabase } from '../../services/store/database';
import { lockAddresses } from '../../services/store/requests';
import { describeOnEachDatabase, postgresDatabase, requirePostgres } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const PRIYA = { id: 'priya', name: 'Priya Okafor' };

const newRequest = (accounts: ScreenedAccount[]): NewTransferRequest => ({ ...requestDetails(PRIYA), draftId: randomUUID(), accounts });
const list = (...emails: string[]) => emails.map((email, index) => screenedAccount(index + 1, email, 'eligible'));

/** Which open requests hold each address (eligible or for review there, and not yet decided against). */
async function holders(db: SqlDatabase): Promise<Map<string, string[]>> {
  const rows = await db.query<{ email: string; reference: string }>(
    `SELECT lower(a.email) AS email, r.reference FROM request_accounts a JOIN transfer_requests r ON r.id = a.request_id
     WHERE a.verdict <> 'ineligible' ORDER BY r.reference`,
  );
  const byEmail = new Map<string, string[]>();
  for (const row of rows) byEmail.set(row.email, [...(byEmail.get(row.email) ?? []), row.reference]);
  return byEmail;
}

describeOnEachDatabase('decisions and submissions under contention', (db) => {
  it('audits a bulk decision and a bulk transfer once per account, naming each account, in the order decided', async () => {
    const requests = transferRequests(db());
    const { request } = await requests.submit(newRequest(list('a@x.example', 'b@x.example', 'c@x.example')));
    const approval = await requests.approveEligible(request.id, TOM);
    assert.equal(approval.decidedAccountIds.length, 3);
    assert.equal(approval.requestNowDecided, true);
    await requests.markTransferred(request.id, TOM, 'all', 'moved on Tuesday');
    const events = await new AuditLog(db()).forRequest(request.id);
    const of = (action: string) => events.filter((event) => event.action === action);
    assert.deepEqual(
      of('request.approved_eligible').map((event) => [event.accountId, event.actorName, event.detail]),
      approval.decidedAccountIds.map((id) => [id, 'Tom Ashdown', {}]),
    );
    assert.deepEqual(
      of('account.transferred')
        .map((event) => [event.accountId, event.detail])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
      request.accounts.map((account) => [account.id, { note: 'moved on Tuesday' }]),
    );
  });

  it('puts each address in one open request however many lists naming it in any order are submitted at once', async () => {
    const requests = transferRequests(db());
    const addresses = ['one@x.example', 'two@x.example', 'three@x.example', 'four@x.example', 'five@x.example'];
    // Every list names the same five in a different order: locks taken in list order would deadlock.
    const lists = Array.from({ length: 8 }, (_, index) => [...addresses.slice(index % 5), ...addresses.slice(0, index % 5)].reverse());
    const submitted = await Promise.all(lists.map((emails) => requests.submit(newRequest(list(...emails)))));
    assert.equal(submitted.length, 8);
    const held = await holders(db());
    assert.deepEqual([...held.keys()].sort(), [...addresses].sort());
    for (const [email, references] of held) assert.equal(references.length, 1, `${email} is in ${references.join(', ')}`);
  });
});

describe('submission locks [postgres]', function () {
  const factory = postgresDatabase();
  let db: SqlDatabase | undefined;
  before(requirePostgres);
  beforeEach(async () => {
    db = await factory.open();
  });
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });
  after(() => factory.cleanUp());

  it('lets a submission go ahead while another holds only other addresses, and makes one sharing an address wait for it', async () => {
    const requests = transferRequests(db!);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // Another submission's transaction, holding shared@x.example until released.
    const holder = db!.transaction(async (tx) => {
      await lockAddresses(tx, ['Shared@x.example']);
      locked();
      await released;
    });
    await lockTaken;

    const unrelated = await requests.submit(newRequest(list('other@x.example')));
    assert.equal(unrelated.request.accounts[0]?.verdict, 'eligible', 'a list without the held address is submitted while it is held');

    let sharedDone = false;
    const sharing = requests.submit(newRequest(list('shared@x.example'))).then((result) => {
      sharedDone = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(sharedDone, false, 'a list naming the held address waits for the holder');
    const [waiting] = await db!.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    assert.ok((waiting?.count ?? 0) >= 1, 'it waits on the address lock');
    release();
    await holder;
    const shared = await sharing;
    assert.equal(shared.created, true);
    assert.equal(shared.request.accounts[0]?.verdict, 'eligible');
  });
});

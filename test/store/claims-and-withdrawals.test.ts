import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { evidenceLine } from '../../cards/account-rows';
import { AppError } from '../../core/errors';
import { userWords } from '../../bot/refusal-words';
import { AuditLog } from '../../services/store/audit';
import { migrate } from '../../services/store/migrate';
import type { TransferRequests } from '../../services/requests/transfer-requests';
import { SqlScreeningHistory } from '../../services/store/screening-history';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const PRIYA = { id: 'priya', name: 'Priya Okafor' };
const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const LENA = { id: 'ops-lena', name: 'Lena Marsh' };

const submit = async (requests: TransferRequests, emails: string[]) =>
  (
    await requests.submit({
      ...requestDetails(PRIYA, 'test-1'),
      draftId: randomUUID(),
      accounts: emails.map((email, index) => screenedAccount(index + 1, email, 'eligible')),
    })
  ).request;

const codeOf = async (work: Promise<unknown>): Promise<string | undefined> =>
  work.then(
    () => undefined,
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  );

describeOnEachDatabase('claims and withdrawals (compare-and-set)', (db) => {
  it('gives a request to the first of two people pressing Assign to me at once; the second is told who has it', async () => {
    await migrate(db());
    const requests = transferRequests(db());
    const lifecycle = requests;
    const request = await submit(requests, ['a@x.example']);
    const results = await Promise.all([codeOf(lifecycle.claim(request.id, TOM)), codeOf(lifecycle.claim(request.id, LENA))]);
    assert.deepEqual(results.filter((code) => code === undefined).length, 1, 'exactly one claim succeeds');
    assert.deepEqual(results.filter((code) => code === 'ALREADY_CLAIMED').length, 1, 'the other is told it is taken');
    const stored = (await requests.get(request.id))!;
    const winner = results[0] === undefined ? TOM : LENA;
    assert.equal(stored.claimedBy?.name, winner.name);
    const loser = winner === TOM ? LENA : TOM;
    const refused = await lifecycle.claim(request.id, loser).catch((error: AppError) => error);
    assert.match(userWords(refused as AppError), new RegExp(`${winner.name} has been reviewing it since`));
    const claims = (await new AuditLog(db()).forRequest(request.id)).filter((event) => event.action === 'request.claimed');
    assert.equal(claims.length, 1, 'one claim audited');
  });

  it('takes over only from the reviewer the card showed, and audits the take-over with both names', async () => {
    await migrate(db());
    const requests = transferRequests(db());
    const lifecycle = requests;
    const request = await submit(requests, ['a@x.example']);
    await lifecycle.claim(request.id, TOM);
    assert.equal(await codeOf(lifecycle.takeOver(request.id, LENA, 'someone-else')), 'ALREADY_CLAIMED');
    await lifecycle.takeOver(request.id, LENA, TOM.id);
    assert.equal((await requests.get(request.id))!.claimedBy?.name, LENA.name);
    const takeOver = (await new AuditLog(db()).forRequest(request.id)).find((event) => event.action === 'request.taken_over');
    assert.deepEqual(takeOver?.detail, { before: { status: 'in_review', reviewer: TOM.name }, after: { status: 'in_review', reviewer: LENA.name } });
  });

  it('frees the accounts of a withdrawn request: screening them again finds no open request', async () => {
    await migrate(db());
    const requests = transferRequests(db());
    const lifecycle = requests;
    const emails = ['a@x.example', 'b@x.example'];
    const first = await submit(requests, emails);
    const history = new SqlScreeningHistory(db());
    assert.equal((await history.priorRequests(emails)).size, 2, 'held while open');
    assert.equal((await history.siteAccountsInOtherRequests(['ZZ9103'])).get('ZZ9103'), 2);
    await lifecycle.withdraw(first.id, PRIYA);
    assert.equal((await history.priorRequests(emails)).size, 0, 'a withdrawn request holds nothing');
    assert.equal((await history.siteAccountsInOtherRequests(['ZZ9103'])).get('ZZ9103'), undefined, 'nor counts towards the site allowance');
    // And the re-check at submission, under the lock, agrees: the new request keeps its eligible accounts.
    const second = await submit(requests, emails);
    assert.deepEqual(
      second.accounts.map((account) => account.verdict),
      ['eligible', 'eligible'],
    );
  });

  it('carries an account’s earlier request and how it ended into the new one, for the card’s history', async () => {
    await migrate(db());
    const requests = transferRequests(db());
    const first = await submit(requests, ['again@x.example']);
    await requests.decideAccount(first.id, first.accounts[0]!.id, 'rejected', TOM, 'DSPT lapsed at the site');
    const second = await submit(requests, ['Again@x.example', 'fresh@x.example']);
    assert.deepEqual(second.accounts[0]!.evidence.earlierRequest, { reference: first.reference, outcome: 'rejected: DSPT lapsed at the site' });
    assert.equal(second.accounts[1]!.evidence.earlierRequest, undefined);
    assert.match(evidenceLine(second.accounts[0]!.evidence, 'ops'), new RegExp(`Earlier in ${first.reference}: rejected: DSPT lapsed at the site`));
    assert.doesNotMatch(evidenceLine(second.accounts[0]!.evidence, 'requester'), /Earlier in/);
  });
});

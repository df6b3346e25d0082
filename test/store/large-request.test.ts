import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requestJson } from '../../bot/workspace/workspace-api';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { utf16Bytes, CARD_BUDGET_BYTES } from '../../cards/render';
import type { NewTransferRequest, StoredRequest } from '../../services/model';
import { appendAudit, AuditLog } from '../../services/store/audit';
import { QueueRepository } from '../../services/store/queue';
import { loadBankHolidays } from '../../services/working-days';
import { WorkspaceAudit } from '../../services/workspace-audit';
import { WorkspaceQueue } from '../../services/workspace-queue';
import { approveEligibleAccounts, decideOneAccount, rejectUndecidedAccounts } from '../../services/store/request-changes';
import { countingDatabase } from '../support/counting-database';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

/**
 * A request of 500 accounts (the form's limit) is decided as a 20-account one is (issue 23,
 * large requests): approve-all is one UPDATE for the request, its audit one INSERT of a row per
 * account decided, with the same statements whatever the request's size; and every decision
 * statement repeats the request's own precondition (open), so none changes a closed request.
 */
const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const PRIYA = { id: 'priya', name: 'Priya Okafor' };
/** Every fifth account is for review (decided one by one); the rest are eligible. */
const verdictAt = (index: number) => (index % 5 === 4 ? 'review' : 'eligible');

const newRequest = (size: number, tag: string): NewTransferRequest => ({
  ...requestDetails(PRIYA),
  draftId: randomUUID(),
  accounts: Array.from({ length: size }, (_, index) => screenedAccount(index + 1, `${tag}.${index + 1}@nhsmail.example`, verdictAt(index))),
});

describeOnEachDatabase('a 500-account request decided in bulk', (db) => {
  it('approve-all approves every eligible account in one statement and audits each, with actor and time, in one more', async () => {
    const requests = transferRequests(db());
    const { request } = await requests.submit(newRequest(500, 'bulk'));
    await requests.claim(request.id, TOM);
    const approval = await requests.approveEligible(request.id, TOM);
    const eligible = request.accounts.filter((account) => account.verdict === 'eligible').map((account) => account.id);
    assert.equal(eligible.length, 400);
    assert.deepEqual(
      [...approval.decidedAccountIds].sort((a, b) => a - b),
      eligible,
    );
    assert.equal(approval.requestNowDecided, false, 'the 100 for review are still to decide');

    const rows = await db().query<{
      id: number;
      verdict: string;
      decision: string | null;
      decided_by_id: string | null;
      decided_by_name: string | null;
      decided_at: Date | null;
    }>('SELECT id, verdict, decision, decided_by_id, decided_by_name, decided_at FROM request_accounts WHERE request_id = $1 ORDER BY position', [request.id]);
    assert.equal(rows.length, 500);
    for (const row of rows) {
      if (row.verdict === 'eligible')
        assert.deepEqual([row.decision, row.decided_by_id, row.decided_by_name, row.decided_at instanceof Date], ['approved', TOM.id, TOM.name, true]);
      else assert.deepEqual([row.decision, row.decided_by_id, row.decided_at], [null, null, null], `account ${row.id} is for review`);
    }

    const events = (await new AuditLog(db()).forRequest(request.id)).filter((event) => event.action === 'request.approved_eligible');
    assert.deepEqual(
      events.map((event) => [event.accountId, event.actorId, event.actorName, event.detail]),
      approval.decidedAccountIds.map((id) => [id, TOM.id, TOM.name, {}]),
      'one audit row per account approved, in the order approved',
    );
    assert.ok(events.every((event) => event.occurredAt instanceof Date && event.occurredAt.getTime() === events[0]!.occurredAt.getTime()));

    // Pressed again (a double click, a stale card): refused, and nothing more is written.
    await assert.rejects(requests.approveEligible(request.id, TOM), { code: 'ALREADY_DECIDED' });
    assert.equal((await new AuditLog(db()).forRequest(request.id)).filter((event) => event.action === 'request.approved_eligible').length, 400);
  });

  it('makes the same statements for approve-all on 500 accounts as on 20: nothing per account', async () => {
    const statementsFor = async (size: number) => {
      const setUp = transferRequests(db());
      const { request } = await setUp.submit(newRequest(size, `same${size}`));
      await setUp.claim(request.id, TOM);
      const counting = countingDatabase(db());
      const outcome = await transferRequests(counting.db).approveEligible(request.id, TOM);
      assert.equal(outcome.decidedAccountIds.length, (size * 4) / 5);
      return counting.statements;
    };
    const small = await statementsFor(20);
    const large = await statementsFor(500);
    assert.deepEqual(large, small);
    assert.equal(large.filter((sql) => /^UPDATE request_accounts/.test(sql)).length, 1, large.join('\n'));
    assert.equal(large.filter((sql) => /^INSERT INTO audit_events/.test(sql)).length, 1, large.join('\n'));
    // Under the lock the accounts are read as the lifecycle asks them: not every account's reasons and evidence.
    const accountReads = large.filter((sql) => /^SELECT .* FROM request_accounts a WHERE a\.request_id = \$1/.test(sql));
    assert.equal(accountReads.length, 1, large.join('\n'));
    assert.doesNotMatch(accountReads[0]!, /a\.\*|reasons|evidence/);
  });

  it('approve-all that decides the request owes the outcome and the card’s update in one statement, and both checks in one', async () => {
    const requests = transferRequests(db());
    const all = newRequest(500, 'settles');
    const { request } = await requests.submit({ ...all, accounts: all.accounts.map((account) => ({ ...account, verdict: 'eligible', reasons: [] })) });
    await requests.claim(request.id, TOM);
    await db().query('UPDATE outbox SET status = $1', ['delivered']);
    const counting = countingDatabase(db());
    const outcome = await transferRequests(counting.db).approveEligible(request.id, TOM);
    assert.deepEqual([outcome.decidedAccountIds.length, outcome.requestNowDecided], [500, true]);
    assert.deepEqual(
      counting.statements.map((sql) => /^(?:INSERT INTO|UPDATE|SELECT .* FROM) (\w+)/.exec(sql)?.[1] ?? sql),
      ['BEGIN', 'transfer_requests', 'request_accounts', 'request_accounts', 'audit_events', 'transfer_requests', 'request_checks', 'outbox', 'COMMIT'],
      counting.statements.join('\n'),
    );
    const outbox = await db().query<{ kind: string; status: string; recipient: string | null }>(
      'SELECT kind, status, recipient FROM outbox WHERE request_id = $1 ORDER BY id',
      [request.id],
    );
    assert.deepEqual(
      outbox.map((row) => [row.kind, row.status, row.recipient]),
      [
        ['ops.post', 'delivered', null],
        ['ops.update', 'pending', null],
        ['outcome', 'pending', PRIYA.id],
      ],
    );
    const checks = await db().query<{ kind: string; trigger: string }>('SELECT kind, trigger FROM request_checks WHERE request_id = $1 ORDER BY kind', [
      request.id,
    ]);
    assert.deepEqual(
      checks.map((row) => [row.kind, row.trigger]),
      [
        ['recheck', 'approval'],
        ['transfer', 'decided'],
      ],
    );
    const [stored] = await db().query<{ status: string }>('SELECT status FROM transfer_requests WHERE id = $1', [request.id]);
    assert.equal(stored?.status, 'decided');
  });

  it('shows a 500-account request after approve-all: the ops card’s first page and counts, the workspace view’s every account and audit event in words', async () => {
    const requests = transferRequests(db());
    const { request } = await requests.submit(newRequest(500, 'shown'));
    await requests.claim(request.id, TOM);
    await requests.approveEligible(request.id, TOM);
    // A leaver alert naming twelve accounts: the view says which, by their lines in the request.
    const named = request.accounts.slice(0, 12).map((account) => account.id);
    await appendAudit(db(), { id: 'bot', name: 'NAS Transfer bot' }, 'request.leaver_alerted', request.id, null, { accountIds: named });
    const stored = (await requests.get(request.id)) as StoredRequest;

    const card = JSON.stringify(renderOpsRequestCard(stored).content);
    assert.ok(utf16Bytes(renderOpsRequestCard(stored)) <= CARD_BUDGET_BYTES);
    // Twenty accounts for review, each with its buttons, do not fit one message: the page says how many it shows.
    const shown = Number(/"Accounts 1 to (\d+) of 500"/.exec(card)?.[1]);
    assert.ok(shown >= 10 && shown < 20, `shows ${shown}`);
    assert.match(card, new RegExp(`"title":"Next accounts","verb":"showPage","data":\\{"requestId":${stored.id},"start":${shown}\\}`));
    assert.match(card, /"value":"500: 400 eligible, 100 for review, 0 screened out at submission"/);
    assert.match(card, /"value":"400 approved, 0 rejected, 100 to decide"/);
    // The accounts for review first (the ones left to decide), in their order, each with Approve and Reject.
    const rows = [...card.matchAll(/"text":"(\d+)\. shown\.\d+@nhsmail\.example/g)].map((match) => Number(match[1]));
    assert.deepEqual(
      rows,
      Array.from({ length: shown }, (_, index) => 5 * (index + 1)),
    );
    assert.equal([...card.matchAll(/"verb":"decideAccount"/g)].length, 2 * shown);
    assert.doesNotMatch(card, /"verb":"approveEligible"/, 'nothing eligible is left undecided');

    const view = await requestJson(stored, TOM, {
      audit: new WorkspaceAudit(new AuditLog(db())),
      queue: new WorkspaceQueue(new QueueRepository(db()), loadBankHolidays(), { overdueAfterWorkingDays: 3 }),
      tenantId: 'tenant',
    });
    assert.deepEqual(
      view.request.accounts.map((account) => account.position),
      Array.from({ length: 500 }, (_, index) => index + 1),
    );
    assert.deepEqual(
      view.request.accounts.filter((account) => account.decision === 'approved').map((account) => account.position % 5),
      Array<number>(400)
        .fill(0)
        .map((_, index) => ((index % 4) + 1) % 5),
    );
    const words = view.audit.map((event) => [event.what, event.actorName]);
    assert.deepEqual(words.slice(0, 3), [
      ['submitted the request', PRIYA.name],
      ['started reviewing', TOM.name],
      ['approved (all eligible)', TOM.name],
    ]);
    assert.equal(words.filter(([what]) => what === 'approved (all eligible)').length, 400);
    const alert = view.audit.at(-1)!;
    assert.equal(alert.what, 'told the requester of accounts marked as leavers');
    assert.equal(alert.detailText, `12 accounts (${Array.from({ length: 12 }, (_, index) => `account ${index + 1}`).join(', ')})`);
  });

  it('approves each account beside its row: the table keeps room on each page for its rows’ next versions (fillfactor, migration 020)', async () => {
    const requests = transferRequests(db());
    const { request } = await requests.submit(newRequest(500, 'pages'));
    // The block of each row version (ctid is "(block,offset)"): an update that finds room on its page writes no index entries (HOT).
    const blocks = async () =>
      new Map(
        (await db().query<{ id: number; ctid: string }>('SELECT id, ctid::text AS ctid FROM request_accounts WHERE request_id = $1', [request.id])).map(
          (row) => [row.id, row.ctid.slice(1).split(',')[0]],
        ),
      );
    const before = await blocks();
    const { decidedAccountIds } = await requests.approveEligible(request.id, TOM);
    assert.equal(decidedAccountIds.length, 400);
    const after = await blocks();
    const moved = decidedAccountIds.filter((id) => after.get(id) !== before.get(id));
    assert.deepEqual(moved, [], `${moved.length} of 400 approved accounts moved to another page`);
  });

  it('changes nothing on a request that is no longer open, by the decision statements’ own WHERE, whoever calls them', async () => {
    const requests = transferRequests(db());
    const { request: withdrawn } = await requests.submit(newRequest(20, 'withdrawn'));
    await requests.withdraw(withdrawn.id, PRIYA);
    const { request: decided } = await requests.submit(newRequest(20, 'decided'));
    await requests.approveEligible(decided.id, TOM);
    await requests.rejectUndecided(decided.id, TOM, 'DSPT first.');
    // Reopen one account of the decided request behind the lifecycle's back: only the request's status now says no.
    const [reopened] = decided.accounts;
    await db().query('UPDATE request_accounts SET decision = NULL, decided_by_id = NULL, decided_by_name = NULL, decided_at = NULL WHERE id = $1', [
      reopened!.id,
    ]);
    for (const request of [withdrawn, decided]) {
      const undecidedBefore = await db().query<{ id: number }>('SELECT id FROM request_accounts WHERE request_id = $1 AND decision IS NULL ORDER BY id', [
        request.id,
      ]);
      assert.ok(undecidedBefore.length > 0);
      await db().transaction(async (tx) => {
        assert.deepEqual(await approveEligibleAccounts(tx, request.id, TOM), []);
        assert.deepEqual(await rejectUndecidedAccounts(tx, request.id, TOM, 'late'), []);
        assert.deepEqual(await decideOneAccount(tx, request.id, undecidedBefore[0]!.id, 'approved', TOM, null), []);
      });
      const undecidedAfter = await db().query<{ id: number }>('SELECT id FROM request_accounts WHERE request_id = $1 AND decision IS NULL ORDER BY id', [
        request.id,
      ]);
      assert.deepEqual(undecidedAfter, undecidedBefore, `request ${request.reference} (${request.id === withdrawn.id ? 'withdrawn' : 'decided'})`);
    }
  });
});

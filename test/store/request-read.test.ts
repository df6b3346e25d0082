import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Outbox, dedupeKeys, owed } from '../../services/store/outbox';
import { RequestRepository, lockRequest, lockRequestForDecision } from '../../services/store/requests';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

/**
 * A stored request read back whole in two statements (issue 23): the affected users' tally the ops
 * card shows and NAS Operations' questions come with the request's row, its accounts in a second
 * statement, by id, by reference and under the request's lock, on both engines.
 */
describeOnEachDatabase('a stored request read with its affected users tally', (db) => {
  async function requestWithMessages() {
    const repository = new RequestRepository(db());
    const { request } = await transferRequests(db()).submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'a@x.example', 'eligible'), screenedAccount(2, 'b@x.example', 'eligible'), screenedAccount(3, 'c@x.example', 'review')],
    });
    const [first, second, third] = request.accounts.map((account) => account.id);
    const message = (accountId: number | undefined, stage: string, status: string, settledAt: string | null) =>
      db().query(
        `INSERT INTO affected_user_messages (request_id, account_id, stage, message_group, recipient, sender_id, status, settled_at)
         VALUES ($1, $2, $3, 'transferring', 'someone@x.example', 'priya', $4, $5)`,
        [request.id, accountId, stage, status, settledAt],
      );
    await message(first, 'submitted', 'sent', '2026-11-02T09:00:00Z');
    await message(second, 'submitted', 'sent', '2026-11-02T09:05:00Z');
    await message(third, 'submitted', 'pending', null);
    await message(first, 'outcome', 'failed', '2026-11-03T10:00:00Z');
    return { repository, request };
  }

  const expected = [
    { stage: 'submitted', total: 3, sent: 2, pending: 1, lastSentAt: new Date('2026-11-02T09:05:00Z') },
    { stage: 'outcome', total: 1, sent: 0, pending: 0, lastSentAt: null },
  ];

  it('gives the tally per stage, newest stage first, by id, by reference and when locked', async () => {
    const { repository, request } = await requestWithMessages();
    assert.deepEqual((await repository.get(request.id))?.affectedUsersTold, expected);
    assert.deepEqual((await repository.getByReference(request.reference))?.affectedUsersTold, expected);
    const locked = await db().transaction((tx) => lockRequest(tx, request.id));
    assert.deepEqual(locked?.affectedUsersTold, expected);
    assert.deepEqual(
      locked?.accounts.map((account) => account.email),
      ['a@x.example', 'b@x.example', 'c@x.example'],
    );
  });

  it('gives an empty tally for a request whose users have not been written to', async () => {
    const repository = new RequestRepository(db());
    const { request } = await transferRequests(db()).submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'a@x.example', 'eligible')],
    });
    assert.deepEqual((await repository.get(request.id))?.affectedUsersTold, []);
  });

  it('gives each leaver the state of the alert that named it, from the outbox, not from its being owed', async () => {
    const repository = new RequestRepository(db());
    const { request } = await transferRequests(db()).submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [1, 2, 3, 4, 5].map((position) => screenedAccount(position, `${position}@x.example`, 'eligible')),
    });
    const [first, second, third, fourth, fifth] = request.accounts.map((account) => account.id) as [number, number, number, number, number];
    await db().query('UPDATE request_accounts SET leaver_alerted_at = now() WHERE id = ANY($1::int[])', [[first, second, third, fourth]]);
    const alert = (accountIds: number[], status: string) =>
      db().query(`INSERT INTO outbox (dedupe_key, kind, request_id, recipient, payload, status) VALUES ($1, 'leaver.alert', $2, 'priya', $3, $4)`, [
        `leaver.alert:${request.id}:${Math.min(...accountIds)}`,
        request.id,
        JSON.stringify({ accountIds }),
        status,
      ]);
    await alert([first, second], 'undeliverable');
    await alert([third], 'pending');
    await alert([fourth], 'failed');
    // Not this request's, and naming the fifth account's id: not its alert.
    await db().query(`INSERT INTO outbox (dedupe_key, kind, request_id, recipient, payload, status) VALUES ($1, 'outcome', $2, 'priya', $3, 'delivered')`, [
      `other:${request.id}`,
      request.id,
      JSON.stringify({ accountIds: [fifth] }),
    ]);
    const expected = ['undeliverable', 'undeliverable', 'pending', 'undeliverable', 'not_due'];
    assert.deepEqual(
      (await repository.get(request.id))?.accounts.map((account) => account.leaverAlert),
      expected,
    );
    const locked = await db().transaction((tx) => lockRequest(tx, request.id));
    assert.deepEqual(
      locked?.accounts.map((account) => account.leaverAlert),
      expected,
    );
    await db().query(`UPDATE outbox SET status = 'delivered' WHERE kind = 'leaver.alert' AND request_id = $1 AND payload->'accountIds' @> to_jsonb($2::int)`, [
      request.id,
      third,
    ]);
    assert.equal((await repository.get(request.id))?.accounts[2]?.leaverAlert, 'delivered');
  });

  it('an outcome Teams answered 5xx to every time is still being told (it is owed again after a rest); one refused for good is not', async () => {
    const repository = new RequestRepository(db());
    const { request } = await transferRequests(db()).submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'outcome.failed@x.example', 'eligible')],
    });
    await new Outbox(db()).enqueue(owed.outcome(request.id, 'priya'));
    const told = async (status: string, lastError: string) => {
      await db().query(`UPDATE outbox SET status = $2, last_error = $3 WHERE dedupe_key = $1`, [dedupeKeys.outcome(request.id), status, lastError]);
      return (await repository.get(request.id))?.outcomeNotification;
    };
    assert.equal(await told('failed', 'HTTP_503'), 'pending', 'was "could not be notified: tell them another way"');
    assert.equal(await told('failed', 'UNREACHABLE'), 'pending');
    assert.equal(await told('failed', 'HTTP_413'), 'undeliverable', 'too large: no rest helps');
    assert.equal(await told('undeliverable', 'HTTP_403'), 'undeliverable');
  });

  it('gives the questions, oldest first, with who asked, the answer and their times, by id, by reference and when locked', async () => {
    const { request } = await requestWithMessages();
    const requests = transferRequests(db());
    await requests.ask(request.id, { id: 'tom', name: 'Tom Ashdown' }, 'Which site is the first account at?');
    await requests.ask(request.id, { id: 'lena', name: 'Lena Marsh' }, 'Is “b” a shared mailbox?');
    await requests.answer(request.id, { id: 'priya', name: 'Priya Okafor' }, 'Harbour Lane, ZZ9101.');
    // What the table holds, read the ordinary way (pg's own timestamp parsing): the folded read must give the same.
    const stored = await db().query<{ id: number; asked_at: Date; answered_at: Date | null }>(
      'SELECT id, asked_at, answered_at FROM request_questions WHERE request_id = $1 ORDER BY id',
      [request.id],
    );
    const expectedQuestions = [
      {
        id: stored[0]!.id,
        askedBy: { id: 'tom', name: 'Tom Ashdown' },
        question: 'Which site is the first account at?',
        askedAt: stored[0]!.asked_at,
        answer: 'Harbour Lane, ZZ9101.',
        answeredAt: stored[0]!.answered_at,
      },
      {
        id: stored[1]!.id,
        askedBy: { id: 'lena', name: 'Lena Marsh' },
        question: 'Is “b” a shared mailbox?',
        askedAt: stored[1]!.asked_at,
        answer: null,
        answeredAt: null,
      },
    ];
    assert.ok(expectedQuestions[0]!.askedAt instanceof Date && expectedQuestions[0]!.answeredAt instanceof Date);
    const repository = new RequestRepository(db());
    assert.deepEqual((await repository.get(request.id))?.questions, expectedQuestions);
    assert.deepEqual((await repository.getByReference(request.reference))?.questions, expectedQuestions);
    assert.deepEqual((await db().transaction((tx) => lockRequest(tx, request.id)))?.questions, expectedQuestions);
  });

  it('reads, for a decision, the same facts of each account as the whole read has, without its reasons and evidence', async () => {
    const requests = transferRequests(db());
    const { request } = await requests.submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [1, 2, 3, 4, 5].map((position) => screenedAccount(position, `facts.${position}@x.example`, position === 5 ? 'ineligible' : 'eligible')),
    });
    const [first, second, third, fourth] = request.accounts.map((account) => account.id) as [number, number, number, number];
    await db().query(
      `UPDATE request_accounts SET rechecked_at = now(), rechecked_verdict = 'ineligible', rechecked_reasons = '[]', rechecked_evidence = '{"directoryFound":true}',
         change_summary = 'marked as a leaver', changed_at = now() WHERE id = $1`,
      [first],
    );
    await db().query(
      `UPDATE request_accounts SET rechecked_at = now(), rechecked_verdict = 'eligible', rechecked_reasons = '[]', rechecked_evidence = '{}' WHERE id = $1`,
      [second],
    );
    await requests.approveEligible(request.id, { id: 'tom', name: 'Tom Ashdown' });
    await requests.decideAccount(request.id, first, 'rejected', { id: 'lena', name: 'Lena Marsh' }, 'A leaver now.');
    await requests.markTransferred(request.id, { id: 'tom', name: 'Tom Ashdown' }, 'all');
    await db().query('UPDATE request_accounts SET transfer_confirmed_at = now() WHERE id = $1', [third]);
    await db().query(
      `UPDATE request_accounts SET transfer_overridden_at = now(), transfer_overridden_by_id = 'tom', transfer_overridden_by_name = 'Tom Ashdown', transfer_override_reason = 'Seen in the portal.' WHERE id = $1`,
      [fourth],
    );
    const [whole, facts] = await db().transaction(async (tx) => [await lockRequest(tx, request.id), await lockRequestForDecision(tx, request.id)] as const);
    assert.ok(whole && facts);
    const { accounts: wholeAccounts, ...wholeRow } = whole;
    const { accounts: factAccounts, ...factRow } = facts;
    assert.deepEqual(factRow, wholeRow, 'the request row is read whole either way');
    assert.equal(wholeRow.status, 'decided');
    assert.deepEqual(
      factAccounts,
      wholeAccounts.map((account) => ({
        id: account.id,
        position: account.position,
        verdict: account.verdict,
        decision: account.decision,
        decidedBy: account.decidedBy,
        decidedAt: account.decidedAt,
        transferredAt: account.transferredAt,
        recheck: account.recheck ? { verdict: account.recheck.verdict, changes: account.recheck.changes } : null,
        transferConfirmedAt: account.transferConfirmedAt,
        transferOverride: account.transferOverride,
      })),
    );
    // The states above are all there, so the comparison compares something.
    assert.deepEqual(
      factAccounts.map((account) => [
        account.decision,
        account.recheck?.changes ?? null,
        Boolean(account.transferredAt),
        Boolean(account.transferConfirmedAt),
        account.transferOverride?.reason ?? null,
      ]),
      [
        ['rejected', 'marked as a leaver', false, false, null],
        ['approved', null, true, false, null],
        ['approved', null, true, true, null],
        ['approved', null, true, false, 'Seen in the portal.'],
        [null, null, false, false, null],
      ],
    );
  });

  it('reads a request in two statements, and locks it in two', async () => {
    const { request } = await requestWithMessages();
    await transferRequests(db()).ask(request.id, { id: 'tom', name: 'Tom Ashdown' }, 'Which site?');
    const statements: string[] = [];
    const counting = { query: <Row>(sql: string, params?: readonly unknown[]) => (statements.push(sql), db().query<Row>(sql, params)) };
    await db().transaction(async (tx) => {
      const recording = { query: <Row>(sql: string, params?: readonly unknown[]) => (statements.push(sql), tx.query<Row>(sql, params)) };
      await lockRequest(recording, request.id);
    });
    const locks = statements.length;
    await new RequestRepository({ ...db(), query: counting.query } as never).get(request.id);
    // The request row (with its tally and its questions), then its accounts: two statements, not four.
    assert.equal(locks, 2, statements.join('\n'));
    assert.equal(statements.length - locks, 2, statements.slice(locks).join('\n'));
    assert.ok(!statements.some((sql) => /^\s*SELECT stage/.test(sql)), 'no statement of its own for the tally');
    assert.ok(!statements.some((sql) => /^\s*SELECT \* FROM request_questions/.test(sql)), 'no statement of its own for the questions');
  });
});

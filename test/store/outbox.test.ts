import assert from 'node:assert/strict';
import { TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { DialogStateStore } from '../../bot/state/dialog-state';
import { SqlStorage } from '../../services/store/bot-state';
import { openPostgres, type SqlDatabase } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { DeliveryRecords, WAITING_FOR_OUTCOME } from '../../services/outbox/delivery-records';
import { Outbox, dedupeKeys, enqueue, enqueueAll, owed } from '../../services/store/outbox';
import { ScreeningJobs } from '../../services/store/screening-jobs';
import { ConversationReferenceRecords } from '../../services/store/conversation-references';
import { countingDatabase } from '../support/counting-database';
import { describeOnEachDatabase, freshPostgresSchema, requirePostgres } from '../support/databases';

/** Writes a request straight into its table (001-initial.sql columns only): owed messages name one. */
async function aRequest(db: SqlDatabase, reference: string): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO transfer_requests (reference, organisation_ods, organisation_name, requester_id, requester_name, reason, attestations, policy_version)
     VALUES ($1, 'ZZ9001', 'Northmoor', 'priya', 'Priya Okafor', 'Sponsor ending', '{}'::jsonb, 'test') RETURNING id`,
    [reference],
  );
  return row!.id;
}

describeOnEachDatabase('outbox', (db) => {
  it('owes several messages in one statement, in order, each as enqueue would: an update re-armed, an outcome owed once', async () => {
    const request = await aRequest(db(), 'NTR-3');
    const other = await aRequest(db(), 'NTR-4');
    // Already owed: the card's update delivered, and the outcome delivered.
    await enqueue(db(), owed.opsUpdate(request));
    await enqueue(db(), owed.outcome(request, 'priya'));
    await db().query(`UPDATE outbox SET status = 'delivered', delivered_at = now(), attempts = 1`);
    const statements: string[] = [];
    await db().transaction((tx) =>
      enqueueAll({ query: (sql, params) => (statements.push(sql), tx.query(sql, params)) }, [
        owed.outcome(request, 'priya'),
        owed.outcome(other, 'priya'),
        owed.opsUpdate(request),
        owed.opsUpdate(other),
        owed.opsUpdate(other),
      ]),
    );
    assert.equal(statements.length, 1, statements.join('\n'));
    const rows = await db().query<{ dedupe_key: string; status: string; version: number; attempts: number; recipient: string | null }>(
      'SELECT dedupe_key, status, version, attempts, recipient FROM outbox ORDER BY id',
    );
    assert.deepEqual(
      rows.map((row) => [row.dedupe_key, row.status, row.version, row.attempts, row.recipient]),
      [
        [dedupeKeys.opsUpdate(request), 'pending', 2, 0, null],
        [dedupeKeys.outcome(request), 'delivered', 1, 1, 'priya'],
        [dedupeKeys.outcome(other), 'pending', 1, 0, 'priya'],
        [dedupeKeys.opsUpdate(other), 'pending', 1, 0, null],
      ],
    );
  });

  it('owes each message once: enqueuing the same post or outcome again changes nothing', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-7');
    await outbox.enqueue(owed.outcome(request, 'u1'));
    await outbox.enqueue(owed.outcome(request, 'u1'));
    const claimed = await outbox.claimDue(10, 30);
    assert.equal(claimed.length, 1);
    assert.deepEqual(await outbox.claimDue(10, 30), [], 'leased: nobody else gets it while it is in flight');
  });

  it('says when the next row falls due, and that none does when nothing is owed soon', async () => {
    const outbox = new Outbox(db());
    assert.equal(await outbox.nextDueInMs(2000), undefined, 'nothing owed: nothing to wait for');
    const request = await aRequest(db(), 'NTR-9');
    await outbox.enqueue(owed.outcome(request, 'u9'));
    assert.equal(await outbox.nextDueInMs(2000), 0, 'due now');
    await db().query(`UPDATE outbox SET due_at = clock_timestamp() + interval '1 second'`);
    const inMs = await outbox.nextDueInMs(2000);
    assert.ok(inMs !== undefined && inMs > 500 && inMs <= 1000, `due in ${inMs} ms`);
    await db().query(`UPDATE outbox SET due_at = clock_timestamp() + interval '10 seconds'`);
    assert.equal(await outbox.nextDueInMs(2000), undefined, 'beyond the look-ahead');
  });

  it('says how long until a pending row falls due (what a message waiting for the outcome waits), and nothing once it is not pending', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-11');
    const key = dedupeKeys.outcome(request);
    assert.equal(await outbox.pendingDueInSeconds(key), undefined, 'not owed');
    await outbox.enqueue(owed.outcome(request, 'u11'));
    assert.equal(await outbox.pendingDueInSeconds(key), 0, 'due now');
    await db().query(`UPDATE outbox SET due_at = clock_timestamp() + interval '90 seconds' WHERE dedupe_key = $1`, [key]);
    const inSeconds = await outbox.pendingDueInSeconds(key);
    assert.ok(inSeconds !== undefined && inSeconds > 85 && inSeconds <= 90, `due in ${inSeconds} s`);
    await db().query(`UPDATE outbox SET status = 'undeliverable' WHERE dedupe_key = $1`, [key]);
    assert.equal(await outbox.pendingDueInSeconds(key), undefined, 'given up: nothing to wait for');
    // Failed after its attempts on 5xx, it is owed again after a rest (rearmFailed): what follows it still waits.
    await db().query(`UPDATE outbox SET status = 'failed', last_error = 'HTTP_503' WHERE dedupe_key = $1`, [key]);
    assert.equal(await outbox.pendingDueInSeconds(key, 600), 600, 'failed on 5xx: owed again, looked at again in 600 s');
    await db().query(`UPDATE outbox SET last_error = 'HTTP_413' WHERE dedupe_key = $1`, [key]);
    assert.equal(await outbox.pendingDueInSeconds(key, 600), undefined, 'failed for good (too large): not owed');
  });

  it('what waited for the outcome falls due when the outcome is delivered, not at the outcome’s old due time (up to an hour)', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-12');
    const other = await aRequest(db(), 'NTR-13');
    await outbox.enqueue(owed.outcome(request, 'u12'));
    await outbox.enqueue(owed.completion(request, 'u12'));
    await outbox.enqueue(owed.completion(other, 'u13'));
    // The completion found the outcome owed (a chat not yet known: an hour) and waits for it; so does another request's.
    await db().query(`UPDATE outbox SET due_at = now() + interval '1 hour', last_error = $1 WHERE kind <> 'outcome'`, [WAITING_FOR_OUTCOME]);
    await db().transaction((tx) => DeliveryRecords.outcomeDelivered(request, { conversationId: 'a:chat', activityId: 'act-1' })(tx));
    assert.equal(await outbox.pendingDueInSeconds(dedupeKeys.completion(request)), 0, 'due now');
    const otherDueIn = await outbox.pendingDueInSeconds(dedupeKeys.completion(other));
    assert.ok(otherDueIn !== undefined && otherDueIn > 3500, 'another request’s outcome is still owed: its completion still waits');
  });

  it('keeps an update owed when the state changed while it was in flight', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-1');
    await enqueue(db(), owed.opsUpdate(request));
    const [inFlight] = await outbox.claimDue(10, 30);
    await enqueue(db(), owed.opsUpdate(request));
    await outbox.markDelivered(inFlight!);
    assert.deepEqual(await outbox.statusOf(dedupeKeys.opsUpdate(request)), { status: 'pending', lastError: null });
    const [again] = await outbox.claimDue(10, 30);
    assert.equal(again?.version, 2);
    await outbox.markDelivered(again);
    assert.equal((await outbox.statusOf(dedupeKeys.opsUpdate(request)))?.status, 'delivered');
  });

  it('waits for a retry without giving the row to anyone, and records why; never-deliverable rows stop', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-8');
    await outbox.enqueue(owed.outcome(request, 'u2'));
    const [first] = await outbox.claimDue(10, 30);
    await outbox.retryLater(first!, 60, 'HTTP_503');
    assert.deepEqual(await outbox.claimDue(10, 30), [], 'not due for a minute');
    assert.deepEqual(await outbox.statusOf(dedupeKeys.outcome(request)), { status: 'pending', lastError: 'HTTP_503' });
    await db().query(`UPDATE outbox SET due_at = now() - interval '1 second'`);
    const [second] = await outbox.claimDue(10, 30);
    assert.equal(second?.attempts, 2);
    await outbox.giveUp(second, 'undeliverable', 'HTTP_403');
    assert.deepEqual(await outbox.statusOf(dedupeKeys.outcome(request)), { status: 'undeliverable', lastError: 'HTTP_403' });
    await db().query(`UPDATE outbox SET due_at = now() - interval '1 second'`);
    assert.deepEqual(await outbox.claimDue(10, 30), []);
  });

  it('fences a claim that lapsed: the worker that lost the row can neither send nor settle it', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-11');
    await outbox.enqueue(owed.outcome(request, 'u5'));
    const [slow] = await outbox.claimDue(10, 30);
    // The slow worker's lease runs out while it waits on Teams; another instance claims the row.
    await db().query(`UPDATE outbox SET lease_until = now() - interval '1 second'`);
    const [fast] = await outbox.claimDue(10, 30);
    assert.ok(fast && fast.claimToken !== slow!.claimToken);
    assert.equal(await outbox.stillHeld(slow!, 30), false, 'the slow worker must not send');
    assert.equal(await outbox.stillHeld(fast, 30), true);
    await outbox.giveUp(slow!, 'undeliverable', 'HTTP_403');
    await outbox.retryLater(slow!, 600, 'HTTP_503');
    assert.deepEqual(await outbox.statusOf(dedupeKeys.outcome(request)), { status: 'pending', lastError: null }, 'the lapsed claim changed nothing');
    await outbox.markDelivered(fast);
    assert.equal((await outbox.statusOf(dedupeKeys.outcome(request)))?.status, 'delivered');
  });

  it('gives failed rows another round after a rest, but not those Teams refused for good', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-12');
    await outbox.enqueue(owed.opsPost(request));
    await outbox.enqueue(owed.outcome(request, 'u6'));
    const [post, outcome] = await outbox.claimDue(10, 30);
    await outbox.giveUp(post!, 'failed', 'HTTP_503');
    await outbox.giveUp(outcome!, 'undeliverable', 'HTTP_403');
    assert.equal(await outbox.rearmFailed(3600), 0, 'not rested yet');
    await db().query(`UPDATE outbox SET due_at = now() - interval '2 hours'`);
    assert.equal(await outbox.rearmFailed(3600), 1);
    assert.equal((await outbox.statusOf(dedupeKeys.opsPost(request)))?.status, 'pending');
    assert.equal((await outbox.statusOf(dedupeKeys.outcome(request)))?.status, 'undeliverable');
  });

  it('wakes what was waiting for a chat when that chat becomes known', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-9');
    await outbox.enqueue(owed.outcome(request, 'u3'));
    const [waiting] = await outbox.claimDue(10, 30);
    await outbox.retryLater(waiting!, 3600, 'NO_CONVERSATION', false);
    assert.equal(await outbox.nudgeRecipient('someone-else'), 0);
    assert.equal(await outbox.nudgeRecipient('u3'), 1);
    const [again] = await outbox.claimDue(10, 30);
    assert.equal(again?.attempts, 1, 'waiting for a chat is nobody’s failure: no attempt counted');
  });

  /** `userId`'s chat stored as `reference` and marked refused (403), with an outcome Teams refused there given up: what a save of the chat wakes. */
  async function chatRefusedWithOutcomeGivenUp(requestReference: string, userId: string, reference: string) {
    const counting = countingDatabase(db());
    const records = new ConversationReferenceRecords(counting.db);
    const outbox = new Outbox(db());
    const request = await aRequest(db(), requestReference);
    await outbox.enqueue(owed.outcome(request, userId));
    const [outcome] = await outbox.claimDue(10, 30);
    await outbox.giveUp(outcome!, 'undeliverable', 'HTTP_403');
    await records.save(`user:${userId}`, reference);
    await records.markUnreachable(`user:${userId}`, 403);
    return { counting, records, outbox, request };
  }

  it('stores a chat and wakes what waited for it in one statement, so a chat is never known while its refused outcome stays given up', async () => {
    const { counting, records, outbox, request } = await chatRefusedWithOutcomeGivenUp('NTR-14', 'u7', '{"conversation":{"id":"a:old"}}');
    const before = counting.statements.length;
    assert.deepEqual(await records.saveChat('user:u7', '{"conversation":{"id":"a:old"}}', 'u7'), { changed: true, woken: 1 }, 'the chat is back');
    assert.equal(counting.statements.length - before, 1, 'one round trip');
    assert.equal((await outbox.statusOf(dedupeKeys.outcome(request)))?.status, 'pending', 'the outcome is owed again');
    assert.equal(await records.unreachable('user:u7'), null);
    assert.deepEqual(await records.saveChat('user:u7', '{"conversation":{"id":"a:old"}}', 'u7'), { changed: false, woken: 0 }, 'unchanged: nothing to wake');
    assert.deepEqual(await records.saveChat('user:u8', '{"conversation":{"id":"a:new"}}', 'u8'), { changed: true, woken: 0 }, 'new, nothing waiting');
  });

  it('saves chats asked for while one is being written in one statement together, each told its own answer (group commit)', async () => {
    const { counting, outbox, request } = await chatRefusedWithOutcomeGivenUp('NTR-15', 'g2', '{"conversation":{"id":"a:g2"}}');
    // The first statement is held open until the others have been asked for: on PGlite it would otherwise end within the moment.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let writing = () => {};
    const firstWriting = new Promise<void>((resolve) => (writing = resolve));
    let statements = 0;
    const records = new ConversationReferenceRecords({
      ...counting.db,
      engine: counting.db.engine,
      query: async (sql, params) => {
        if (statements++ === 0) {
          writing();
          await held;
        }
        return counting.db.query(sql, params);
      },
    });
    const before = counting.statements.length;
    const first = records.saveChat('user:g1', '{"conversation":{"id":"a:g1"},"user":{"name":"Siân \\"Jo\\" O’Neill"}}', 'g1');
    await firstWriting;
    const meanwhile = [
      records.saveChat('user:g2', '{"conversation":{"id":"a:g2"}}', 'g2'),
      records.saveChat('user:g3', '{"conversation":{"id":"a:g3"}}', 'g3'),
      records.saveChat('user:g3', '{"conversation":{"id":"a:g3"}}', 'g3'),
    ];
    release();
    const saved = await Promise.all([first, ...meanwhile]);
    assert.deepEqual(saved, [
      { changed: true, woken: 0 },
      { changed: true, woken: 1 },
      { changed: true, woken: 0 },
      { changed: false, woken: 0 },
    ]);
    assert.equal(counting.statements.length - before, 2, 'the first, then the three asked while it was written in one statement');
    assert.equal((await outbox.statusOf(dedupeKeys.outcome(request)))?.status, 'pending', 'what waited for g2 is owed again');
    assert.deepEqual(await records.get('user:g1'), { conversation: { id: 'a:g1' }, user: { name: 'Siân "Jo" O’Neill' } }, 'stored as given');
  });

  it('writes 30 chats asked for in the same moment in two statements: at most 25 a statement', async () => {
    const counting = countingDatabase(db());
    const records = new ConversationReferenceRecords(counting.db);
    const before = counting.statements.length;
    const saved = await Promise.all(
      Array.from({ length: 30 }, (_, index) => records.saveChat(`user:m${index}`, `{"conversation":{"id":"a:m${index}"}}`, `m${index}`)),
    );
    assert.ok(saved.every((save) => save.changed));
    assert.equal(counting.statements.length - before, 2);
    assert.deepEqual(await records.get('user:m29'), { conversation: { id: 'a:m29' } });
  });

  it('a chat whose reference the database refuses fails alone: the chats written with it are saved', async () => {
    const records = new ConversationReferenceRecords(db());
    const first = records.saveChat('user:b0', '{"conversation":{"id":"a:b0"}}', 'b0');
    const together = await Promise.allSettled([
      records.saveChat('user:b1', '{"conversation":{"id":"a:b1"}}', 'b1'),
      // A NUL character: PostgreSQL's jsonb refuses it.
      records.saveChat('user:b2', '{"conversation":{"id":"a:b2"},"user":{"name":"x\\u0000y"}}', 'b2'),
      // Not one JSON value: it would shift every reference after it onto the wrong chat.
      records.saveChat('user:b3', '{"conversation":{"id":"a:b3"}},{"conversation":{"id":"a:someone-else"}}', 'b3'),
      records.saveChat('user:b4', '{"conversation":{"id":"a:b4"}}', 'b4'),
    ]);
    assert.deepEqual(await first, { changed: true, woken: 0 });
    assert.deepEqual(
      together.map((result) => result.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(await records.get('user:b4'), { conversation: { id: 'a:b4' } }, 'b4 stored as its own, not shifted');
    assert.equal(await records.get('user:b3'), null);
  });

  it('a chat saved twice in one statement keeps the order it was asked in: the later reference stands', async () => {
    const records = new ConversationReferenceRecords(db());
    const first = records.saveChat('user:d0', '{"conversation":{"id":"a:d0"}}', 'd0');
    const [older, newer] = await Promise.all([
      records.saveChat('user:d1', '{"conversation":{"id":"a:old"}}', 'd1'),
      records.saveChat('user:d1', '{"conversation":{"id":"a:new"}}', 'd1'),
    ]);
    await first;
    assert.deepEqual(
      [older, newer],
      [
        { changed: true, woken: 0 },
        { changed: true, woken: 0 },
      ],
    );
    assert.deepEqual(await records.get('user:d1'), { conversation: { id: 'a:new' } });
  });

  it('a chat save that fails fails every save written with it, and the next save is written', async () => {
    let failing = true;
    const records = new ConversationReferenceRecords({
      ...db(),
      engine: db().engine,
      query: (sql, params) => (failing ? Promise.reject(new Error('connection lost')) : db().query(sql, params)),
    });
    const both = [records.saveChat('user:f1', '{"conversation":{"id":"a:f1"}}', 'f1'), records.saveChat('user:f2', '{"conversation":{"id":"a:f2"}}', 'f2')];
    for (const save of both) await assert.rejects(save, /connection lost/);
    failing = false;
    assert.deepEqual(await records.saveChat('user:f1', '{"conversation":{"id":"a:f1"}}', 'f1'), { changed: true, woken: 0 });
  });

  it('reads each row back as its kind, payload and all', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-13');
    await outbox.enqueue(owed.opsChase(request, 2, 6));
    await outbox.enqueue(owed.question(request, 'u7', 41));
    await outbox.enqueue(owed.screeningResults('draft-3:1', 2, 'u7'));
    const claimed = await outbox.claimDue(10, 30);
    assert.deepEqual(
      claimed.map(({ kind, requestId, recipient, payload }) => ({ kind, requestId, recipient, payload })),
      [
        { kind: 'ops.chase', requestId: request, recipient: null, payload: { workingDays: 6, reminder: 2 } },
        { kind: 'question', requestId: request, recipient: 'u7', payload: { questionId: 41 } },
        { kind: 'screening.results', requestId: null, recipient: 'u7', payload: { jobId: 'draft-3:1', run: 2 } },
      ],
    );
    const keys = await db().query<{ dedupe_key: string }>('SELECT dedupe_key FROM outbox ORDER BY id');
    assert.deepEqual(
      keys.map((row) => row.dedupe_key),
      [dedupeKeys.opsChase(request, 2), dedupeKeys.question(41), dedupeKeys.screeningResults('draft-3:1', 2)],
    );
  });

  it('gives up a row whose payload was tampered with as PAYLOAD_INVALID, hands out the others, and never re-arms it', async () => {
    const outbox = new Outbox(db());
    const request = await aRequest(db(), 'NTR-14');
    await outbox.enqueue(owed.question(request, 'u8', 5));
    await outbox.enqueue(owed.outcome(request, 'u8'));
    await outbox.enqueue(owed.opsChase(request, 1, 3));
    await db().query(`UPDATE outbox SET payload = '{"questionId": "x"}'::jsonb WHERE kind = 'question'`);
    await db().query(`UPDATE outbox SET payload = '{"reminder": 1}'::jsonb WHERE kind = 'ops.chase'`);
    const unreadable: Array<{ kind: string; problems: string[] }> = [];
    const claimed = await outbox.claimDue(10, 30, ({ kind, problems }) => unreadable.push({ kind, problems }));
    assert.deepEqual(
      claimed.map((delivery) => delivery.kind),
      ['outcome'],
    );
    assert.deepEqual(unreadable, [
      { kind: 'question', problems: ['payload.questionId: invalid_type'] },
      { kind: 'ops.chase', problems: ['payload.workingDays: invalid_type'] },
    ]);
    assert.deepEqual(await outbox.statusOf(dedupeKeys.question(5)), { status: 'failed', lastError: 'PAYLOAD_INVALID' });
    assert.deepEqual(await outbox.statusOf(dedupeKeys.opsChase(request, 1)), { status: 'failed', lastError: 'PAYLOAD_INVALID' });
    await db().query(`UPDATE outbox SET due_at = now() - interval '2 hours'`);
    assert.equal(await outbox.rearmFailed(3600), 0, 'resting does not mend a payload');
    assert.equal(await outbox.nudgeOpsChannel(), 0);
  });

  it('gives up a row of a kind it does not know, without a crash', async () => {
    const outbox = new Outbox(db());
    await db().query(`INSERT INTO outbox (dedupe_key, kind, payload) VALUES ('mystery:1', 'ops.mystery', '{}'::jsonb)`);
    const unreadable: string[] = [];
    assert.deepEqual(await outbox.claimDue(10, 30, ({ problems }) => unreadable.push(...problems)), []);
    assert.deepEqual(unreadable, ['kind: invalid_union']);
    assert.deepEqual(await outbox.statusOf('mystery:1'), { status: 'failed', lastError: 'PAYLOAD_INVALID' });
  });
});

describeOnEachDatabase('screening jobs (claims fenced by attempt)', (db) => {
  const job = { id: 'draft-1:1', ownerId: 'u1', organisationOds: 'ZZ9001', organisationName: 'Northmoor', entries: [{ position: 1, email: 'a@x.example' }] };
  const result = { policyVersion: 'test', accounts: [] };

  it('lets only the runner that holds the job complete it, and owes one results message per run', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create(job);
    const first = (await jobs.claimNext(30))!;
    await db().query(`UPDATE screening_jobs SET lease_until = now() - interval '1 second'`);
    const second = (await jobs.claimNext(30))!;
    assert.equal(second.attempts, 2);
    assert.equal(await jobs.recordProgress(first, 1, 30), false, 'the first runner learns it lost the job');
    assert.equal(await jobs.fail(first, 'DIRECTORY_UNAVAILABLE', 1, 0), 'not_held');
    await jobs.complete(first, result);
    assert.equal((await jobs.get(job.id))?.status, 'running', 'a stale runner changes nothing');
    await jobs.complete(second, result);
    assert.equal((await jobs.get(job.id))?.status, 'done');
    const owed = await db().query<{ dedupe_key: string }>('SELECT dedupe_key FROM outbox');
    assert.deepEqual(
      owed.map((row) => row.dedupe_key),
      [dedupeKeys.screeningResults(job.id, 1)],
    );
  });

  it('makes a retry after a failure a new run, with its own results message', async () => {
    const jobs = new ScreeningJobs(db());
    await jobs.create({ ...job, id: 'draft-2:1' });
    const claimed = (await jobs.claimNext(30))!;
    assert.equal(await jobs.fail(claimed, 'DIRECTORY_UNAVAILABLE', 1, 0), 'failed');
    await jobs.requeue('draft-2:1');
    const again = (await jobs.claimNext(30))!;
    assert.equal(again.run, 2);
    await jobs.complete(again, result);
    const owed = await db().query<{ dedupe_key: string }>('SELECT dedupe_key FROM outbox ORDER BY id');
    assert.deepEqual(
      owed.map((row) => row.dedupe_key),
      [dedupeKeys.screeningResults('draft-2:1', 1), dedupeKeys.screeningResults('draft-2:1', 2)],
    );
  });
});

describeOnEachDatabase('dialog state (eTag read at the start of the turn)', (db) => {
  const turn = (conversationId: string) => {
    const adapter = new TestAdapter(async () => undefined);
    return new TurnContext(adapter, { type: 'message', channelId: 'msteams', conversation: { id: conversationId } } as Activity);
  };

  it('lets only one of two concurrent turns of a conversation advance it', async () => {
    const store = new DialogStateStore(new SqlStorage(db()), 1);
    const first = turn('c1');
    const second = turn('c1');
    const [a, b] = await Promise.all([store.get(first, { dialogStack: [] }), store.get(second, { dialogStack: [] })]);
    a.dialogStack.push({ id: 'from-first', state: {} });
    b.dialogStack.push({ id: 'from-second', state: {} });
    await store.save(first);
    await assert.rejects(store.save(second), { code: 'STORAGE_CONFLICT' });
    const later = turn('c1');
    assert.deepEqual(
      (await store.get(later)).dialogStack.map((entry) => entry.id),
      ['from-first'],
    );
    (await store.get(later)).dialogStack.push({ id: 'next', state: {} });
    await store.save(later);
    assert.deepEqual(
      (await store.get(turn('c1'))).dialogStack.map((entry) => entry.id),
      ['from-first', 'next'],
    );
  });

  it('writes nothing for a turn that changed nothing', async () => {
    const store = new DialogStateStore(new SqlStorage(db()), 1);
    const context = turn('c2');
    await store.get(context, { dialogStack: [] });
    await store.save(context);
    const [row] = await db().query<{ count: number }>(`SELECT count(*)::int AS count FROM bot_state`);
    assert.equal(row?.count, 0);
  });
});

describe('migrations on an empty PostgreSQL, from two instances at the same moment', function () {
  before(requirePostgres);

  it('both come up, and the schema is applied once', async () => {
    const schema = await freshPostgresSchema();
    const [one, two] = await Promise.all([openPostgres(schema.url), openPostgres(schema.url)]);
    try {
      const applied = await Promise.all([migrate(one), migrate(two)]);
      assert.equal(applied[0].length + applied[1].length, applied.flat().length);
      assert.deepEqual(applied.flat().sort(), [...new Set(applied.flat())].sort(), 'each migration applied by one of them only');
      const [count] = await one.query<{ count: number }>('SELECT count(*)::int AS count FROM schema_migrations');
      assert.equal(count?.count, applied.flat().length);
    } finally {
      await one.close();
      await two.close();
      await schema.drop();
    }
  });
});

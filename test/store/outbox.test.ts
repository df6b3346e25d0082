import assert from 'node:assert/strict';
import { TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { DialogStateStore } from '../../bot/state/dialog-state';
import { SqlStorage } from '../../bot/state/sql-storage';
import { openPostgres } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { Outbox, dedupeKeys, enqueue } from '../../services/store/outbox';
import { ScreeningJobs } from '../../services/store/screening-jobs';
import { describeOnEachDatabase, freshPostgresSchema, requirePostgres } from '../support/databases';

describeOnEachDatabase('outbox', (db) => {
  it('owes each message once: enqueuing the same post or outcome again changes nothing', async () => {
    const outbox = new Outbox(db());
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:7', recipient: 'u1' });
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:7', recipient: 'u1' });
    const claimed = await outbox.claimDue(10, 30);
    assert.equal(claimed.length, 1);
    assert.deepEqual(await outbox.claimDue(10, 30), [], 'leased: nobody else gets it while it is in flight');
  });

  it('keeps an update owed when the state changed while it was in flight', async () => {
    const outbox = new Outbox(db());
    await enqueue(db(), { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(1) });
    const [inFlight] = await outbox.claimDue(10, 30);
    await enqueue(db(), { kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(1) });
    await outbox.markDelivered(inFlight!);
    assert.deepEqual(await outbox.statusOf(dedupeKeys.opsUpdate(1)), { status: 'pending', lastError: null });
    const [again] = await outbox.claimDue(10, 30);
    assert.equal(again?.version, 2);
    await outbox.markDelivered(again!);
    assert.equal((await outbox.statusOf(dedupeKeys.opsUpdate(1)))?.status, 'delivered');
  });

  it('waits for a retry without giving the row to anyone, and records why; never-deliverable rows stop', async () => {
    const outbox = new Outbox(db());
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:8', recipient: 'u2' });
    const [first] = await outbox.claimDue(10, 30);
    await outbox.retryLater(first!, 60, 'HTTP_503');
    assert.deepEqual(await outbox.claimDue(10, 30), [], 'not due for a minute');
    assert.deepEqual(await outbox.statusOf('outcome:8'), { status: 'pending', lastError: 'HTTP_503' });
    await db().query(`UPDATE outbox SET due_at = now() - interval '1 second'`);
    const [second] = await outbox.claimDue(10, 30);
    assert.equal(second?.attempts, 2);
    await outbox.giveUp(second!, 'undeliverable', 'HTTP_403');
    assert.deepEqual(await outbox.statusOf('outcome:8'), { status: 'undeliverable', lastError: 'HTTP_403' });
    await db().query(`UPDATE outbox SET due_at = now() - interval '1 second'`);
    assert.deepEqual(await outbox.claimDue(10, 30), []);
  });

  it('fences a claim that lapsed: the worker that lost the row can neither send nor settle it', async () => {
    const outbox = new Outbox(db());
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:11', recipient: 'u5' });
    const [slow] = await outbox.claimDue(10, 30);
    // The slow worker's lease runs out while it waits on Teams; another instance claims the row.
    await db().query(`UPDATE outbox SET lease_until = now() - interval '1 second'`);
    const [fast] = await outbox.claimDue(10, 30);
    assert.ok(fast && fast.claimToken !== slow!.claimToken);
    assert.equal(await outbox.stillHeld(slow!, 30), false, 'the slow worker must not send');
    assert.equal(await outbox.stillHeld(fast, 30), true);
    await outbox.giveUp(slow!, 'undeliverable', 'HTTP_403');
    await outbox.retryLater(slow!, 600, 'HTTP_503');
    assert.deepEqual(await outbox.statusOf('outcome:11'), { status: 'pending', lastError: null }, 'the lapsed claim changed nothing');
    await outbox.markDelivered(fast);
    assert.equal((await outbox.statusOf('outcome:11'))?.status, 'delivered');
  });

  it('gives failed rows another round after a rest, but not those Teams refused for good', async () => {
    const outbox = new Outbox(db());
    await outbox.enqueue({ kind: 'ops.post', dedupeKey: 'ops.post:12' });
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:12', recipient: 'u6' });
    const [post, outcome] = await outbox.claimDue(10, 30);
    await outbox.giveUp(post!, 'failed', 'HTTP_503');
    await outbox.giveUp(outcome!, 'undeliverable', 'HTTP_403');
    assert.equal(await outbox.rearmFailed(3600), 0, 'not rested yet');
    await db().query(`UPDATE outbox SET due_at = now() - interval '2 hours'`);
    assert.equal(await outbox.rearmFailed(3600), 1);
    assert.equal((await outbox.statusOf('ops.post:12'))?.status, 'pending');
    assert.equal((await outbox.statusOf('outcome:12'))?.status, 'undeliverable');
  });

  it('wakes what was waiting for a chat when that chat becomes known', async () => {
    const outbox = new Outbox(db());
    await outbox.enqueue({ kind: 'outcome', dedupeKey: 'outcome:9', recipient: 'u3' });
    const [waiting] = await outbox.claimDue(10, 30);
    await outbox.retryLater(waiting!, 3600, 'NO_CONVERSATION', false);
    assert.equal(await outbox.nudgeRecipient('someone-else'), 0);
    assert.equal(await outbox.nudgeRecipient('u3'), 1);
    const [again] = await outbox.claimDue(10, 30);
    assert.equal(again?.attempts, 1, 'waiting for a chat is nobody’s failure: no attempt counted');
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
    assert.deepEqual(owed.map((row) => row.dedupe_key), [dedupeKeys.screeningResults(job.id, 1)]);
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
    assert.deepEqual(owed.map((row) => row.dedupe_key), [dedupeKeys.screeningResults('draft-2:1', 1), dedupeKeys.screeningResults('draft-2:1', 2)]);
  });
});

describeOnEachDatabase('dialog state (eTag read at the start of the turn)', (db) => {
  const turn = (conversationId: string) => {
    const adapter = new TestAdapter(async () => undefined);
    return new TurnContext(adapter, { type: 'message', channelId: 'msteams', conversation: { id: conversationId } } as Activity);
  };

  it('lets only one of two concurrent turns of a conversation advance it', async () => {
    const store = new DialogStateStore(new SqlStorage(db()));
    const first = turn('c1');
    const second = turn('c1');
    const [a, b] = await Promise.all([store.get(first, { dialogStack: [] }), store.get(second, { dialogStack: [] })]);
    a.dialogStack.push({ id: 'from-first', state: {} });
    b.dialogStack.push({ id: 'from-second', state: {} });
    await store.save(first);
    await assert.rejects(store.save(second), { code: 'STORAGE_CONFLICT' });
    const later = turn('c1');
    assert.deepEqual((await store.get(later)).dialogStack.map((entry) => entry.id), ['from-first']);
    (await store.get(later)).dialogStack.push({ id: 'next', state: {} });
    await store.save(later);
    assert.deepEqual((await store.get(turn('c1'))).dialogStack.map((entry) => entry.id), ['from-first', 'next']);
  });

  it('writes nothing for a turn that changed nothing', async () => {
    const store = new DialogStateStore(new SqlStorage(db()));
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

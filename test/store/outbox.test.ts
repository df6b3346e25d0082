import assert from 'node:assert/strict';
import { TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { DialogStateStore } from '../../bot/state/dialog-state';
import { SqlStorage } from '../../bot/state/sql-storage';
import { openPostgres } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { Outbox, dedupeKeys, enqueue } from '../../services/store/outbox';
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

import assert from 'node:assert/strict';
import type { Logger } from '../../core/log';
import {
  classifyFailure,
  DEFAULT_DELIVERY_POLICY,
  DeliveryEngine,
  DeliveryFailure,
  Never,
  NotYet,
  type DeliveryHandler,
  type DeliveryHandlers,
  type DeliveryPolicy,
  type Verdict,
} from '../../services/outbox/delivery-engine';
import { owed, owedContent, readOwedContent } from '../../services/outbox/owed-messages';
import type { SqlDatabase } from '../../services/store/database';
import { Outbox, type Delivery } from '../../services/store/outbox';
import { SqlSendBudget } from '../../services/store/send-budget';
import type { PacingLimits, ProbePolicy, SendDestination } from '../../services/outbox/send-pacing';
import { pgliteDatabase } from '../support/databases';
import { RollingLimits } from '../support/teams-rate-limits';

describe('the delivery engine’s classification of failures', () => {
  const cases: Array<[string, DeliveryFailure | undefined, Verdict]> = [
    ['403 (blocked, removed): undeliverable at once', new DeliveryFailure(403, undefined), { action: 'give-up', as: 'undeliverable', code: 'HTTP_403' }],
    ['404 (gone): undeliverable at once', new DeliveryFailure(404, undefined), { action: 'give-up', as: 'undeliverable', code: 'HTTP_404' }],
    ['400: failed at once, the same request fails the same way', new DeliveryFailure(400, undefined), { action: 'give-up', as: 'failed', code: 'HTTP_400' }],
    ['413: failed at once', new DeliveryFailure(413, undefined), { action: 'give-up', as: 'failed', code: 'HTTP_413' }],
    ['429 with Retry-After: waits it out, counting no attempt', new DeliveryFailure(429, 42), { action: 'wait', code: 'HTTP_429', seconds: 42 }],
    ['429 without Retry-After: waits the back-off, counting no attempt', new DeliveryFailure(429, undefined), { action: 'wait', code: 'HTTP_429' }],
    ['412: retried with back-off', new DeliveryFailure(412, undefined), { action: 'retry', code: 'HTTP_412' }],
    ['503 (Retry-After ignored outside 429): retried with back-off', new DeliveryFailure(503, 5), { action: 'retry', code: 'HTTP_503' }],
    ['no answer: retried as CONNECTOR_UNREACHABLE', new DeliveryFailure(undefined, undefined), { action: 'retry', code: 'CONNECTOR_UNREACHABLE' }],
    ['not a failure of the call (a bug, the store): retried as DELIVERY_FAILED', undefined, { action: 'retry', code: 'DELIVERY_FAILED' }],
  ];
  for (const [name, failure, verdict] of cases) it(name, () => assert.deepEqual(classifyFailure(failure), verdict));
});

describe('owed message payloads (one schema per kind)', () => {
  it('accepts what each constructor writes', () => {
    const written = [
      owed.opsPost(1),
      owed.opsUpdate(1),
      owed.outcome(1, 'u'),
      owed.completion(1, 'u'),
      owed.question(1, 'u', 7),
      owed.questionChase(1, 'u', 7),
      owed.opsChase(1, 2, 6),
      owed.screeningResults('draft:1', 1, 'u'),
      owed.opsDelayed(1, 'u'),
      owed.opsAnswer(1, 7),
    ];
    assert.equal(Object.keys(owed).length, owedContent.options.length, 'every kind has a constructor');
    assert.equal(new Set(written.map((message) => message.kind)).size, written.length);
    for (const message of written)
      assert.ok(owedContent.safeParse({ kind: message.kind, payload: JSON.parse(JSON.stringify(message.payload ?? {})) }).success, message.kind);
  });

  it('keys each message by what makes it owed once', () => {
    assert.deepEqual(
      [owed.opsPost(3), owed.opsChase(3, 2, 9), owed.question(3, 'u', 8), owed.opsAnswer(3, 8), owed.screeningResults('d:1', 2, 'u')].map(
        (message) => message.dedupeKey,
      ),
      ['ops.post:3', 'ops.chase:3:2', 'question:8', 'ops.answer:8', 'screening.results:d:1:2'],
    );
  });

  const bad: Array<[string, string, unknown, string[]]> = [
    ['a question id that is not a number', 'question', { questionId: 'x' }, ['payload.questionId: invalid_type']],
    ['a question chase with no question', 'question.chase', {}, ['payload.questionId: invalid_type']],
    ['an answer with a fractional question id', 'ops.answer', { questionId: 1.5 }, ['payload.questionId: invalid_type']],
    ['a reminder with no working days', 'ops.chase', { reminder: 1 }, ['payload.workingDays: invalid_type']],
    ['screening results with an empty job id', 'screening.results', { jobId: '', run: 1 }, ['payload.jobId: too_small']],
    ['a payload that is not an object', 'ops.post', 'hello', ['payload: invalid_type']],
    ['a kind nobody owes', 'ops.mystery', {}, ['kind: invalid_union']],
  ];
  for (const [name, kind, payload, problems] of bad) {
    it(`refuses ${name}, naming where without the value`, () => assert.deepEqual(readOwedContent(kind, payload), { ok: false, problems }));
  }

  it('reads an older row with extra keys, and a reminder with no number', () => {
    assert.deepEqual(readOwedContent('ops.chase', { workingDays: 4, note: 'old' }), { ok: true, content: { kind: 'ops.chase', payload: { workingDays: 4 } } });
    assert.deepEqual(readOwedContent('outcome', { legacy: true }), { ok: true, content: { kind: 'outcome', payload: {} } });
  });
});

interface Logged {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Logged[]): Logger {
  const at =
    (level: string) =>
    (event: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, event, fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The same handler for every kind: the engine is the subject here, not what a kind does. */
function everyKind(handler: DeliveryHandler<Delivery>): DeliveryHandlers {
  const kinds = owedContent.options.map((option) => option.shape.kind.value);
  return Object.fromEntries(kinds.map((kind) => [kind, handler])) as DeliveryHandlers;
}

describe('the delivery engine (against the outbox on PGlite)', function () {
  // One database for the suite (opening and migrating one costs seconds); each test starts with an empty outbox.
  this.timeout(60_000);
  let db: SqlDatabase;
  let outbox: Outbox;
  let logged: Logged[];
  before(async () => {
    db = await pgliteDatabase().open();
    outbox = new Outbox(db);
  });
  after(() => db?.close());
  beforeEach(async () => {
    await db.query('DELETE FROM outbox');
    logged = [];
  });

  const policy: DeliveryPolicy = { ...DEFAULT_DELIVERY_POLICY, maxAttempts: 3, baseBackoffSeconds: 8, leaseSeconds: 30, sendTimeoutSeconds: 0.2 };
  const engine = (handler: DeliveryHandler<Delivery>, overrides: Partial<DeliveryPolicy> = {}) =>
    new DeliveryEngine(
      outbox,
      everyKind(handler),
      (error) => (error instanceof DeliveryFailure ? error : new DeliveryFailure(undefined, undefined)),
      recordingLogger(logged),
      { ...policy, ...overrides },
      () => 0,
    );
  const oweResults = (job: string) => outbox.enqueue(owed.screeningResults(job, 1, 'u1'));
  const row = async (job: string) =>
    (
      await db.query<{ status: string; last_error: string | null; attempts: number; wait: number }>(
        `SELECT status, last_error, attempts, round(extract(epoch FROM due_at - now()))::int AS wait FROM outbox WHERE dedupe_key = $1`,
        [`screening.results:${job}:1`],
      )
    )[0];
  const failingWith = (failure: DeliveryFailure, gaveUp: string[] = []): DeliveryHandler<Delivery> => ({
    deliver: async (_delivery, call) => call(() => Promise.reject(failure)),
    gaveUp: async (_tx, _delivery, code) => {
      gaveUp.push(code);
    },
  });

  it('a sent message stays sent when waking the backlog after it fails: never given up, its give-up never run', async () => {
    await oweResults('last');
    // Its last attempt: two real failures before, so a failure now would give it up.
    await db.query(`UPDATE outbox SET attempts = 2, last_error = 'HTTP_503' WHERE dedupe_key = 'screening.results:last:1'`);
    const gaveUp: string[] = [];
    const answering: DeliveryHandler<Delivery> = {
      deliver: async (_delivery, call) => {
        await call(async () => undefined);
        return undefined;
      },
      gaveUp: async (_tx, _delivery, code) => {
        gaveUp.push(code);
      },
    };
    const failingWake = Object.assign(Object.create(outbox) as Outbox, {
      wakeBackedOff: () => Promise.reject(new Error('connection terminated')),
    });
    const worker = new DeliveryEngine(
      failingWake,
      everyKind(answering),
      (error) => (error instanceof DeliveryFailure ? error : new DeliveryFailure(undefined, undefined)),
      recordingLogger(logged),
      policy,
      () => 0,
    );
    await worker.deliverDue();
    assert.equal((await row('last'))!.status, 'delivered');
    assert.deepEqual(gaveUp, []);
    assert.ok(logged.some((line) => line.event === 'delivery.backlog_wake_failed'));
    assert.ok(!logged.some((line) => line.event === 'delivery.gave_up'));
  });

  it('waits out a 429’s Retry-After without counting an attempt', async () => {
    await oweResults('a');
    assert.equal(await engine(failingWith(new DeliveryFailure(429, 30))).deliverDue(), true);
    const after = await row('a');
    assert.deepEqual({ ...after, wait: undefined }, { status: 'pending', last_error: 'HTTP_429', attempts: 0, wait: undefined });
    assert.ok(after!.wait >= 28 && after!.wait <= 30, `due again in about 30 s, not ${after!.wait}`);
  });

  it('never gives a message up for 429s, however many, and still gives up after the real failures run out', async () => {
    await oweResults('a2');
    const gaveUp: string[] = [];
    // Twenty 429s (seven times the attempts allowed) with a 503 after every fifth: only the 503s are attempts.
    let calls = 0;
    const worker = engine({
      deliver: async (_delivery, call) => call(() => Promise.reject(++calls % 5 === 0 ? new DeliveryFailure(503, undefined) : new DeliveryFailure(429, 1))),
      gaveUp: async (_tx, _delivery, code) => {
        gaveUp.push(code);
      },
    });
    for (let round = 0; round < 14; round++) {
      await worker.deliverDue();
      await db.query(`UPDATE outbox SET due_at = now() - interval '1 second' WHERE status = 'pending'`);
    }
    assert.equal(calls, 14);
    assert.deepEqual(
      { ...(await row('a2')), wait: undefined },
      { status: 'pending', last_error: 'HTTP_429', attempts: 2, wait: undefined },
      'eleven 429s and two 503s: still owed',
    );
    for (let round = 0; round < 10 && (await row('a2'))!.status === 'pending'; round++) {
      await worker.deliverDue();
      await db.query(`UPDATE outbox SET due_at = now() - interval '1 second' WHERE status = 'pending'`);
    }
    assert.equal(calls, 15, 'given up at the third real failure (maxAttempts 3), not before');
    assert.deepEqual({ ...(await row('a2')), wait: undefined }, { status: 'failed', last_error: 'HTTP_503', attempts: 3, wait: undefined });
    assert.deepEqual(gaveUp, ['HTTP_503']);
  });

  it('backs off exponentially, and gives up as failed after the attempts run out, writing the kind’s give-up', async () => {
    await oweResults('b');
    const gaveUp: string[] = [];
    const worker = engine(failingWith(new DeliveryFailure(503, undefined), gaveUp));
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      await worker.deliverDue();
      const after = await row('b');
      waits.push(after!.wait);
      await db.query(`UPDATE outbox SET due_at = now() - interval '1 second' WHERE status = 'pending'`);
    }
    // With no jitter drawn (random 0), each wait is half the ceiling: 8 s, then 16 s.
    assert.deepEqual(waits.slice(0, 2), [4, 8]);
    assert.deepEqual({ ...(await row('b')), wait: undefined }, { status: 'failed', last_error: 'HTTP_503', attempts: 3, wait: undefined });
    assert.deepEqual(gaveUp, ['HTTP_503']);
    assert.deepEqual(
      logged.filter((line) => line.event.startsWith('delivery.')).map((line) => line.event),
      ['delivery.retrying', 'delivery.retrying', 'delivery.gave_up'],
    );
  });

  it('gives up at once on a refusal for good, writing the kind’s give-up', async () => {
    await oweResults('c');
    const gaveUp: string[] = [];
    await engine(failingWith(new DeliveryFailure(403, undefined), gaveUp)).deliverDue();
    assert.deepEqual({ ...(await row('c')), wait: undefined }, { status: 'undeliverable', last_error: 'HTTP_403', attempts: 1, wait: undefined });
    assert.deepEqual(gaveUp, ['HTTP_403']);
  });

  it('abandons a call that does not answer in time (core/deadline) and retries it', async () => {
    await oweResults('d');
    const started = Date.now();
    await engine({ deliver: async (_delivery, call) => call(() => new Promise<never>(() => undefined)) }).deliverDue();
    assert.ok(Date.now() - started < 5_000, 'not held past the send timeout');
    assert.deepEqual({ ...(await row('d')), wait: undefined }, { status: 'pending', last_error: 'CONNECTOR_UNREACHABLE', attempts: 1, wait: undefined });
  });

  it('counts no attempt for a message not yet deliverable, or one the kind reads as a wait; gives up one no longer owed without the give-up', async () => {
    await oweResults('e');
    await oweResults('f');
    await oweResults('g');
    const gaveUp: string[] = [];
    await engine({
      deliver: async (delivery, call) => {
        const job = delivery.kind === 'screening.results' ? delivery.payload.jobId : '';
        if (job === 'e') throw new NotYet('NO_CONVERSATION', 600);
        if (job === 'f') throw new Never('SUPERSEDED');
        return call(() => Promise.reject(new DeliveryFailure(403, undefined)));
      },
      reclassify: async (_delivery, failure) => (failure.status === 403 ? { action: 'wait', code: 'CHANNEL_OUT', seconds: 3600 } : undefined),
      gaveUp: async (_tx, _delivery, code) => {
        gaveUp.push(code);
      },
    }).deliverDue();
    assert.deepEqual({ ...(await row('e')), wait: undefined }, { status: 'pending', last_error: 'NO_CONVERSATION', attempts: 0, wait: undefined });
    assert.deepEqual({ ...(await row('f')), wait: undefined }, { status: 'undeliverable', last_error: 'SUPERSEDED', attempts: 1, wait: undefined });
    assert.deepEqual({ ...(await row('g')), wait: undefined }, { status: 'pending', last_error: 'CHANNEL_OUT', attempts: 0, wait: undefined });
    assert.deepEqual(gaveUp, [], 'neither a wait nor a message no longer owed is a failure');
  });

  it('settles a delivery and what it owes in one transaction', async () => {
    await oweResults('h');
    await engine({
      deliver: async (_delivery, call) => {
        await call(async () => 'sent');
        return async (tx) => {
          await tx.query(`INSERT INTO outbox (dedupe_key, kind, payload) VALUES ('ops.update:settled', 'ops.update', '{}'::jsonb)`);
        };
      },
    }).deliverDue();
    assert.equal((await row('h'))?.status, 'delivered');
    assert.equal((await outbox.statusOf('ops.update:settled'))?.status, 'pending');
  });

  it('sends nothing once its claim has lapsed to another worker', async () => {
    await oweResults('i');
    let sent = 0;
    await engine({
      deliver: async (_delivery, call) => {
        // Another instance takes the row while this one was getting ready.
        await db.query(`UPDATE outbox SET claim_token = 'someone-else'`);
        await call(async () => sent++);
        return undefined;
      },
    }).deliverDue();
    assert.equal(sent, 0);
    assert.deepEqual(
      logged.map((line) => line.event),
      ['delivery.claim_lost'],
    );
  });

  it('gives a tampered row up as PAYLOAD_INVALID, logs where (not what), and delivers the rest', async () => {
    await oweResults('j');
    await outbox.enqueue(owed.screeningResults('k', 1, 'u1'));
    await db.query(`UPDATE outbox SET payload = '{"jobId": "j", "run": "07700 900123"}'::jsonb WHERE dedupe_key = 'screening.results:j:1'`);
    const delivered: string[] = [];
    const found = await engine({
      deliver: async (delivery, call) => {
        if (delivery.kind === 'screening.results') delivered.push(delivery.payload.jobId);
        await call(async () => 'sent');
        return undefined;
      },
    }).deliverDue();
    assert.equal(found, true);
    assert.deepEqual(delivered, ['k']);
    assert.deepEqual(await outbox.statusOf('screening.results:j:1'), { status: 'failed', lastError: 'PAYLOAD_INVALID' });
    const [report] = logged.filter((line) => line.event === 'delivery.payload_invalid');
    assert.equal(report?.level, 'error');
    assert.deepEqual(report?.fields.problems, ['payload.run: invalid_type']);
    assert.ok(!JSON.stringify(logged).includes('07700'), 'the value is not logged');
  });

  it('hands back the rest of the batch when stopped, without counting an attempt', async () => {
    await oweResults('l');
    await oweResults('m');
    const worker: DeliveryEngine = engine({
      deliver: async (_delivery, call) => {
        worker.stop();
        await call(async () => 'sent');
        return undefined;
      },
    });
    assert.equal(await worker.deliverDue(), false);
    assert.equal((await row('l'))?.status, 'delivered');
    assert.deepEqual({ ...(await row('m')), wait: undefined }, { status: 'pending', last_error: null, attempts: 0, wait: undefined });
    assert.equal((await outbox.claimDue(10, 30)).length, 1, 'at once, not after its lease');
  });

  it('after an outage, the first accepted send makes what waits out back-off for that destination due now; it drains within pacing, no 429', async () => {
    // Small windows so the drain is quick: 2 a second to a chat. Teams (the fake) enforces them without the margin.
    const limits: PacingLimits = { conversation: [{ seconds: 1, sends: 2 }], tenant: [{ seconds: 1, sends: 50 }], marginMs: 50 };
    const teams = new RollingLimits(limits);
    await db.query('DELETE FROM send_budget');
    let down = true;
    const sends: Array<{ status: number; key: string }> = [];
    const connector: DeliveryHandler<Delivery> = {
      deliver: async (delivery, call) => {
        const to: SendDestination = { conversation: `a:${delivery.recipient}`, tenant: 'tenant' };
        await call(async () => {
          const status = down ? 503 : teams.admit(to, Date.now()) ? 200 : 429;
          sends.push({ status, key: `${delivery.kind}:${delivery.id}` });
          if (status !== 200) throw new DeliveryFailure(status, status === 429 ? 1 : undefined);
        }, to);
        return undefined;
      },
    };
    const worker = new DeliveryEngine(
      outbox,
      everyKind(connector),
      (error) => (error instanceof DeliveryFailure ? error : new DeliveryFailure(undefined, undefined)),
      recordingLogger(logged),
      { ...policy, batchSize: 1 },
      () => 0.5,
      // No probe interval: each row retries on its own back-off, as where nothing holds them (the next tests are about the probing).
      new SqlSendBudget(db, limits, { minSeconds: 0, maxSeconds: 0, fractionOfOutage: 0, leaseSeconds: 0 }),
    );
    // Six messages to one chat, one to another.
    for (let job = 1; job <= 6; job++) await outbox.enqueue(owed.screeningResults(`job${job}`, 1, 'u1'));
    await outbox.enqueue(owed.screeningResults('elsewhere', 1, 'u2'));
    // That service is down: every message fails once and backs off (6 s, with the jitter drawn at 0.5).
    while (sends.length < 7) await worker.deliverDue();
    assert.ok(sends.every((send) => send.status === 503));
    // One of them Teams throttled instead: it waits what Teams said, outage or not.
    await db.query(`UPDATE outbox SET last_error = 'HTTP_429' WHERE dedupe_key = 'screening.results:job6:1'`);
    const waiting = async () =>
      (
        await db.query<{ key: string; due: boolean; status: string }>(
          `SELECT dedupe_key AS key, due_at <= now() AS due, status FROM outbox ORDER BY dedupe_key`,
        )
      ).map((row) => `${row.key} ${row.status === 'delivered' ? 'delivered' : row.due ? 'due' : 'backing off'}`);
    assert.deepEqual(await waiting(), [
      'screening.results:elsewhere:1 backing off',
      'screening.results:job1:1 backing off',
      'screening.results:job2:1 backing off',
      'screening.results:job3:1 backing off',
      'screening.results:job4:1 backing off',
      'screening.results:job5:1 backing off',
      'screening.results:job6:1 backing off',
    ]);

    // It answers again; the first row's back-off runs out and it goes.
    down = false;
    await db.query(`UPDATE outbox SET due_at = now() - interval '1 second' WHERE dedupe_key = 'screening.results:job1:1'`);
    // (The sends refused while it was down still count in the send budget: it may first wait for a slot.)
    for (let round = 0; round < 10 && !(await waiting()).includes('screening.results:job1:1 delivered'); round++) await worker.deliverDue();
    assert.deepEqual(await waiting(), [
      'screening.results:elsewhere:1 backing off',
      'screening.results:job1:1 delivered',
      'screening.results:job2:1 due',
      'screening.results:job3:1 due',
      'screening.results:job4:1 due',
      'screening.results:job5:1 due',
      'screening.results:job6:1 backing off',
    ]);
    assert.equal(logged.find((line) => line.event === 'delivery.backlog_woken')?.fields.rows, 4);

    // They drain as pacing allows (2 a second), none throttled.
    const started = Date.now();
    const drained = async () => (await waiting()).filter((line) => line.endsWith(' delivered')).length === 5;
    while (!(await drained()) && Date.now() - started < 10_000) await worker.deliverDue();
    assert.deepEqual((await waiting()).slice(1, 6), [
      'screening.results:job1:1 delivered',
      'screening.results:job2:1 delivered',
      'screening.results:job3:1 delivered',
      'screening.results:job4:1 delivered',
      'screening.results:job5:1 delivered',
    ]);
    assert.equal(sends.filter((send) => send.status === 429).length, 0, 'no 429');
    assert.ok(Date.now() - started < 5000, `drained in ${Date.now() - started} ms, paced, not backed off`);
  });

  describe('while a destination is down (two instances, one send budget)', () => {
    // Wide windows, so that only the probing limits what goes; a fixed probe interval of a minute, so that no
    // probe falls due while the test runs: the test moves the ledger's clock instead (no timings asserted).
    const limits: PacingLimits = { conversation: [{ seconds: 1, sends: 50 }], tenant: [{ seconds: 1, sends: 100 }], marginMs: 0 };
    const probing: ProbePolicy = { minSeconds: 60, maxSeconds: 60, fractionOfOutage: 0, leaseSeconds: 60 };
    const chat = (recipient: string | null): SendDestination => ({ conversation: `a:${recipient}`, tenant: 'tenant' });

    /** A fake Bot Connector for two chats: u1's answers 503 while `down`, u2's always answers. Records every request. */
    function connector() {
      const state = { down: true, requests: [] as Array<{ to: string; status: number; key: string }> };
      const handler: DeliveryHandler<Delivery> = {
        deliver: async (delivery, call) => {
          const to = chat(delivery.recipient);
          await call(async () => {
            const status = state.down && delivery.recipient === 'u1' ? 503 : 200;
            state.requests.push({ to: delivery.recipient ?? '', status, key: delivery.kind === 'screening.results' ? delivery.payload.jobId : '' });
            if (status !== 200) throw new DeliveryFailure(status, undefined);
          }, to);
          return undefined;
        },
      };
      return { state, handler };
    }
    const instances = (handler: DeliveryHandler<Delivery>, overrides: Partial<DeliveryPolicy> = {}) =>
      [0, 1].map(
        () =>
          new DeliveryEngine(
            new Outbox(db),
            everyKind(handler),
            (error) => (error instanceof DeliveryFailure ? error : new DeliveryFailure(undefined, undefined)),
            recordingLogger(logged),
            { ...policy, batchSize: 10, ...overrides },
            () => 0.5,
            new SqlSendBudget(db, limits, probing),
          ),
      );
    /** Both instances poll until neither finds anything due. */
    const pollBoth = async (engines: DeliveryEngine[]) => {
      for (let round = 0; round < 20; round++) {
        const found = await Promise.all(engines.map((engine) => engine.deliverDue()));
        if (!found.some(Boolean)) return;
      }
    };
    /** The time a probe interval takes, passed: the ledger and the back-offs a minute older. */
    const aMinuteLater = async () => {
      await db.query(`UPDATE send_budget SET sent_at = sent_at - interval '61 seconds'`);
      await db.query(`UPDATE outbox SET due_at = due_at - interval '61 seconds' WHERE status = 'pending'`);
    };
    const rows = async () =>
      (
        await db.query<{ job: string; status: string; attempts: number; last_error: string | null }>(
          `SELECT payload->>'jobId' AS job, status, attempts, last_error FROM outbox ORDER BY id`,
        )
      ).map((row) => `${row.job} ${row.status} attempts=${row.attempts} ${row.last_error ?? ''}`.trim());

    beforeEach(() => db.query('DELETE FROM send_budget'));

    it('tries one request at a time there, whatever the backlog; the rest wait for it, counting no attempt; the first taken makes them all go, each once', async () => {
      const { state, handler } = connector();
      const engines = instances(handler);
      for (let job = 1; job <= 6; job++) await outbox.enqueue(owed.screeningResults(`job${job}`, 1, 'u1'));
      await outbox.enqueue(owed.screeningResults('elsewhere', 1, 'u2'));

      // Down: one request finds it out; the other five wait for the next probe, not each for its own back-off.
      await pollBoth(engines);
      assert.deepEqual(
        state.requests.map((request) => `${request.key} ${request.status}`),
        ['job1 503', 'elsewhere 200'],
      );
      assert.deepEqual(await rows(), [
        'job1 pending attempts=1 HTTP_503',
        'job2 pending attempts=0 WAITING_FOR_SERVICE',
        'job3 pending attempts=0 WAITING_FOR_SERVICE',
        'job4 pending attempts=0 WAITING_FOR_SERVICE',
        'job5 pending attempts=0 WAITING_FOR_SERVICE',
        'job6 pending attempts=0 WAITING_FOR_SERVICE',
        'elsewhere delivered attempts=1',
      ]);

      // Still down a probe interval later: one more request, by either instance, from the row due longest (job1:
      // its own back-off ran out before the probe interval; no row is tried sooner than its own back-off allows).
      await aMinuteLater();
      await pollBoth(engines);
      assert.deepEqual(
        state.requests.slice(2).map((request) => `${request.key} ${request.status}`),
        ['job1 503'],
      );

      // It answers again. The probe interval passes and job1's back-off runs out, and only that: what waits for the
      // probe is due a probe interval from now. The probe is taken, and at once everything owed there goes (not a
      // probe interval or a back-off later), each once.
      state.down = false;
      await db.query(`UPDATE send_budget SET sent_at = sent_at - interval '61 seconds'`);
      await db.query(`UPDATE outbox SET due_at = now() WHERE payload->>'jobId' = 'job1'`);
      assert.deepEqual(
        (await db.query<{ job: string }>(`SELECT payload->>'jobId' AS job FROM outbox WHERE status = 'pending' AND due_at <= now()`)).map((row) => row.job),
        ['job1'],
      );
      await pollBoth(engines);
      const afterwards = state.requests.slice(3).map((request) => `${request.key} ${request.status}`);
      assert.equal(afterwards[0], 'job1 200', 'the probe');
      // The rest, by both instances in whatever order they took them.
      assert.deepEqual(afterwards.slice(1).sort(), ['job2 200', 'job3 200', 'job4 200', 'job5 200', 'job6 200']);
      assert.deepEqual(await rows(), [
        'job1 delivered attempts=3',
        'job2 delivered attempts=1',
        'job3 delivered attempts=1',
        'job4 delivered attempts=1',
        'job5 delivered attempts=1',
        'job6 delivered attempts=1',
        'elsewhere delivered attempts=1',
      ]);
      assert.equal((await db.query(`SELECT 1 FROM send_budget WHERE scope LIKE 'down:%'`)).length, 0, 'no longer marked down');
    });

    it('still gives a message up after its attempts, when it is the only one there', async () => {
      const { state, handler } = connector();
      const engines = instances(handler);
      await outbox.enqueue(owed.screeningResults('alone', 1, 'u1'));
      for (let round = 0; round < 3; round++) {
        await pollBoth(engines);
        await aMinuteLater();
      }
      assert.deepEqual(
        state.requests.map((request) => request.status),
        [503, 503, 503],
      );
      assert.deepEqual(await rows(), ['alone failed attempts=3 HTTP_503']);
    });
  });
});

import assert from 'node:assert/strict';
import { type PacingLimits, type ProbePolicy, type Reservation } from '../../services/outbox/send-pacing';
import type { SqlDatabase } from '../../services/store/database';
import { conversationKeptSeconds, SqlSendBudget } from '../../services/store/send-budget';
import { leastTimeMs, RollingLimits } from '../support/teams-rate-limits';
import { describeOnEachDatabase } from '../support/databases';
import { TEAMS_DOCUMENTED_LIMITS } from '../../services/outbox/send-pacing';
import { EXCHANGE_ONLINE_SENDING_LIMITS } from '../../services/duties/mail-pacing';

const LIMITS: PacingLimits = {
  conversation: [
    { seconds: 1, sends: 2 },
    { seconds: 10, sends: 3 },
  ],
  tenant: [{ seconds: 1, sends: 5 }],
  marginMs: 0,
};

/** Rows of requests already sent to `scope`, `secondsAgo` each (by the database's clock), each standing for `requests` (a flush of replies). */
async function sentBefore(db: SqlDatabase, scope: string, secondsAgo: number[], requests = 1): Promise<void> {
  await db.query(
    `INSERT INTO send_budget (scope, sent_at, requests) SELECT $1, clock_timestamp() - make_interval(secs => ago), $3 FROM unnest($2::float8[]) AS ago`,
    [scope, secondsAgo, requests],
  );
}

interface Case {
  name: string;
  limits?: PacingLimits;
  /** Rows already written: each `secondsAgo`, standing for `requests` requests (1 unless given). */
  before: Array<[scope: string, secondsAgo: number[], requests?: number]>;
  to?: { conversation: string; tenant: string };
  /** undefined: granted now; else the wait, in ms, until a slot frees. */
  waitMs?: number;
}

const CHANNEL = '19:ops@thread.tacv2';
const cases: Case[] = [
  { name: 'nothing sent yet: granted', before: [] },
  { name: 'one of two in the last second: granted', before: [[`conversation:${CHANNEL}`, [0.5]]] },
  { name: 'two in the last second: waits for the older to leave the window', before: [[`conversation:${CHANNEL}`, [0.2, 0.6]]], waitMs: 400 },
  { name: 'requests older than a window do not count in it', before: [[`conversation:${CHANNEL}`, [1.2, 1.5]]] },
  { name: 'three in ten seconds: waits for the third most recent to leave the longer window', before: [[`conversation:${CHANNEL}`, [2, 5, 8]]], waitMs: 2000 },
  { name: 'both windows full: the later moment wins', before: [[`conversation:${CHANNEL}`, [0.1, 0.3, 9.5]]], waitMs: 700 },
  {
    name: 'a channel’s thread counts as the channel',
    before: [[`conversation:${CHANNEL}`, [0.2, 0.6]]],
    to: { conversation: `${CHANNEL};messageid=1712`, tenant: 't1' },
    waitMs: 400,
  },
  { name: 'another conversation has its own budget', before: [[`conversation:${CHANNEL}`, [0.2, 0.6]]], to: { conversation: 'a:chat', tenant: 't1' } },
  { name: 'the tenant’s budget is shared by every conversation in it', before: [[`tenant:t1`, [0.1, 0.2, 0.3, 0.4, 0.9]]], waitMs: 100 },
  { name: 'another tenant has its own', before: [[`tenant:t2`, [0.1, 0.2, 0.3, 0.4, 0.9]]] },
  { name: 'a row standing for two replies fills the one-second window of two', before: [[`conversation:${CHANNEL}`, [0.6], 2]], waitMs: 400 },
  { name: 'a row of three counts three times in the ten-second window', before: [[`conversation:${CHANNEL}`, [3], 3]], waitMs: 7000 },
  {
    name: 'rows count by their requests, newest first: the third most recent of 2, 6, 6 and 8 s ago went 6 s ago',
    before: [
      [`conversation:${CHANNEL}`, [2, 8]],
      [`conversation:${CHANNEL}`, [6], 2],
    ],
    waitMs: 4000,
  },
  { name: 'a flush of five replies fills the tenant’s second', before: [[`tenant:t1`, [0.9], 5]], waitMs: 100 },
  {
    name: 'the margin widens every window',
    limits: { ...LIMITS, marginMs: 300 },
    before: [[`conversation:${CHANNEL}`, [0.9, 1.1]]],
    waitMs: 200,
  },
];

describeOnEachDatabase('send budget (the pacing ledger)', (db) => {
  for (const example of cases) {
    it(example.name, async () => {
      for (const [scope, ago, requests] of example.before) await sentBefore(db(), scope, ago, requests);
      const reservation = await new SqlSendBudget(db(), example.limits ?? LIMITS).reserve(example.to ?? { conversation: CHANNEL, tenant: 't1' });
      if (example.waitMs === undefined) {
        assert.deepEqual(reservation, { granted: true });
        return;
      }
      assert.equal(reservation.granted, false);
      const waitMs = reservation.granted ? 0 : reservation.waitMs;
      // The database's clock moved on between writing the history and asking: the wait can only be shorter.
      assert.ok(waitMs <= example.waitMs + 1 && waitMs >= example.waitMs - 250, `wait ${waitMs} ms, expected about ${example.waitMs}`);
    });
  }

  it('writes a granted slot in the conversation and the tenant, and none when refused', async () => {
    const budget = new SqlSendBudget(db(), LIMITS);
    const to = { conversation: `${CHANNEL};messageid=9`, tenant: 't1' };
    const answers = [await budget.reserve(to), await budget.reserve(to), await budget.reserve(to)];
    assert.deepEqual(
      answers.map((answer) => answer.granted),
      [true, true, false],
    );
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, sum(requests)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(rows, [
      { scope: `conversation:${CHANNEL}`, count: 2 },
      { scope: 'tenant:t1', count: 2 },
    ]);
  });

  it('forgets what is older than the longest window', async () => {
    await sentBefore(db(), `conversation:${CHANNEL}`, [11, 30, 0.5]);
    await new SqlSendBudget(db(), LIMITS).reserve({ conversation: CHANNEL, tenant: 't1' });
    const [row] = await db().query<{ count: number }>(`SELECT sum(requests)::int AS count FROM send_budget WHERE scope = $1`, [`conversation:${CHANNEL}`]);
    assert.equal(row?.count, 2);
  });

  it('forgets each scope’s rows after its own longest window: a tenant’s after a second, a conversation’s after ten', async () => {
    await sentBefore(db(), `conversation:${CHANNEL}`, [3]);
    await sentBefore(db(), 'tenant:t1', [3, 0.5]);
    await new SqlSendBudget(db(), LIMITS).reserve({ conversation: CHANNEL, tenant: 't1' });
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, count(*)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(rows, [
      { scope: `conversation:${CHANNEL}`, count: 2 },
      { scope: 'tenant:t1', count: 2 },
    ]);
  });

  it('writes a flush of replies as one row per scope, holding how many went, dated by the newest of them', async () => {
    await new SqlSendBudget(db(), LIMITS).spentAll([
      { destination: { conversation: 'a:chat-1', tenant: 't1' }, requests: 2, ageMs: 800 },
      { destination: { conversation: 'a:chat-1', tenant: 't1' }, requests: 1, ageMs: 100 },
      { destination: { conversation: 'a:chat-2', tenant: 't1' }, requests: 1, ageMs: 0 },
    ]);
    const rows = await db().query<{ scope: string; rows: number; requests: number; age: number }>(
      `SELECT scope, count(*)::int AS rows, sum(requests)::int AS requests, extract(epoch FROM clock_timestamp() - max(sent_at))::float8 AS age
       FROM send_budget GROUP BY scope ORDER BY scope`,
    );
    assert.deepEqual(
      rows.map(({ scope, rows, requests }) => ({ scope, rows, requests })),
      [
        { scope: 'conversation:a:chat-1', rows: 1, requests: 3 },
        { scope: 'conversation:a:chat-2', rows: 1, requests: 1 },
        { scope: 'tenant:t1', rows: 1, requests: 4 },
      ],
    );
    const chat1 = rows[0]!.age;
    assert.ok(chat1 >= 0.1 && chat1 < 0.6, `chat 1's row dated by its newest reply (0.1 s before it was written): ${chat1} s ago`);
  });

  it('counts requests that already went (a turn’s replies) against the conversation and the tenant, so what is paced waits for them', async () => {
    const budget = new SqlSendBudget(db(), LIMITS, undefined, { conversationRowsCountForSeconds: conversationKeptSeconds(LIMITS) });
    await sentBefore(db(), `conversation:${CHANNEL}`, [30]);
    await budget.spent({ conversation: `${CHANNEL};messageid=9`, tenant: 't1' }, 2);
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, sum(requests)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(
      rows,
      [
        { scope: `conversation:${CHANNEL}`, count: 2 },
        { scope: 'tenant:t1', count: 2 },
      ],
      'two in each scope; the one older than every window is forgotten',
    );
    const reservation = await budget.reserve({ conversation: CHANNEL, tenant: 't1' });
    assert.equal(reservation.granted, false, 'two in the last second: the conversation’s 1 s window is full');
    await budget.spent({ conversation: 'a:chat', tenant: 't1' }, 0);
    assert.equal((await db().query('SELECT 1 FROM send_budget WHERE scope = $1', ['conversation:a:chat'])).length, 0, 'nothing went, nothing counted');
  });

  it('tidies conversations’ rows once a minute only past the age no ledger sharing the table counts them, and nothing else', async () => {
    // Teams' windows configured shorter than Exchange's minute: a mailbox's rows still count for 60.25 s.
    const teams: PacingLimits = { ...LIMITS, conversation: [{ seconds: 30, sends: 60 }] };
    const sharedFor = Math.max(conversationKeptSeconds(teams), conversationKeptSeconds(EXCHANGE_ONLINE_SENDING_LIMITS));
    const rowsBefore: Array<[string, number[]]> = [
      ['conversation:a:chat-old', [4000]],
      ['conversation:a:chat-recent', [50]],
      ['conversation:mailbox:u1', [40, 4000]],
      ['down:conversation:a:gone', [4000]],
      ['down-probe:conversation:a:gone', [4000]],
      ['ods:directory.spineservices.nhs.uk', [4000]],
      ['tenant:mailbox:u1', [40_000]],
      ['tenant:t2', [4000]],
    ];
    for (const [scope, ago] of rowsBefore) await sentBefore(db(), scope, ago);
    const reply = [{ destination: { conversation: 'a:chat-new', tenant: 't1' }, requests: 1, ageMs: 0 }];
    await new SqlSendBudget(db(), teams).spentAll(reply);
    const untidied = await db().query<{ n: number }>(`SELECT count(*)::int AS n FROM send_budget WHERE scope = 'conversation:a:chat-old'`);
    assert.equal(untidied[0]?.n, 1, 'a ledger not told what the others count keeps every conversation’s rows');
    await new SqlSendBudget(db(), teams, undefined, { conversationRowsCountForSeconds: sharedFor }).spentAll(reply);
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, count(*)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(rows, [
      { scope: 'conversation:a:chat-new', count: 2 },
      { scope: 'conversation:a:chat-recent', count: 1 },
      { scope: 'conversation:mailbox:u1', count: 1 },
      { scope: 'down-probe:conversation:a:gone', count: 1 },
      { scope: 'down:conversation:a:gone', count: 1 },
      { scope: 'ods:directory.spineservices.nhs.uk', count: 1 },
      { scope: 'tenant:mailbox:u1', count: 1 },
      { scope: 'tenant:t1', count: 2 },
      { scope: 'tenant:t2', count: 1 },
    ]);
  });

  it('dates tallied replies by when they went, so a reply written late still leaves its window on time', async () => {
    const budget = new SqlSendBudget(db(), LIMITS);
    // Two replies that went 0.8 s before they were written: the 1 s window frees about 0.2 s from now, not 1 s.
    await budget.spentAll([{ destination: { conversation: CHANNEL, tenant: 't1' }, requests: 2, ageMs: 800 }]);
    const reservation = await budget.reserve({ conversation: CHANNEL, tenant: 't1' });
    assert.equal(reservation.granted, false);
    assert.ok(!reservation.granted && reservation.waitMs <= 201, `wait ${reservation.granted ? 0 : reservation.waitMs} ms, expected at most 200`);
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, sum(requests)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(rows, [
      { scope: `conversation:${CHANNEL}`, count: 2 },
      { scope: 'tenant:t1', count: 2 },
    ]);
  });

  it('grants concurrent callers no more than the limits allow, checked by the documented rule', async () => {
    const budget = new SqlSendBudget(db(), { conversation: [{ seconds: 1, sends: 3 }], tenant: [{ seconds: 1, sends: 50 }], marginMs: 0 });
    const to = { conversation: CHANNEL, tenant: 't1' };
    const answers = await Promise.all(Array.from({ length: 12 }, () => budget.reserve(to)));
    assert.equal(answers.filter((answer) => answer.granted).length, 3);
  });

  describe('a conversation found down (5xx, no answer): one probe at a time', () => {
    // A probe interval of a tenth of the outage's age, within 2 s and 10 s; a probe holds the conversation 20 s at most.
    const PROBING: ProbePolicy = { minSeconds: 2, maxSeconds: 10, fractionOfOutage: 0.1, leaseSeconds: 20 };
    /** As if the conversation's next probe had been due `seconds` ago. */
    const probeDue = (seconds: number) =>
      db().query(`UPDATE send_budget SET sent_at = clock_timestamp() - make_interval(secs => $1) WHERE scope LIKE 'down-probe:%'`, [seconds]);
    const channel = { conversation: CHANNEL, tenant: 't1' };
    const budget = () => new SqlSendBudget(db(), LIMITS, PROBING);
    const waitOf = (reservation: Reservation) => (reservation.granted ? 0 : reservation.waitMs);
    const about = (reservation: Reservation, expectedMs: number) =>
      assert.ok(
        waitOf(reservation) <= expectedMs + 1 && waitOf(reservation) >= expectedMs - 250,
        `wait ${waitOf(reservation)} ms, expected about ${expectedMs}`,
      );

    it('holds its next request until the probe interval after it was found down, as waiting for the service; other conversations go', async () => {
      await budget().serviceDown(channel);
      const held = await budget().reserve(channel);
      assert.deepEqual({ ...held, waitMs: undefined }, { granted: false, waitMs: undefined, waitingForService: true });
      about(held, 2000);
      assert.deepEqual(await budget().reserve({ conversation: 'a:chat', tenant: 't1' }), { granted: true });
    });

    it('grants the request after the interval as its probe; the next waits while the probe holds its lease', async () => {
      await budget().serviceDown(channel);
      await probeDue(0);
      assert.deepEqual(
        await budget().reserve({ ...channel, conversation: `${CHANNEL};messageid=7` }),
        { granted: true, probe: true },
        'a thread is its channel',
      );
      // However long the probe takes (a connector that does not answer holds it up to the send timeout), no second one goes meanwhile.
      about(await budget().reserve(channel), 20_000);
    });

    it('sets the next probe the interval after a probe fails, a share of how long it has been down, up to the ceiling', async () => {
      await budget().serviceDown(channel);
      await db().query(`UPDATE send_budget SET sent_at = sent_at - interval '50 seconds' WHERE scope LIKE 'down:%'`);
      await probeDue(0);
      assert.equal((await budget().reserve(channel)).granted, true, 'the probe');
      await budget().serviceDown(channel);
      about(await budget().reserve(channel), 5000);
      await db().query(`UPDATE send_budget SET sent_at = sent_at - interval '450 seconds' WHERE scope LIKE 'down:%'`);
      await budget().serviceDown(channel);
      about(await budget().reserve(channel), 10_000);
    });

    it('is not pushed back by what else goes to the conversation (a turn’s replies go whatever the ledger says)', async () => {
      await budget().serviceDown(channel);
      await probeDue(0);
      await budget().spentAll([{ destination: channel, requests: 1, ageMs: 0 }]);
      assert.deepEqual(await budget().reserve(channel), { granted: true, probe: true });
    });

    it('keeps the date it was first found down; once it takes a request, its limits alone again; both idempotent', async () => {
      await budget().serviceDown(channel);
      await db().query(`UPDATE send_budget SET sent_at = sent_at - interval '30 seconds' WHERE scope LIKE 'down:%'`);
      await budget().serviceDown(channel);
      const marks = () =>
        db().query<{ ago: number }>(`SELECT round(extract(epoch FROM clock_timestamp() - sent_at))::int AS ago FROM send_budget WHERE scope LIKE 'down:%'`);
      assert.deepEqual(await marks(), [{ ago: 30 }]);
      await budget().serviceBack(channel);
      await budget().serviceBack(channel);
      assert.deepEqual(await marks(), []);
      assert.deepEqual(await db().query(`SELECT scope FROM send_budget WHERE scope LIKE 'down-probe:%'`), [], 'nor its probe');
      assert.deepEqual(await budget().reserve(channel), { granted: true });
    });

    it('forgets a mark left a day (a conversation never sent to again)', async () => {
      await sentBefore(db(), 'down:conversation:a:gone', [2 * 24 * 3600]);
      await budget().serviceDown(channel);
      assert.deepEqual(
        (await db().query<{ scope: string }>(`SELECT scope FROM send_budget WHERE scope LIKE 'down%' ORDER BY scope`)).map((row) => row.scope),
        [`down-probe:conversation:${CHANNEL}`, `down:conversation:${CHANNEL}`],
      );
    });
  });
});

describe('the fakes’ reading of the documented limits', () => {
  it('answers 429 past any rolling window, counting refused requests too', () => {
    const teams = new RollingLimits({ conversation: [{ seconds: 1, sends: 2 }], tenant: [{ seconds: 1, sends: 50 }] });
    const to = { conversation: 'c', tenant: 't' };
    assert.deepEqual(
      [0, 100, 200, 1050, 1250].map((at) => teams.admit(to, at)),
      [true, true, false, false, true],
      'the refused request at 200 ms still counts at 1,050 ms',
    );
  });

  it('computes the least time for a backlog to one conversation under the documented limits', () => {
    const windows = TEAMS_DOCUMENTED_LIMITS.conversation;
    assert.equal(leastTimeMs(1, windows), 0);
    assert.equal(leastTimeMs(7, windows), 0, 'seven at once');
    assert.equal(leastTimeMs(8, windows), 1000, 'the eighth after a second');
    assert.equal(leastTimeMs(9, windows), 2000, 'then eight per two seconds');
    assert.equal(leastTimeMs(60, windows), 14_000);
    assert.equal(leastTimeMs(61, windows), 30_000, 'the 61st waits for the first to leave the 30 s window');
    assert.equal(leastTimeMs(1, windows, Array<number>(60).fill(-10_000)), 20_000, 'sixty made 10 s before (refused or not) hold the 30 s window 20 s more');
    assert.equal(leastTimeMs(2, windows, [-1500]), 0, 'one made earlier, well inside the limits, delays nothing');
  });
});

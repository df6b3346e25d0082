import assert from 'node:assert/strict';
import path from 'node:path';
import pg from 'pg';
import { DEMO } from '../../config';
import { loadSandboxDirectory, startSandboxGraph, type SandboxDirectory, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { openPostgres } from '../../services/store/database';
import { PEOPLE } from '../support/bot-harness';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { startFakeConnector, type FakeConnector } from '../support/fake-connector';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';
import { startBotProcess, type BotProcess, freePort } from '../support/processes';
import { TeamsClient } from '../support/teams-client';

/**
 * Who may see and act on a request, attacked over the Bot Framework protocol against the
 * real bot process: a tenant user who names any request in a refresh from their own chat, and
 * a NAS Operations member removed from the group while Graph is failing.
 */

const ACCOUNTS = ['amara.mensah@nhsmail.example', 'esme.flint@nhsmail.example'];

interface Invoke {
  user: keyof typeof PEOPLE;
  conversation: Record<string, unknown>;
  verb: string;
  data: Record<string, unknown>;
}

const personal = (user: keyof typeof PEOPLE) => ({ id: `a:${user}-personal`, conversationType: 'personal', tenantId: DEMO.tenantId });
const opsChannelThread = { id: `${DEMO.opsChannelId};messageid=1700000000000`, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true };

describe('authorisation over the Bot Framework protocol (real bot process, PostgreSQL)', function () {
  this.timeout(90_000);
  let connector: FakeConnector;
  let graph: SandboxGraph;
  let directory: SandboxDirectory;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let bot: BotProcess;
  let client: TeamsClient;
  let requestId: number;
  let reference: string;

  const send = (invoke: Invoke, trigger: 'manual' | 'automatic' = 'manual') =>
    client.post(bot.endpoint, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      from: PEOPLE[invoke.user],
      conversation: invoke.conversation,
      channelData: { tenant: { id: DEMO.tenantId } },
      value: { action: { type: 'Action.Execute', verb: invoke.verb, data: invoke.data }, trigger },
    });

  const query = async <Row>(sql: string, params: unknown[] = []): Promise<Row[]> => {
    const db = new pg.Client({ connectionString: schema.url });
    await db.connect();
    try {
      return (await db.query(sql, params)).rows as Row[];
    } finally {
      await db.end();
    }
  };

  before(async function () {
    await requirePostgres.call(this);
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
    directory = await loadSandboxDirectory(path.join(__dirname, '..', '..', 'dev', 'demo-directory.json'));
    graph = await startSandboxGraph(directory);
    schema = await freshPostgresSchema();
    // No grace while Graph is down: every click is confirmed in the directory, or refused.
    bot = await startBotProcess({
      PORT: String(await freePort()),
      DATABASE_URL: schema.url,
      GRAPH_BASE_URL: graph.url,
      OPS_MEMBERSHIP_MAX_AGE_MINUTES: '0',
      LOG_LEVEL: 'info',
      APP_ENV: 'development',
      MicrosoftAppId: '',
    });
    const db = await openPostgres(schema.url);
    try {
      const submitted = await transferRequests(db).submit({
        ...requestDetails({ id: PEOPLE.priya.aadObjectId, name: PEOPLE.priya.name }),
        draftId: 'authorisation-test',
        accounts: ACCOUNTS.map((email, index) => screenedAccount(index + 1, email, index === 0 ? 'eligible' : 'review')),
      });
      requestId = submitted.request.id;
      reference = submitted.request.reference;
    } finally {
      await db.close();
    }
  });

  after(async () => {
    await bot?.stop();
    await graph?.close();
    await connector?.close();
    await schema?.drop();
  });

  afterEach(() => graph.failWith(undefined));

  describe('a refresh answers only where the card is', () => {
    it('refuses a refresh sent from another user’s personal chat with a 403 that holds nothing of the request, and audits it', async () => {
      const refused = await send({ user: 'sam', conversation: personal('sam'), verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic');
      assert.equal(refused.status, 403);
      const body = JSON.stringify(refused.body);
      for (const secret of [...ACCOUNTS, reference, PEOPLE.priya.name, 'Sponsorship ends'])
        assert.ok(!body.includes(secret), `the refusal does not mention ${secret}`);
      const audit = await query<{ action: string; actor_id: string; request_id: number | null; detail: { verb?: string } }>(
        `SELECT action, actor_id, request_id, detail FROM audit_events WHERE action = 'card_action.refused' ORDER BY id DESC LIMIT 1`,
      );
      assert.equal(audit[0]?.actor_id, PEOPLE.sam.aadObjectId);
      assert.equal(audit[0]?.detail.verb, 'refreshCard');
    });

    it('answers an unknown request id exactly as a foreign one: no 404 oracle', async () => {
      const foreign = await send({ user: 'sam', conversation: personal('sam'), verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic');
      const unknown = await send(
        { user: 'sam', conversation: personal('sam'), verb: 'refreshCard', data: { requestId: requestId + 1000, start: 0 } },
        'automatic',
      );
      assert.equal(unknown.status, foreign.status);
      assert.deepEqual(unknown.body, foreign.body);
    });

    it('refuses the requester too when the refresh does not come from the ops channel: the ops card is not theirs to draw', async () => {
      const refused = await send({ user: 'priya', conversation: personal('priya'), verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic');
      assert.equal(refused.status, 403);
    });

    it('gives someone in the ops channel who is not in NAS Operations the read-only card', async () => {
      const answered = await send({ user: 'priya', conversation: opsChannelThread, verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic');
      assert.equal(answered.status, 200);
      const card = JSON.stringify(answered.body);
      assert.ok(card.includes(`Transfer request ${reference}`));
      assert.ok(!card.includes('"verb":"decideAccount"') && !card.includes('"verb":"approveEligible"'), 'no buttons for someone outside NAS Operations');
    });

    it('gives a NAS Operations member the card with the buttons, wherever they refresh it', async () => {
      const answered = await send({ user: 'tom', conversation: personal('tom'), verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic');
      assert.equal(answered.status, 200);
      assert.ok(JSON.stringify(answered.body).includes('"verb":"approveEligible"'));
    });
  });

  describe('NAS Operations membership fails closed', () => {
    it('refuses a click with 503 "cannot confirm" when Graph fails, changes nothing, and audits the refusal', async () => {
      // Confirmed a moment ago, by a refresh that reached the directory.
      assert.equal((await send({ user: 'tom', conversation: opsChannelThread, verb: 'refreshCard', data: { requestId, start: 0 } }, 'automatic')).status, 200);
      graph.failWith(503);
      const accountId = (await query<{ id: number }>('SELECT id FROM request_accounts WHERE request_id = $1 ORDER BY position LIMIT 1', [requestId]))[0]!.id;
      const clicked = await send({
        user: 'tom',
        conversation: opsChannelThread,
        verb: 'decideAccount',
        data: { requestId, accountId, decision: 'approved', start: 0 },
      });
      assert.equal(clicked.status, 503);
      assert.match(JSON.stringify(clicked.body), /cannot confirm you are in NAS Operations/);
      const decided = await query<{ count: number }>('SELECT count(*)::int AS count FROM request_accounts WHERE request_id = $1 AND decision IS NOT NULL', [
        requestId,
      ]);
      assert.equal(decided[0]?.count, 0, 'nothing was decided');
      const audit = await query<{ detail: { verb?: string; reason?: string } }>(
        `SELECT detail FROM audit_events WHERE action = 'card_action.refused' AND actor_id = $1 ORDER BY id DESC LIMIT 1`,
        [PEOPLE.tom.aadObjectId],
      );
      // The card's verb decideAccount is recorded by the action's one name (bot/ops-actions.ts), as the workspace records it.
      assert.deepEqual({ verb: audit[0]?.detail.verb, reason: audit[0]?.detail.reason }, { verb: 'decide', reason: 'OPS_UNCONFIRMED' });
    });

    it('refuses a member removed from the group as soon as the directory says so, and once Graph is back', async () => {
      const ops = directory.groups.find((group) => group.id === DEMO.opsGroupId)!;
      const before = [...ops.members];
      ops.members.splice(ops.members.indexOf(PEOPLE.tom.aadObjectId), 1);
      try {
        graph.failWith(503);
        const whileDown = await send({ user: 'tom', conversation: opsChannelThread, verb: 'approveEligible', data: { requestId, start: 0 } });
        assert.equal(whileDown.status, 503);
        graph.failWith(undefined);
        const afterwards = await send({ user: 'tom', conversation: opsChannelThread, verb: 'approveEligible', data: { requestId, start: 0 } });
        assert.equal(afterwards.status, 403);
        const decided = await query<{ count: number }>('SELECT count(*)::int AS count FROM request_accounts WHERE request_id = $1 AND decision IS NOT NULL', [
          requestId,
        ]);
        assert.equal(decided[0]?.count, 0);
      } finally {
        ops.members.splice(0, ops.members.length, ...before);
      }
    });
  });
});

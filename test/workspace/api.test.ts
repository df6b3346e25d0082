import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { startApp, type RunningApp } from '../../app';
import { OPS_ACTION_NAMES } from '../../bot/ops-actions';
import { EntraTokenVerifier } from '../../bot/workspace/token-verifier';
import { loadConfig } from '../../config';
import { AppError } from '../../core/errors';
import { createLogger } from '../../core/log';
import { openPostgres } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { startMissingSandboxes, type SandboxedConfig } from '../../dev/sandbox/sandbox-defaults';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { createSigningKey, startOpenIdServer, type OpenIdServer } from '../support/openid-server';
import { FORMULA_ORGANISATION, LENA, PRIYA, seedEveryState, TOM, type Seeded } from './seed';

/**
 * The workspace API over HTTP, in the real bot process wiring (startApp) on PostgreSQL, with a
 * local OpenID metadata and key server in place of Entra ID's: every route refuses a missing,
 * forged, expired, foreign-tenant, wrong-audience and non-ops token with nothing of any request;
 * a NAS Operations member's token reads the queue, claims, and exports (audited).
 */
const TENANT = '6e6d7300-0000-4000-8000-000000000001';
const AUDIENCE = 'api://nas-transfer.example.test/6e6d7300-0000-4000-8000-0000000000f1';
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const OTHER_TENANT = '0b0b0b0b-0000-4000-8000-000000000999';

const ROUTES: Array<{ method: 'GET' | 'POST'; path: string }> = [
  { method: 'GET', path: 'me' },
  { method: 'GET', path: 'queue?status=all' },
  { method: 'GET', path: 'picture' },
  { method: 'GET', path: 'export.csv?status=all' },
  { method: 'GET', path: 'requests/1' },
  // Every action in the table, claim among them: each is a route that refuses like the rest.
  ...OPS_ACTION_NAMES.map((name) => ({ method: 'POST' as const, path: `requests/1/${name}` })),
];

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('NAS Operations workspace API', function () {
  this.timeout(60_000);
  let keys: OpenIdServer;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>> | undefined;
  let sandboxed: SandboxedConfig | undefined;
  let app: RunningApp | undefined;
  let admin: pg.Client | undefined;
  let seeded: Seeded;
  const logLines: string[] = [];

  const api = (route: string) => new URL(`../api/workspace/${route}`, app!.workspaceUrl).toString();
  const call = async (method: string, route: string, authorization?: string) => {
    const response = await fetch(api(route), { method, headers: authorization ? { authorization } : {} });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers };
  };
  const tokenFor = (oid: string, claims: Record<string, unknown> = {}, options: Parameters<OpenIdServer['sign']>[1] = {}) =>
    keys.sign({ iss: ISSUER, aud: AUDIENCE, oid, tid: TENANT, scp: 'access_as_user', ...claims }, options);
  const bearer = async (oid: string) => `Bearer ${await tokenFor(oid)}`;

  before(async function () {
    await requirePostgres.call(this);
    keys = await startOpenIdServer();
    schema = await freshPostgresSchema();
    const db = await openPostgres(schema.url);
    await migrate(db);
    seeded = await seedEveryState(db);
    await db.close();
    const logger = createLogger('info', (line) => logLines.push(line));
    sandboxed = await startMissingSandboxes(
      loadConfig({
        APP_ENV: 'test',
        PORT: '0',
        DATABASE_URL: schema.url,
        TENANT_ID: TENANT,
        WORKSPACE_APP_ID_URI: AUDIENCE,
        WORKSPACE_OPENID_METADATA: keys.metadataUrl,
      }),
      logger,
    );
    app = await startApp(sandboxed.config, logger);
    admin = new pg.Client({ connectionString: schema.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await app?.stop();
    await sandboxed?.close();
    await keys?.close();
    await schema?.drop();
  });

  const refusals: Array<{ name: string; status: number; code: string; authorization: () => Promise<string | undefined> }> = [
    { name: 'no token', status: 401, code: 'WORKSPACE_UNAUTHENTICATED', authorization: async () => undefined },
    { name: 'not a bearer token', status: 401, code: 'WORKSPACE_UNAUTHENTICATED', authorization: async () => 'Basic dG9tOnBhc3N3b3Jk' },
    { name: 'a malformed token', status: 401, code: 'WORKSPACE_UNAUTHENTICATED', authorization: async () => 'Bearer not.a.jwt' },
    {
      name: 'a token signed by a key the tenant does not publish (same kid)',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await tokenFor(TOM.id, {}, { key: await createSigningKey(keys.key.kid) })}`,
    },
    {
      name: 'an HS256 token keyed with the published public key',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => {
        const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT', kid: keys.key.kid })}.${base64url({ iss: ISSUER, aud: AUDIENCE, oid: TOM.id, tid: TENANT, nbf: now() - 60, exp: now() + 3600 })}`;
        return `Bearer ${unsigned}.${createHmac('sha256', keys.key.publicPem).update(unsigned).digest('base64url')}`;
      },
    },
    {
      name: 'an unsigned token (alg none)',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () =>
        `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: ISSUER, aud: AUDIENCE, oid: TOM.id, tid: TENANT, exp: now() + 3600 })}.`,
    },
    {
      name: 'an expired token',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await tokenFor(TOM.id, {}, { expiresInSeconds: -600 })}`,
    },
    {
      name: 'a token from another tenant',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await tokenFor(TOM.id, { iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT })}`,
    },
    {
      name: 'our issuer but another tenant id',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await tokenFor(TOM.id, { tid: OTHER_TENANT })}`,
    },
    {
      name: 'a token for another application',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await tokenFor(TOM.id, { aud: 'api://elsewhere.example/11111111-2222-3333-4444-555555555555' })}`,
    },
    {
      name: 'a token with no user (oid)',
      status: 401,
      code: 'WORKSPACE_UNAUTHENTICATED',
      authorization: async () => `Bearer ${await keys.sign({ iss: ISSUER, aud: AUDIENCE, tid: TENANT, scp: 'access_as_user' })}`,
    },
    { name: 'a valid token of someone outside NAS Operations', status: 403, code: 'NOT_OPS', authorization: () => bearer(PRIYA.id) },
  ];

  for (const refusal of refusals) {
    it(`refuses ${refusal.name} on every route, with nothing of any request`, async () => {
      const authorization = await refusal.authorization();
      for (const route of ROUTES) {
        const response = await call(route.method, route.path, authorization);
        assert.equal(response.status, refusal.status, `${route.method} ${route.path}: ${response.text}`);
        const body = JSON.parse(response.text) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), ['error']);
        assert.equal((body.error as { code: string }).code, refusal.code);
        assert.doesNotMatch(response.text, /NTR-|@nhsmail|Northmoor|jwt|signature|jose|127\.0\.0\.1|\bat [\w.]+ \(/i, 'no request data, no library wording');
        if (refusal.status === 401) assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      }
    });
  }

  it('audits each refusal of a signed-in user outside NAS Operations, and changes nothing', async () => {
    const { rows } = await admin!.query(`SELECT actor_id, detail FROM audit_events WHERE action = 'workspace.refused' ORDER BY id`);
    assert.ok(rows.length >= ROUTES.length, 'one per route at least');
    assert.ok(rows.every((row: { actor_id: string; detail: { reason: string } }) => row.actor_id === PRIYA.id && row.detail.reason === 'NOT_OPS'));
    const { rows: claimed } = await admin!.query(`SELECT claimed_by_id FROM transfer_requests WHERE id = 1`);
    assert.notEqual(claimed[0].claimed_by_id, PRIYA.id);
  });

  it('answers a NAS Operations member: who they are, the queue with its filters, a request in full, the picture', async () => {
    const me = await call('GET', 'me', await bearer(TOM.id));
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(JSON.parse(me.text), { id: TOM.id, name: TOM.name }, 'the name from the directory');
    const queue = JSON.parse((await call('GET', 'queue?status=all&reviewer=mine', await bearer(TOM.id))).text);
    assert.deepEqual(
      queue.entries.map((entry: { reference: string }) => entry.reference),
      [seeded.requests.completed.reference, seeded.requests.mine.reference],
    );
    assert.equal(queue.filters.reviewer, 'mine');
    const request = await call('GET', `requests/${seeded.requests.overdue.id}`, await bearer(TOM.id));
    const body = JSON.parse(request.text);
    assert.equal(body.request.reference, seeded.requests.overdue.reference);
    assert.equal(body.overdue, true);
    assert.equal(body.canClaim, true);
    assert.match(
      body.cardLink,
      /^https:\/\/teams\.microsoft\.com\/l\/message\/19%3Anas-ops-transfer-requests%40thread\.tacv2\/1732890000000\?tenantId=6e6d7300-0000-4000-8000-000000000001&parentMessageId=1732890000000$/,
    );
    assert.ok(body.audit.some((event: { action: string }) => event.action === 'request.submitted'));
    // The trail in words, as the chat's audit shows it: never an event name or raw JSON (issue 21 §4).
    const trail = body.audit as Array<{ what: string; detailText: string }>;
    assert.ok(trail.some((event) => event.what === 'submitted the request'));
    assert.ok(
      trail.every((event) => !/[._]/.test(event.what) && !/[{}]/.test(event.detailText)),
      JSON.stringify(trail.map((event) => [event.what, event.detailText])),
    );
    const picture = JSON.parse((await call('GET', 'picture', await bearer(TOM.id))).text);
    assert.equal(picture.weeks.length, 12);
    assert.equal((await call('GET', 'requests/999999', await bearer(TOM.id))).status, 404);
    assert.equal((await call('GET', 'queue?status=everything', await bearer(TOM.id))).status, 400);
  });

  it('Assign to me is compare-and-set: the first member gets it (audited, the card owed its update), the second is told who has it', async () => {
    const id = seeded.requests.fresh.id;
    const first = await call('POST', `requests/${id}/claim`, await bearer(TOM.id));
    assert.equal(first.status, 200, first.text);
    assert.equal(JSON.parse(first.text).request.claimedBy.name, TOM.name);
    const second = await call('POST', `requests/${id}/claim`, await bearer(LENA.id));
    assert.equal(second.status, 409);
    assert.match(JSON.parse(second.text).error.message, /Tom Ashdown has been reviewing it since/);
    assert.equal(JSON.parse(second.text).error.reason, 'claimed_by_other', 'the rule that refused, by its code');
    const { rows } = await admin!.query(`SELECT actor_name, detail FROM audit_events WHERE request_id = $1 AND action = 'request.claimed'`, [id]);
    assert.deepEqual(rows, [
      { actor_name: TOM.name, detail: { before: { status: 'submitted', reviewer: null }, after: { status: 'in_review', reviewer: TOM.name } } },
    ]);
    const { rows: owed } = await admin!.query(`SELECT kind FROM outbox WHERE request_id = $1 AND kind = 'ops.update'`, [id]);
    assert.equal(owed.length, 1, 'the ops card is owed its update');
  });

  it('exports the filtered queue as CSV with the request export’s escaping, and audits who exported what', async () => {
    const response = await fetch(api('export.csv?status=all&q=hyperlink'), { headers: { authorization: await bearer(TOM.id) } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="nas-transfer-queue-\d{4}-\d{2}-\d{2}\.csv"$/);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'UTF-8 byte order mark for Excel');
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    assert.match(lines[0]!, /^Reference,Organisation,Organisation ODS code,Requested by,Status,/);
    assert.equal(lines.length, 3, 'header, one request, final line end');
    assert.ok(
      lines[1]!.startsWith(`${seeded.requests.formula.reference},"'${FORMULA_ORGANISATION.replace(/"/g, '""')}",ZZ9005,Priya Okafor,Awaiting review,`),
      lines[1],
    );
    await fetch(api(`export.csv?address=${encodeURIComponent('jane.doe@nhsmail.example')}`), { headers: { authorization: await bearer(TOM.id) } });
    const { rows } = await admin!.query(`SELECT actor_id, actor_name, detail FROM audit_events WHERE action = 'workspace.exported' ORDER BY id`);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      actor_id: TOM.id,
      actor_name: TOM.name,
      detail: { filters: { status: 'all', q: 'hyperlink', overdue: false, addressSearched: false }, rows: 1 },
    });
    assert.equal(rows[1].detail.filters.addressSearched, true);
    assert.doesNotMatch(JSON.stringify(rows[1]), /jane\.doe/, 'the address searched for is not kept in the audit');
  });

  it('serves the page with a strict content security policy, says sign-in is Teams, and has no local sign-in outside development', async () => {
    const page = await fetch(app!.workspaceUrl!);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors teams\.microsoft\.com/);
    assert.match(await page.text(), /<script type="module" src="workspace\.js"><\/script>/);
    const script = await fetch(new URL('workspace.js', app!.workspaceUrl));
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.deepEqual(await (await fetch(new URL('session.json', app!.workspaceUrl))).json(), { signIn: 'teams' });
    assert.equal((await fetch(new URL('dev-sign-in', app!.workspaceUrl), { method: 'POST' })).status, 404);
  });

  it('keeps tokens and addresses out of the log', () => {
    const log = logLines.join('\n');
    assert.match(log, /workspace\.refused/);
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{10,}/, 'no token');
    assert.doesNotMatch(log, /jane\.doe|@nhsmail\.example/, 'no account address');
  });
});

describe('workspace sign-in: the tenant’s keys cannot be fetched', () => {
  it('answers "not now" (never yes) while the key server fails or cannot be reached, and checks tokens once it is back', async () => {
    const keys = await startOpenIdServer();
    try {
      const verifier = new EntraTokenVerifier({ tenantId: TENANT, appIdUri: AUDIENCE, scope: 'access_as_user', openIdMetadataUrl: keys.metadataUrl });
      const token = `Bearer ${await keys.sign({ iss: ISSUER, aud: AUDIENCE, oid: TOM.id, tid: TENANT, scp: 'access_as_user' })}`;
      keys.setMode('failing');
      await assert.rejects(verifier.verify(token), (error: AppError) => error.code === 'WORKSPACE_SIGN_IN_UNAVAILABLE');
      keys.setMode('serving');
      assert.deepEqual(await verifier.verify(token), { userId: TOM.id });
      const unreachable = new EntraTokenVerifier({
        tenantId: TENANT,
        appIdUri: AUDIENCE,
        scope: 'access_as_user',
        openIdMetadataUrl: 'http://127.0.0.1:9/v2.0/.well-known/openid-configuration',
      });
      await assert.rejects(unreachable.verify(token), (error: AppError) => error.code === 'WORKSPACE_SIGN_IN_UNAVAILABLE');
    } finally {
      await keys.close();
    }
  });

  it('refuses the local demo sign-in outside development: production and test configurations fail to load with it on', () => {
    for (const environment of ['production', 'test']) {
      assert.throws(
        () => loadConfig({ APP_ENV: environment, WORKSPACE_DEV_SIGN_IN: 'on' }),
        (error: AppError) => /WORKSPACE_DEV_SIGN_IN: is refused outside APP_ENV=development/.test(error.userMessage),
      );
    }
    assert.equal(loadConfig({ APP_ENV: 'test' }).workspace.devSignInUserId, undefined);
    assert.equal(loadConfig({}).workspace.devSignInUserId, TOM.id, 'development signs in as Tom Ashdown');
    assert.equal(loadConfig({ WORKSPACE_DEV_SIGN_IN: 'off' }).workspace.devSignInUserId, undefined);
  });
});

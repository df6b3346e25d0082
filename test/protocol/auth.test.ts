import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { Activity } from 'botbuilder';
import sinon from 'sinon';
import { createAdapter } from '../../bot/adapter';
import { startHttpServer, type RunningHttpServer } from '../../bot/http-server';
import { loadConfig } from '../../config';
import { createLogger } from '../../core/log';
import { BOT_FRAMEWORK_ISSUER, createSigningKey, startOpenIdServer, type OpenIdServer } from '../support/openid-server';

/**
 * The bot's /api/messages authentication, end to end over HTTP against the real botbuilder
 * validation code, with a local OpenID metadata and key server in place of the Bot
 * Connector's (configured through BotOpenIdMetadata). Nothing here leaves the machine.
 */
const APP_ID = '6e6d7300-0000-4000-8000-0000000000f1';
const TENANT_ID = '6e6d7300-0000-4000-8000-000000000001';
const SERVICE_URL = 'https://smba.trafficmanager.net/uk/';

interface Bot {
  http: RunningHttpServer;
  /** The activity of every turn handleTurn ran (a copy: botbuilder revokes the context after the turn). */
  turns: Activity[];
  logLines: string[];
}

async function startBot(metadataUrl: string): Promise<Bot> {
  const logLines: string[] = [];
  const logger = createLogger('debug', (line) => logLines.push(line));
  const config = loadConfig({
    MicrosoftAppId: APP_ID,
    MicrosoftAppPassword: 'not-used-offline',
    MicrosoftAppType: 'SingleTenant',
    MicrosoftAppTenantId: TENANT_ID,
    BotOpenIdMetadata: metadataUrl,
  });
  const turns: Activity[] = [];
  const http = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    adapter: createAdapter(config, logger),
    handleTurn: async (context) => {
      turns.push({ ...context.activity });
      logger.info('test.turn', { activityType: context.activity.type });
    },
    readiness: async () => ({ ready: true, checks: {} }),
    logger,
  });
  return { http, turns, logLines };
}

function messageActivity(overrides: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: 'activity-1',
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl: SERVICE_URL,
    from: { id: '29:requester', aadObjectId: '6e6d7300-0000-4000-8000-000000000101' },
    recipient: { id: `28:${APP_ID}` },
    conversation: { id: 'a:personal-chat', conversationType: 'personal', tenantId: TENANT_ID },
    channelData: { tenant: { id: TENANT_ID } },
    text: 'help',
    ...overrides,
  };
}

async function post(bot: Bot, authorization: string | undefined, activity: object = messageActivity()) {
  const response = await fetch(bot.http.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(activity),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    headers: response.headers,
    body: text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : undefined,
  };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const VALID_CLAIMS = { iss: BOT_FRAMEWORK_ISSUER, aud: APP_ID, serviceurl: SERVICE_URL };

/** Nothing of botbuilder's or jsonwebtoken's own wording, no stack, no address of the key server. */
function assertOwnWording(text: string): void {
  assert.doesNotMatch(text, /Unauthorized\.|jwt|token signing|signature|audience|Failed to load|ECONNREFUSED|127\.0\.0\.1|\bat [\w.]+ \(|node_modules/i);
}

describe('Bot Framework authentication at /api/messages', function () {
  let keys: OpenIdServer;
  let bot: Bot;

  before(async () => {
    // botbuilder writes refused tokens to console.error itself; keep the test output readable.
    sinon.stub(console, 'error');
    keys = await startOpenIdServer();
    bot = await startBot(keys.metadataUrl);
  });
  after(async () => {
    await bot?.http.close();
    await keys?.close();
    sinon.restore();
  });
  beforeEach(() => {
    bot.turns.length = 0;
  });

  it('accepts a token the Bot Connector would send, and runs the turn', async () => {
    const token = await keys.sign(VALID_CLAIMS);
    const response = await post(bot, `Bearer ${token}`);
    assert.equal(response.status, 200, response.text);
    assert.equal(bot.turns.length, 1, 'handleTurn ran once');
    assert.equal(bot.turns[0]!.text, 'help');
    assert.equal(bot.turns[0]!.callerId, 'urn:botframework:azure', 'botbuilder recorded the public Azure channel as caller');
    assert.ok(keys.requests() >= 2, 'the keys came from the local OpenID server');
  });

  it('runs the turn inside a correlation id that its log lines carry and the response names', async () => {
    const response = await post(bot, `Bearer ${await keys.sign(VALID_CLAIMS)}`);
    assert.equal(response.status, 200);
    const correlationId = response.headers.get('x-correlation-id');
    assert.ok(correlationId);
    const turnLine = bot.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.event === 'test.turn' && line.correlationId === correlationId);
    assert.ok(turnLine, 'the turn logged under the request correlation id');
  });

  const forgeries: Array<{ name: string; authorization: () => Promise<string | undefined>; activity?: () => object }> = [
    { name: 'no Authorization header', authorization: async () => undefined },
    { name: 'a scheme other than Bearer', authorization: async () => `Basic ${Buffer.from(`${APP_ID}:secret`).toString('base64')}` },
    { name: 'a string that is not a JWT', authorization: async () => 'Bearer not.a.jwt' },
    {
      name: 'alg "none" (unsigned)',
      authorization: async () =>
        `Bearer ${base64url({ alg: 'none', typ: 'JWT', kid: keys.key.kid })}.${base64url({ ...VALID_CLAIMS, nbf: now() - 60, exp: now() + 3600 })}.`,
    },
    {
      name: 'HS256 with the published public key as the HMAC secret',
      authorization: async () => {
        const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT', kid: keys.key.kid })}.${base64url({ ...VALID_CLAIMS, nbf: now() - 60, exp: now() + 3600 })}`;
        return `Bearer ${unsigned}.${createHmac('sha256', keys.key.publicPem).update(unsigned).digest('base64url')}`;
      },
    },
    {
      name: 'a key the metadata does not publish',
      authorization: async () => `Bearer ${await keys.sign(VALID_CLAIMS, { key: await createSigningKey('attacker-key') })}`,
    },
    {
      name: 'the published key id over another key’s signature',
      authorization: async () => `Bearer ${await keys.sign(VALID_CLAIMS, { key: await createSigningKey('attacker-key'), kid: keys.key.kid })}`,
    },
    {
      name: 'another bot’s audience',
      authorization: async () => `Bearer ${await keys.sign({ ...VALID_CLAIMS, aud: '6e6d7300-0000-4000-8000-0000000000ee' })}`,
    },
    {
      name: 'another issuer',
      authorization: async () => `Bearer ${await keys.sign({ ...VALID_CLAIMS, iss: 'https://api.botframework.com.attacker.example' })}`,
    },
    { name: 'an expired token', authorization: async () => `Bearer ${await keys.sign({ ...VALID_CLAIMS, nbf: now() - 7200 }, { expiresInSeconds: -3600 })}` },
    {
      name: 'a token not valid yet',
      authorization: async () => `Bearer ${await keys.sign({ ...VALID_CLAIMS, nbf: now() + 3600 }, { expiresInSeconds: 7200 })}`,
    },
    {
      name: 'a serviceUrl claim for another service',
      authorization: async () => `Bearer ${await keys.sign({ ...VALID_CLAIMS, serviceurl: 'https://attacker.example/' })}`,
    },
    { name: 'no serviceUrl claim', authorization: async () => `Bearer ${await keys.sign({ iss: BOT_FRAMEWORK_ISSUER, aud: APP_ID })}` },
    {
      name: 'a valid token replayed for a channel its key is not endorsed for',
      authorization: async () => `Bearer ${await keys.sign(VALID_CLAIMS)}`,
      activity: () => messageActivity({ channelId: 'webchat' }),
    },
  ];

  for (const forgery of forgeries) {
    it(`refuses ${forgery.name} with 401 before any bot logic`, async () => {
      const authorization = await forgery.authorization();
      const response = await post(bot, authorization, forgery.activity?.() ?? messageActivity());
      assert.equal(response.status, 401, response.text);
      assert.equal(response.body?.error?.code, 'REQUEST_UNAUTHENTICATED');
      assertOwnWording(response.text);
      assert.equal(bot.turns.length, 0, 'handleTurn never ran');
      if (authorization) assert.ok(!bot.logLines.join('\n').includes(authorization.slice(7)), 'the token is not logged');
    });
  }

  it('refuses a body that is not an activity with 400, before authentication', async () => {
    const response = await post(bot, `Bearer ${await keys.sign(VALID_CLAIMS)}`, { hello: 'world' });
    assert.equal(response.status, 400);
    assert.equal(response.body?.error?.code, 'INVALID_INPUT');
    assert.equal(bot.turns.length, 0);
  });
});

describe('Bot Framework authentication when the signing keys cannot be fetched', () => {
  before(() => sinon.stub(console, 'error'));
  after(() => sinon.restore());

  async function assertUnavailable(bot: Bot, authorization: string): Promise<void> {
    const response = await post(bot, authorization);
    assert.equal(response.status, 503, response.text);
    assert.equal(response.body?.error?.code, 'AUTH_KEYS_UNAVAILABLE');
    assert.ok(response.headers.get('retry-after'), 'tells the Bot Connector when to retry');
    assertOwnWording(response.text);
    assert.equal(bot.turns.length, 0, 'handleTurn never ran');
    const logged = bot.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'http.auth_unavailable');
    assert.ok(logged, 'the outage is logged for operators');
  }

  it('answers 503 (not 500 quoting the fetch) while the metadata endpoint fails, and accepts the token once it is back', async () => {
    const keys = await startOpenIdServer();
    const bot = await startBot(keys.metadataUrl);
    try {
      keys.setMode('failing');
      const token = await keys.sign(VALID_CLAIMS);
      await assertUnavailable(bot, `Bearer ${token}`);
      keys.setMode('serving');
      const recovered = await post(bot, `Bearer ${token}`);
      assert.equal(recovered.status, 200, recovered.text);
      assert.equal(bot.turns.length, 1);
    } finally {
      await bot.http.close();
      await keys.close();
    }
  });

  it('answers 503 when the key server is not there at all', async () => {
    const keys = await startOpenIdServer();
    const token = await keys.sign(VALID_CLAIMS);
    const metadataUrl = keys.metadataUrl;
    await keys.close();
    const bot = await startBot(metadataUrl);
    try {
      await assertUnavailable(bot, `Bearer ${token}`);
      // A forged token meets the same outage: 503 too, never a 500.
      await assertUnavailable(bot, `Bearer ${base64url({ alg: 'HS256', kid: 'x' })}.${base64url({ ...VALID_CLAIMS, exp: now() + 60 })}.c2ln`);
    } finally {
      await bot.http.close();
    }
  });
});

import assert from 'node:assert/strict';
import type { TurnContext } from 'botbuilder';
import { createAdapter } from '../../bot/adapter';
import { MAX_BODY_BYTES, startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../bot/http-server';
import { loadConfig } from '../../config';
import { isInteractive } from '../../core/interactive';
import { createLogger } from '../../core/log';

/** The HTTP edge without authentication (no app id, as a local run): health, readiness, limits, errors and shutdown. */
describe('bot HTTP server', () => {
  let servers: RunningHttpServer[] = [];
  let logLines: string[] = [];

  async function start(overrides: Partial<HttpServerOptions> = {}): Promise<RunningHttpServer> {
    const logger = createLogger('debug', (line) => logLines.push(line));
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      adapter: createAdapter(loadConfig({}), logger),
      handleTurn: async () => undefined,
      readiness: async () => ({ ready: true, checks: { database: true, migrations: true } }),
      logger,
      ...overrides,
    });
    servers.push(server);
    return server;
  }

  const activity = (text = 'help') => ({
    type: 'message',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/uk/',
    from: { id: '29:requester' },
    recipient: { id: '28:bot' },
    conversation: { id: 'a:chat' },
    text,
  });
  const postActivity = (server: RunningHttpServer, body: unknown) =>
    fetch(server.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeEach(() => {
    logLines = [];
  });

  it('runs a turn and any other request as someone waiting (core/interactive), so the embedded database serves them first', async () => {
    const seen: boolean[] = [];
    const server = await start({
      handleTurn: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(isInteractive());
      },
      routes: (restifyServer) =>
        restifyServer.get('/probe', async (_req, res) => {
          await new Promise((resolve) => setImmediate(resolve));
          res.send(200, { interactive: isInteractive() });
        }),
    });
    assert.equal((await postActivity(server, activity())).status, 200);
    assert.deepEqual(seen, [true], 'the turn');
    assert.deepEqual(await (await fetch(`${server.url}/probe`)).json(), { interactive: true }, 'a workspace request');
    assert.equal(isInteractive(), false, 'nothing outside a request');
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  });

  it('says the process is up on /healthz', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  it('says ready on /readyz only when the readiness checks pass, naming each check', async () => {
    let database = true;
    const server = await start({ readiness: async () => ({ ready: database, checks: { database, migrations: true } }) });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: true, migrations: true }, notices: [] });
    database = false;
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { status: 'not ready', checks: { database: false, migrations: true }, notices: [] });
  });

  it('shows a notice on /readyz (the ops channel refusing the bot) without taking the bot out of service', async () => {
    const notice =
      'Teams has refused the NAS Operations channel since 29 Nov 2026, 17:00 GMT (the bot was removed from the team or blocked): new request cards are held.';
    const server = await start({ readiness: async () => ({ ready: true, checks: { database: true, migrations: true }, notices: [notice] }) });
    const response = await fetch(`${server.url}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { notices: string[] }).notices, [notice]);
  });

  it('answers 503 without the internal error when the readiness check itself throws', async () => {
    const server = await start({
      readiness: async () => {
        throw new Error('connect ECONNREFUSED db.internal:5432');
      },
    });
    const response = await fetch(`${server.url}/readyz`);
    assert.equal(response.status, 503);
    const text = await response.text();
    assert.doesNotMatch(text, /ECONNREFUSED|db\.internal/);
    assert.doesNotMatch(logLines.join('\n'), /db\.internal/, 'a foreign error message is not logged either');
  });

  it('runs a turn and answers 200', async () => {
    const texts: string[] = [];
    const server = await start({ handleTurn: async (context) => void texts.push(context.activity.text) });
    const response = await postActivity(server, activity('status'));
    assert.equal(response.status, 200);
    assert.deepEqual(texts, ['status']);
  });

  it('refuses a body over the size limit with 413, before any bot logic', async () => {
    let turns = 0;
    const server = await start({ handleTurn: async () => void (turns += 1) });
    const response = await postActivity(server, activity('x'.repeat(MAX_BODY_BYTES + 1)));
    assert.equal(response.status, 413);
    assert.equal(turns, 0);
  });

  it('refuses malformed JSON and bodies that are not activities with 400', async () => {
    let turns = 0;
    const server = await start({ handleTurn: async () => void (turns += 1) });
    assert.equal((await postActivity(server, '{"type":')).status, 400);
    assert.equal((await postActivity(server, { ...activity(), serviceUrl: undefined })).status, 400);
    assert.equal((await postActivity(server, [activity()])).status, 400);
    assert.equal(turns, 0);
  });

  it('answers a failed turn with 500 and our own words, never the error', async () => {
    const server = await start({
      handleTurn: async () => {
        throw new Error('relation "requests" does not exist at amara@nhsmail.example');
      },
    });
    const response = await postActivity(server, activity());
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.equal(JSON.parse(text).error.code, 'REQUEST_FAILED');
    assert.doesNotMatch(text, /relation|amara|\bat /);
    const logged = logLines.join('\n');
    assert.match(logged, /"event":"http.turn_failed"/);
    assert.doesNotMatch(logged, /relation "requests"|amara/);
  });

  it('finishes in-flight turns on close, and then stops accepting', async () => {
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const server = await start({
      handleTurn: async (_context: TurnContext) => {
        release();
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished = true;
      },
    });
    const inFlight = postActivity(server, activity());
    await started;
    const closing = server.close();
    const response = await inFlight;
    assert.equal(response.status, 200, 'the in-flight turn was answered');
    await closing;
    assert.ok(finished, 'close waited for the turn');
    await assert.rejects(fetch(`${server.url}/healthz`), 'no longer accepting');
  });
});

import assert from 'node:assert/strict';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { GRAPH_APP_ONLY_SCOPE } from '../../services/directory/graph-credential';
import { REFRESH_BEFORE_EXPIRY_MS, RENEW_AGAIN_AFTER_MS, SharedAppToken } from '../../services/directory/shared-token';

const HOUR = 3_600_000;

/**
 * Stands in for @azure/identity's credential (the edge with Entra ID): counts the token requests it
 * gets, answers each with the next token, and fails while `failing`. Tokens live an hour from `clock`.
 */
function entraId(clock: { now: number }, refreshAfterMs?: number) {
  const state = { asked: 0, failing: false, hanging: false, options: [] as Array<GetTokenOptions | undefined> };
  const source: TokenCredential = {
    getToken: async (_scopes, options) => {
      state.asked++;
      state.options.push(options);
      await new Promise((resolve) => setImmediate(resolve));
      if (state.hanging) await new Promise(() => undefined);
      if (state.failing)
        throw Object.assign(new Error('AADSTS50196: the server terminated an operation because it encountered a loop'), { name: 'AuthenticationError' });
      return {
        token: `token-${state.asked}`,
        expiresOnTimestamp: clock.now + HOUR,
        ...(refreshAfterMs === undefined ? {} : { refreshAfterTimestamp: clock.now + refreshAfterMs }),
      } satisfies AccessToken;
    },
  };
  return { state, source };
}

/** A shared token over a fake Entra ID, on a clock the test moves; `requestMs`: how long a token request is waited for. */
function setUp(options: { refreshAfterMs?: number; requestMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  const { state, source } = entraId(clock, options.refreshAfterMs);
  const shared = new SharedAppToken(source, () => clock.now, options.requestMs);
  return { clock, state, shared };
}

/** setUp, with a first token taken, then Entra ID failing and the clock at that token's refresh time. */
async function dueForRenewalWhileFailing() {
  const context = setUp();
  await context.shared.getToken(GRAPH_APP_ONLY_SCOPE);
  context.state.failing = true;
  context.clock.now += HOUR - REFRESH_BEFORE_EXPIRY_MS;
  return context;
}

describe('one app-only Graph token for the process, shared (SharedAppToken)', () => {
  it('asks Entra ID once for a burst of callers, and all of them get that token', async () => {
    const { state, shared } = setUp();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => shared.getToken([GRAPH_APP_ONLY_SCOPE])));
    assert.equal(state.asked, 1);
    assert.deepEqual(new Set(tokens.map((token) => token?.token)), new Set(['token-1']));
    assert.equal(state.options[0], undefined, 'no caller’s options (an abort signal) on the shared request');
  });

  const refreshCases: Array<{ name: string; refreshAfterMs?: number; keptMs: number }> = [
    { name: 'Entra ID’s own refresh time (refreshAfterTimestamp)', refreshAfterMs: 30 * 60_000, keptMs: 30 * 60_000 },
    { name: 'REFRESH_BEFORE_EXPIRY_MS before expiry when Entra ID gives no refresh time', keptMs: HOUR - REFRESH_BEFORE_EXPIRY_MS },
  ];
  for (const { name, refreshAfterMs, keptMs } of refreshCases) {
    it(`keeps the token until ${name}, then renews it while callers go on with it`, async () => {
      const { clock, state, shared } = setUp({ refreshAfterMs });
      await shared.getToken(GRAPH_APP_ONLY_SCOPE);
      clock.now += keptMs - 1;
      assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-1');
      assert.equal(state.asked, 1);
      clock.now += 1;
      assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-1', 'still good: not waited for');
      assert.equal(state.asked, 2, 'but renewed');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-2');
      assert.equal(state.asked, 2);
    });
  }

  it('keeps no failure: the callers in the burst get it, and the next call asks again', async () => {
    const { state, shared } = setUp();
    state.failing = true;
    const outcomes = await Promise.allSettled([shared.getToken(GRAPH_APP_ONLY_SCOPE), shared.getToken(GRAPH_APP_ONLY_SCOPE)]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected'],
    );
    assert.equal(state.asked, 1);
    state.failing = false;
    assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-2');
  });

  it('serves a still-good token when its refresh fails, and not one about to expire', async () => {
    const { clock, shared } = await dueForRenewalWhileFailing();
    assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-1', 'Entra ID unwell: the token has minutes left');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-1', 'and after the renewal failed');
    clock.now += REFRESH_BEFORE_EXPIRY_MS - 10_000;
    await assert.rejects(shared.getToken(GRAPH_APP_ONLY_SCOPE), /AADSTS50196/, 'ten seconds left: the failure, as it came');
  });

  it('after a renewal fails while the token is good, waits RENEW_AGAIN_AFTER_MS before the next, not one per Graph call', async () => {
    const { clock, state, shared } = await dueForRenewalWhileFailing();
    for (let call = 0; call < 5; call++) {
      assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-1');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(state.asked, 2, 'one renewal, failed; the next four calls asked nobody');
    clock.now += RENEW_AGAIN_AFTER_MS;
    state.failing = false;
    await shared.getToken(GRAPH_APP_ONLY_SCOPE);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-3');
  });

  it('waits for a hung token request only so long: the callers get the failure, and the next call asks again', async () => {
    const { state, shared } = setUp({ requestMs: 20 });
    state.hanging = true;
    await assert.rejects(Promise.all([shared.getToken(GRAPH_APP_ONLY_SCOPE), shared.getToken(GRAPH_APP_ONLY_SCOPE)]), { name: 'DeadlineExceeded' });
    assert.equal(state.asked, 1);
    state.hanging = false;
    assert.equal((await shared.getToken(GRAPH_APP_ONLY_SCOPE))?.token, 'token-2');
  });

  it('passes a call with its own claims (a Conditional Access challenge) straight to Entra ID, every time', async () => {
    const { state, shared } = setUp();
    await shared.getToken(GRAPH_APP_ONLY_SCOPE);
    await shared.getToken(GRAPH_APP_ONLY_SCOPE, { claims: '{"access_token":{"nbf":{"essential":true}}}' });
    await shared.getToken(GRAPH_APP_ONLY_SCOPE, { claims: '{"access_token":{"nbf":{"essential":true}}}' });
    assert.equal(state.asked, 3);
  });

  // The Graph SDK attaches a token only to https URLs (GraphRequestUtil.isValidEndpoint), so a loopback http sandbox never
  // sees one: the SDK's own provider, which its AuthenticationHandler asks on every request, stands in for the wire here.
  it('gives the Graph SDK’s token provider one token for a burst of requests, asked for once', async () => {
    const clock = { now: Date.now() };
    const { state, source } = entraId(clock);
    const provider = new TokenCredentialAuthenticationProvider(new SharedAppToken(source), { scopes: [GRAPH_APP_ONLY_SCOPE] });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getAccessToken()));
    assert.deepEqual(new Set(tokens), new Set(['token-1']));
    assert.equal(state.asked, 1, 'one token request to Entra ID');
  });
});

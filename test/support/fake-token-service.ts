import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Bot Framework token service, faked at the HTTP level (the Agents Playground cannot do
 * OAuth): GET api/usertoken/GetToken answers the person's token once they have signed in (the
 * magic code `SIGN_IN_CODE` redeemed), 404 before; GET api/botsignin/GetSignInResource answers
 * the sign-in link; POST api/usertoken/exchange (Teams single sign-on) exchanges the Teams token
 * `TEAMS_SSO_TOKEN` and answers 400 "consent required" otherwise, as the service does before the
 * person has consented. `tokenOf` gives the token for a Teams user id (29:…).
 */
export const SIGN_IN_CODE = '246810';
export const TEAMS_SSO_TOKEN = 'teams-sso-token-for-the-bot';

export interface FakeTokenService {
  url: string;
  readonly calls: Array<{ path: string; query: URLSearchParams }>;
  failNext(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startFakeTokenService(tokenOf: (channelUserId: string) => string = (user) => `delegated-token-for-${user}`): Promise<FakeTokenService> {
  const calls: FakeTokenService['calls'] = [];
  const signedIn = new Set<string>();
  let failWith: number | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    calls.push({ path: url.pathname, query: url.searchParams });
    const json = (status: number, body?: unknown) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (failWith) return json(failWith, { error: { code: 'ServiceError', message: 'Broken.' } });
    if (url.pathname === '/api/usertoken/GetToken') {
      const user = url.searchParams.get('userId') ?? '';
      if (url.searchParams.get('code') === SIGN_IN_CODE) signedIn.add(user);
      if (!signedIn.has(user)) return json(404);
      return json(200, {
        channelId: url.searchParams.get('channelId'),
        connectionName: url.searchParams.get('connectionName'),
        token: tokenOf(user),
        expiration: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    if (url.pathname === '/api/usertoken/exchange' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const user = url.searchParams.get('userId') ?? '';
        const { token } = JSON.parse(body || '{}') as { token?: string };
        if (token !== TEAMS_SSO_TOKEN) return json(400, { error: { code: 'ConsentRequired', message: 'Consent required.' } });
        signedIn.add(user);
        json(200, { channelId: url.searchParams.get('channelId'), connectionName: url.searchParams.get('connectionName'), token: tokenOf(user) });
      });
      return;
    }
    if (url.pathname === '/api/botsignin/GetSignInResource')
      return json(200, { signInLink: 'https://token.example/sign-in?state=abc', tokenExchangeResource: { id: 'x', uri: 'api://bot', providerId: 'aad' } });
    return json(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failNext(status) {
      failWith = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

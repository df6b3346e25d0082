import assert from 'node:assert/strict';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { startSandbox, type RunningSandbox, type SandboxResponse } from '../../dev/sandbox/http-sandbox';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import type { AppError } from '../../core/errors';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { GraphMailSender } from '../../services/duties/graph-mail';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { fetchOrdRoles } from '../../services/reference/ord-roles';

/*
 * Issue 20 §2: a 302 from the ODS base to another host sent the apikey there 5 times. Every
 * outbound client with a credential is checked here against a server that redirects to
 * another origin (another port on the loopback host), which records what reached it.
 */

const DEV = path.join(__dirname, '..', '..', 'dev');
const KEY = 'ods-key-that-must-stay-home';
const GRAPH_TOKEN = 'graph-token-that-must-stay-home';
const ATTRIBUTES = {
  organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
  site: 'onPremisesExtensionAttributes.extensionAttribute2',
  leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
  leaverValue: 'Leaver',
};
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: GRAPH_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('no credential follows a redirect to another origin (issue 20 §2)', function () {
  this.timeout(20_000);
  let elsewhere: RunningSandbox;
  let redirecting: RunningSandbox;
  let ods: SandboxOdsServer;
  /** What the redirecting server answers for a path: a redirect, or undefined to pass it to the real sandbox data. */
  let answer: (requestPath: string) => SandboxResponse | undefined;

  before(async () => {
    elsewhere = await startSandbox(() => ({ status: 200, body: { resourceType: 'Bundle', entry: [] } }));
    ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
    redirecting = await startSandbox((request) => answer(request.path));
  });
  after(async () => {
    await elsewhere.close();
    await redirecting.close();
    await ods.close();
  });
  beforeEach(() => {
    elsewhere.requests.length = 0;
    redirecting.requests.length = 0;
    ods.requests.length = 0;
  });

  const leaked = () =>
    elsewhere.requests.map((request) => ({ path: request.path, apikey: request.headers.apikey, authorization: request.headers.authorization }));

  for (const status of [301, 302, 303, 307, 308]) {
    it(`ODS FHIR: a ${status} to another host is not followed, the key is not sent there, and it is a setting to fix (once, not retried)`, async () => {
      answer = () => ({ status, headers: { location: `${elsewhere.url}/collect?from=ods` } });
      await assert.rejects(new OdsFhirClient(redirecting.url, KEY, { sleep: async () => undefined }).getOrganisation('ZZ9101'), (error: AppError) => {
        assert.equal(error.code, 'ODS_MISCONFIGURED');
        assert.match(error.message, /redirected the bot to another host \(http:\/\/127\.0\.0\.1:\d+\).*not followed/);
        assert.doesNotMatch(error.message, new RegExp(KEY));
        return true;
      });
      assert.deepEqual(leaked(), []);
      assert.equal(redirecting.requests.length, 1);
    });
  }

  it('ODS FHIR: relationship searches are guarded the same way', async () => {
    answer = () => ({ status: 307, headers: { location: `${elsewhere.url}/OrganizationAffiliation` } });
    await assert.rejects(new OdsFhirClient(redirecting.url, KEY).getRelationships('ZZ9110'), { code: 'ODS_MISCONFIGURED' });
    assert.deepEqual(leaked(), []);
  });

  it('ODS FHIR: a redirect on ODS’s own origin is followed with the key, a bounded number of times', async () => {
    const record = await (await fetch(`${ods.fhirUrl}/Organization/ZZ9101`, { headers: { apikey: KEY } })).json();
    answer = (requestPath) =>
      requestPath.startsWith('/moved/') ? { status: 200, body: record } : { status: 301, headers: { location: `/moved${requestPath}` } };
    assert.equal((await new OdsFhirClient(redirecting.url, KEY).getOrganisation('ZZ9101'))?.name, 'HARBOUR LANE PHARMACY');
    assert.deepEqual(
      redirecting.requests.map((request) => [request.path, request.headers.apikey]),
      [
        ['/Organization/ZZ9101', KEY],
        ['/moved/Organization/ZZ9101', KEY],
      ],
    );

    redirecting.requests.length = 0;
    answer = (requestPath) => ({ status: 302, headers: { location: `${redirecting.url}${requestPath}x` } });
    await assert.rejects(new OdsFhirClient(redirecting.url, KEY).getOrganisation('ZZ9101'), (error: AppError) => {
      assert.equal(error.code, 'ODS_MISCONFIGURED');
      assert.match(error.message, /too many times/);
      return true;
    });
    assert.equal(redirecting.requests.length, 6, 'the first request and five redirects on the same origin');
    assert.deepEqual(leaked(), []);
  });

  it('ORD roles: a redirect to another host is not followed', async () => {
    answer = () => ({ status: 302, headers: { location: `${elsewhere.url}/roles` } });
    await assert.rejects(fetchOrdRoles(redirecting.url));
    assert.deepEqual(leaked(), []);
  });

  it('Graph: a redirect to another host is neither followed nor sent the token; the directory is unavailable', async () => {
    answer = () => ({ status: 307, headers: { location: `${elsewhere.url}/v1.0/$batch` } });
    const directory = new GraphDirectory(createGraphClient(redirecting.url, credential), ATTRIBUTES, async () => undefined);
    await assert.rejects(directory.lookupAccounts(['maya.sorel@nhsmail.example']), { code: 'DIRECTORY_UNAVAILABLE' });
    assert.equal(redirecting.requests.length, 1);
    assert.deepEqual(leaked(), [], 'nothing reached the other host: not the token, not the addresses looked up');
  });

  // (The SDK attaches the token only to https hosts, so over loopback http no token is sent at all:
  // what these show is that nothing, token or not, reaches another origin.)
  it('Graph: a redirect on its own origin is followed, the batch sent again whole', async () => {
    answer = (requestPath) =>
      requestPath === '/v1.0/$batch'
        ? { status: 307, headers: { location: `${redirecting.url}/v1.0/moved/$batch` } }
        : requestPath === '/v1.0/moved/$batch'
          ? {
              status: 200,
              body: {
                responses: [
                  {
                    id: 'entry-1',
                    status: 200,
                    body: {
                      id: 'new-id',
                      userPrincipalName: 'a@nhsmail.example',
                      displayName: 'A',
                      onPremisesExtensionAttributes: { extensionAttribute1: null },
                    },
                  },
                  { id: 'groups-1', status: 200, body: { value: [] } },
                ],
              },
            }
          : undefined;
    const directory = new GraphDirectory(createGraphClient(redirecting.url, credential), ATTRIBUTES, async () => undefined);
    assert.equal((await directory.lookUpPerson('new-id', ['a-group'])).administrator?.id, 'new-id');
    assert.deepEqual(
      redirecting.requests.map((request) => request.path),
      ['/v1.0/$batch', '/v1.0/moved/$batch'],
    );
    assert.deepEqual(redirecting.requests[0]!.body, redirecting.requests[1]!.body, 'the same requests, to the new place');
  });

  // The mail sender sets the requester's delegated token itself, so it is sent over http too: this one would see a leak.
  it('Graph mail: a redirect to another host is neither followed nor sent the requester’s token; the message fails with its status', async () => {
    answer = () => ({ status: 307, headers: { location: `${elsewhere.url}/v1.0/me/sendMail` } });
    await assert.rejects(
      new GraphMailSender(redirecting.url).send('delegated-token-that-must-stay-home', { to: 'a@nhsmail.example', subject: 's', body: 'b' }),
      {
        name: 'DeliveryError',
        status: 307,
      },
    );
    assert.equal(redirecting.requests[0]?.headers.authorization, 'Bearer delegated-token-that-must-stay-home', 'sent to Graph itself');
    assert.deepEqual(leaked(), [], 'nothing reached the other host');
  });
});

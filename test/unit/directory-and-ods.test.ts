import assert from 'node:assert/strict';
import path from 'node:path';
import { DEMO } from '../../config';
import type { AppError } from '../../core/errors';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds, startSandboxOrd } from '../../dev/sandbox/ord-server';
import { startSandbox, type RunningSandbox } from '../../dev/sandbox/http-sandbox';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { OrdClient } from '../../services/reference/ord-client';
import { fetchOrdRoles } from '../../services/reference/ord-roles';

const DEV = path.join(__dirname, '..', '..', 'dev');
const ATTRIBUTES = {
  organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
  site: 'onPremisesExtensionAttributes.extensionAttribute2',
  leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
  leaverValue: 'Leaver',
};
const PRIYA = '6e6d7300-0000-4000-8000-000000000128';

describe('Graph directory over HTTP (sandbox Graph server)', () => {
  let graph: SandboxGraph;
  let waits: number[];
  let directory: GraphDirectory;
  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
  });
  after(() => graph.close());
  beforeEach(() => {
    graph.requests.length = 0;
    waits = [];
    directory = new GraphDirectory(createGraphClient(graph.url), ATTRIBUTES, async (ms) => {
      waits.push(ms);
    });
  });

  it('looks accounts up in JSON batches of at most 20, selecting only the fields the rules read', async () => {
    const emails = Array.from({ length: 45 }, (_, index) => `missing.${index}@nhsmail.example`);
    emails[0] = 'Amara.Mensah@nhsmail.example';
    const found = await directory.lookupAccounts(emails);
    const batches = graph.requests.filter((request) => request.path === '/v1.0/$batch');
    assert.equal(graph.requests.length, batches.length, 'every look-up went through $batch');
    assert.deepEqual(
      batches.map((batch) => (batch.body as { requests: unknown[] }).requests.length),
      [20, 20, 5],
    );
    const firstUrl = (batches[0]!.body as { requests: Array<{ method: string; url: string }> }).requests[0]!;
    assert.equal(firstUrl.method, 'GET');
    const select = new URL(firstUrl.url, 'http://graph').searchParams.get('$select')!.split(',');
    assert.deepEqual(select.sort(), [
      'accountEnabled',
      'department',
      'displayName',
      'givenName',
      'id',
      'jobTitle',
      'mobilePhone',
      'onPremisesExtensionAttributes',
      'otherMails',
      'proxyAddresses',
      'surname',
      'userPrincipalName',
    ]);
    assert.equal(found.size, 45);
    assert.equal(found.get('missing.7@nhsmail.example'), null);
    const amara = found.get('amara.mensah@nhsmail.example');
    assert.equal(amara?.organisationOds, 'ZZ9001');
    assert.equal(amara?.siteOds, 'ZZ9101');
    assert.equal(amara?.markedAsLeaver, false);
    assert.equal(amara?.jobTitle, 'Pharmacist');
    assert.deepEqual(amara?.proxyAddresses, ['SMTP:amara.mensah@nhsmail.example']);
  });

  it('reads otherMails for the centrally funded email rule, in the same batch', async () => {
    const found = await directory.lookupAccounts(['luca.ferris@nhsmail.example']);
    assert.deepEqual(found.get('luca.ferris@nhsmail.example')?.otherMails, ['luca.ferris@northmoor.gov.uk']);
    assert.equal(graph.requests.length, 1);
  });

  for (const suffix of ['', '/', '/v1.0', '/v1.0/']) {
    it(`GRAPH_BASE_URL works written as the service root${suffix ? ` with "${suffix}"` : ''}`, async () => {
      const client = new GraphDirectory(createGraphClient(`${graph.url}${suffix}`), ATTRIBUTES);
      const found = await client.lookupAccounts(['amara.mensah@nhsmail.example']);
      assert.equal(found.get('amara.mensah@nhsmail.example')?.givenName, 'Amara');
      assert.equal(graph.requests.at(-1)?.path, '/v1.0/$batch');
    });
  }

  it('reads the leaver flag and disabled state from the configured attributes', async () => {
    const found = await directory.lookupAccounts(['kezia.morrow@nhsmail.example', 'petra.vance@nhsmail.example']);
    assert.equal(found.get('kezia.morrow@nhsmail.example')?.markedAsLeaver, true);
    assert.equal(found.get('petra.vance@nhsmail.example')?.accountEnabled, false);
  });

  it('retries the look-ups Graph throttled inside a batch after their Retry-After, and loses none', async () => {
    graph.throttleNext(3, 2);
    const found = await directory.lookupAccounts([
      'amara.mensah@nhsmail.example',
      'ben.hollis@nhsmail.example',
      'chloe.danvers@nhsmail.example',
      'dev.raman@nhsmail.example',
    ]);
    assert.deepEqual(waits, [2000]);
    const batches = graph.requests.filter((request) => request.path === '/v1.0/$batch');
    assert.deepEqual(
      batches.map((batch) => (batch.body as { requests: unknown[] }).requests.length),
      [4, 3],
    );
    assert.deepEqual(
      [...found.values()].map((account) => account?.givenName),
      ['Amara', 'Ben', 'Chloe', 'Dev'],
      'every account found, in the order asked',
    );
  });

  it('gives up with DIRECTORY_UNAVAILABLE when throttling never ends', async () => {
    graph.throttleNext(1000, 0);
    try {
      await assert.rejects(directory.lookupAccounts(['amara.mensah@nhsmail.example']), { code: 'DIRECTORY_UNAVAILABLE' });
      await assert.rejects(directory.lookUpPerson(PRIYA, [DEMO.requesterGroupId]), { code: 'DIRECTORY_UNAVAILABLE' });
    } finally {
      graph.throttleNext(0);
    }
  });

  it('looks a person up in one JSON batch: their entry (administered organisation) and checkMemberGroups', async () => {
    const person = await directory.lookUpPerson(PRIYA, [DEMO.requesterGroupId, DEMO.opsGroupId]);
    assert.deepEqual([...person.groups], [DEMO.requesterGroupId]);
    assert.deepEqual(person.administrator, {
      id: PRIYA,
      displayName: 'Priya Okafor',
      userPrincipalName: 'priya.okafor@nhsmail.example',
      organisationOds: 'ZZ9001',
    });
    assert.deepEqual(
      graph.requests.map((request) => `${request.method} ${request.path}`),
      ['POST /v1.0/$batch'],
      'one HTTP request',
    );
    const inner = (graph.requests[0]!.body as { requests: Array<{ method: string; url: string; body?: unknown; headers?: Record<string, string> }> }).requests;
    assert.deepEqual(
      inner.map((request) => `${request.method} ${request.url}`),
      [`GET /users/${PRIYA}?$select=id,displayName,userPrincipalName,onPremisesExtensionAttributes`, `POST /users/${PRIYA}/checkMemberGroups`],
    );
    assert.deepEqual(inner[1]!.body, { groupIds: [DEMO.requesterGroupId, DEMO.opsGroupId] });
    assert.equal(inner[1]!.headers?.['Content-Type'], 'application/json', 'a request with a body in a batch names its Content-Type');
  });

  it('looks up the people asked for in the same moment together: ten to a batch, each given their own answer', async () => {
    const asked = [PRIYA, 'no-such-user', ...Array.from({ length: 10 }, (_, index) => `stranger-${index}`)];
    const people = await Promise.all(asked.map((userId) => directory.lookUpPerson(userId, [DEMO.requesterGroupId, DEMO.opsGroupId])));
    assert.deepEqual(
      graph.requests.map((request) => (request.body as { requests: unknown[] }).requests.length).sort((a, b) => b - a),
      [20, 4],
      'two HTTP requests for twelve people: the first batch full',
    );
    const first = (
      graph.requests.find((request) => (request.body as { requests: unknown[] }).requests.length === 20)!.body as {
        requests: Array<{ id: string; url: string }>;
      }
    ).requests;
    assert.deepEqual(
      first.slice(0, 4).map((request) => `${request.id} ${request.url.split('?')[0]}`),
      [
        `entry-1 /users/${PRIYA}`,
        `groups-1 /users/${PRIYA}/checkMemberGroups`,
        'entry-2 /users/no-such-user',
        'groups-2 /users/no-such-user/checkMemberGroups',
      ],
    );
    assert.equal(people[0]!.administrator?.organisationOds, 'ZZ9001');
    assert.deepEqual([...people[0]!.groups], [DEMO.requesterGroupId]);
    for (const person of people.slice(1)) assert.deepEqual(person, { groups: new Set(), administrator: null });
  });

  it('a look-up asked later goes in a batch of its own', async () => {
    await directory.lookUpPerson(PRIYA, [DEMO.requesterGroupId]);
    await directory.lookUpPerson(PRIYA, [DEMO.requesterGroupId]);
    assert.equal(graph.requests.length, 2);
  });

  it('someone the directory does not know is no entry and no groups', async () => {
    assert.deepEqual(await directory.lookUpPerson('no-such-user', [DEMO.requesterGroupId]), { groups: new Set(), administrator: null });
  });

  it('sends again the part of a person look-up Graph throttled, after its Retry-After', async () => {
    graph.throttleNext(1, 2);
    const person = await directory.lookUpPerson(PRIYA, [DEMO.requesterGroupId]);
    assert.deepEqual(waits, [2000]);
    assert.deepEqual(
      graph.requests.map((request) => (request.body as { requests: Array<{ id: string }> }).requests.map((inner) => inner.id)),
      [['entry-1', 'groups-1'], ['entry-1']],
      'the throttled entry alone, the second time',
    );
    assert.equal(person.administrator?.organisationOds, 'ZZ9001');
    assert.deepEqual([...person.groups], [DEMO.requesterGroupId]);
  });

  it('reports an unreachable directory as DIRECTORY_UNAVAILABLE', async () => {
    const offline = new GraphDirectory(createGraphClient('http://127.0.0.1:9'), ATTRIBUTES);
    await assert.rejects(offline.lookupAccounts(['a@x.example']), { code: 'DIRECTORY_UNAVAILABLE' });
  });
});

describe('ORD API client (sandbox ORD server)', () => {
  let ord: RunningSandbox;
  before(async () => {
    ord = await startSandboxOrd(await loadSandboxOds(path.join(DEV, 'demo-ods.json')));
  });
  after(() => ord.close());

  it('reads name, status and active roles, primary role first', async () => {
    const site = await new OrdClient(ord.url).getOrganisation('zz9106');
    assert.deepEqual(site, {
      odsCode: 'ZZ9106',
      name: 'OLD MILL PHARMACY',
      active: false,
      roleIds: ['RO182'],
      links: [{ relationship: 'RE4', targetOds: 'ZZ9001', targetPrimaryRoleId: 'RO98' }],
      lastChanged: '2026-10-01',
    });
    assert.equal(ord.requests.at(-1)?.path, '/ORD/2-0-0/organisations/zz9106');
  });

  it('reads an optical site’s link to its optical headquarters (RO166), primary role first', async () => {
    const site = await new OrdClient(ord.url).getOrganisation('ZZ9110');
    assert.deepEqual(site?.roleIds, ['RO167']);
    assert.deepEqual(
      site?.links?.find((link) => link.targetPrimaryRoleId === 'RO166'),
      { relationship: 'RE6', targetOds: 'ZZ9201', targetPrimaryRoleId: 'RO166' },
    );
  });

  it('serves the roles code system in the ORD shape, and the client reads it', async () => {
    const roles = await fetchOrdRoles(ord.url);
    assert.deepEqual(
      roles.find((role) => role.id === 'RO167'),
      { id: 'RO167', code: '167', displayName: 'OPTICAL SITE', primaryRole: true },
    );
    assert.equal(ord.requests.at(-1)?.path, '/ORD/2-0-0/roles');
  });

  it('answers null for an unknown code and ODS_UNAVAILABLE when ODS cannot be reached', async () => {
    assert.equal(await new OrdClient(ord.url).getOrganisation('ZZ0000'), null);
    await assert.rejects(new OrdClient('http://127.0.0.1:9/ORD/2-0-0').getOrganisation('ZZ9101'), { code: 'ODS_UNAVAILABLE' });
  });
});

/** A FHIR Organization with only the parts a test varies, in the shape of the official specification's example. */
function fhirOrganization(code: string, roles: Array<{ code: string; active?: boolean; end?: string }>, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Organization',
    id: code,
    meta: { lastUpdated: '2026-09-14T02:00:00.000+00:00' },
    extension: roles.map((role) => ({
      url: 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-OrganisationRole',
      extension: [
        {
          url: 'roleCode',
          valueCodeableConcept: {
            coding: [{ system: 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole', code: role.code }],
          },
        },
        {
          url: 'https://fhir.nhs.uk/England/StructureDefinition/Extension-England-TypedPeriod',
          extension: [
            { url: 'dateType', valueCoding: { code: 'Operational' } },
            { url: 'period', valuePeriod: { start: '2015-04-01', ...(role.end ? { end: role.end } : {}) } },
          ],
        },
        ...(role.active === undefined ? [] : [{ url: 'active', valueBoolean: role.active }]),
      ],
    })),
    identifier: [{ use: 'official', system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: code }],
    active: true,
    name: `ORGANISATION ${code}`,
    ...extra,
  };
}

describe('ODS FHIR R4 API client (sandbox ODS server)', () => {
  const KEY = 'sandbox-api-key-not-a-secret';
  let server: SandboxOdsServer;
  let client: OdsFhirClient;
  let waits: number[];
  before(async () => {
    server = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    waits = [];
    client = new OdsFhirClient(server.fhirUrl, KEY, {
      primaryRoleIds: new Set(['RO101', 'RO182', 'RO167', 'RO166', 'RO172']),
      sleep: async (ms) => void waits.push(ms),
      now: () => new Date('2026-11-29T12:00:00Z'),
    });
  });

  it('reads Organization/{code}: name, active, active roles primary first, last change date; the key only in the apikey header', async () => {
    const site = await client.getOrganisation('zz9104');
    assert.deepEqual(site, { odsCode: 'ZZ9104', name: 'QUAYSIDE CARE HOME', active: true, roleIds: ['RO101', 'RO269'], lastChanged: '2026-10-01' });
    const request = server.requests.at(-1)!;
    assert.equal(request.path, '/organisation-data-terminology-api/fhir/Organization/ZZ9104', 'the code is upper-cased before the look-up');
    assert.equal(request.headers.apikey, KEY);
    assert.match(String(request.headers.accept), /application\/fhir\+json/);
    assert.ok(!server.requests.some((recorded) => [...recorded.query.values()].some((value) => value.includes(KEY))), 'the key is never in a URL');
  });

  it('an inactive organisation is not active; an ended role never gives a sector', async () => {
    assert.equal((await client.getOrganisation('ZZ9106'))?.active, false);
    assert.deepEqual((await client.getOrganisation('ZZ9109'))?.roleIds, ['RO172'], 'RO101 ended in 2020');
  });

  it('reads relationships from OrganizationAffiliation?primary-organization, active ones only', async () => {
    assert.deepEqual(await client.getRelationships('ZZ9110'), [
      { relationship: 'RE4', targetOds: 'ZZ9001' },
      { relationship: 'RE6', targetOds: 'ZZ9201' },
    ]);
    const search = server.requests.at(-1)!;
    assert.equal(search.path, '/organisation-data-terminology-api/fhir/OrganizationAffiliation');
    assert.equal(search.query.get('primary-organization'), 'ZZ9110');
    assert.equal(search.query.get('active'), 'true');
    // It gives a total, so no count is asked for; the sandbox answers _summary=count as the spec offers it.
    assert.ok(!server.requests.some((request) => request.query.has('_summary')));
    const counted = await fetch(`${server.fhirUrl}/OrganizationAffiliation?primary-organization=ZZ9110&active=true&_summary=count`, {
      headers: { apikey: KEY },
    });
    assert.deepEqual(await counted.json(), { resourceType: 'Bundle', type: 'searchset', total: 2 });
  });

  it('answers null for a 404 OperationOutcome (an unknown code)', async () => {
    assert.equal(await client.getOrganisation('ZZ91O1'), null);
  });

  it('a wrong or missing API key is ODS_MISCONFIGURED, never "unknown"', async () => {
    await assert.rejects(new OdsFhirClient(server.fhirUrl, 'wrong-key').getOrganisation('ZZ9101'), { code: 'ODS_MISCONFIGURED' });
    await assert.rejects(new OdsFhirClient(server.fhirUrl, undefined).getOrganisation('ZZ9101'), (error: Error) => {
      assert.match(error.message, /HTTP 401.*ODS_API_KEY/);
      assert.doesNotMatch(error.message, new RegExp(KEY));
      return true;
    });
    assert.match(JSON.stringify(new OdsFhirClient(server.fhirUrl, 'wrong-key').status()), /"where":"127\.0\.0\.1:\d+"/);
  });

  it('a 404 that is not an OperationOutcome means a wrong base URL: ODS_MISCONFIGURED', async () => {
    await assert.rejects(new OdsFhirClient(`${server.fhirUrl.replace(/\/fhir$/, '')}/nope`, KEY).getOrganisation('ZZ9101'), { code: 'ODS_MISCONFIGURED' });
  });

  it('429 waits for Retry-After and tries again; a 429 that does not stop is ODS_UNAVAILABLE', async () => {
    server.throttleNext(2, 3);
    assert.equal((await client.getOrganisation('ZZ9101'))?.name, 'HARBOUR LANE PHARMACY');
    assert.deepEqual(waits, [3000, 3000]);
    assert.equal(server.requests.length, 3);
    server.throttleNext(10, 1);
    await assert.rejects(client.getOrganisation('ZZ9101'), { code: 'ODS_UNAVAILABLE' });
    server.throttleNext(0);
    assert.match(client.status().lastError?.message ?? '', /limiting/);
  });

  it('ODS_UNAVAILABLE when ODS cannot be reached', async () => {
    await assert.rejects(new OdsFhirClient('http://127.0.0.1:9/fhir', KEY, { sleep: async () => undefined }).getOrganisation('ZZ9101'), {
      code: 'ODS_UNAVAILABLE',
    });
  });
});

describe('ODS FHIR client on records shaped as the specification gives them', () => {
  const answers = new Map<string, unknown>();
  let server: RunningSandbox;
  before(async () => {
    server = await startSandbox((request) => {
      const body = answers.get(`${request.path}?${request.query}`) ?? answers.get(request.path);
      return body ? { status: 200, body } : { status: 404, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing' }] } };
    });
  });
  after(() => server.close());
  const client = () => new OdsFhirClient(server.url, 'k', { primaryRoleIds: new Set(['RO177']), now: () => new Date('2026-11-29T12:00:00Z') });

  it('orders roles primary first by the roles code system, drops roles marked inactive or ended, and falls back to meta.lastUpdated', async () => {
    answers.set(
      '/Organization/A1',
      fhirOrganization('A1', [
        { code: 'RO76', active: true },
        { code: 'RO177', active: true },
        { code: 'RO101', active: false },
        { code: 'RO182', end: '2024-03-31' },
        { code: 'RO65', active: true, end: '2025-01-01' },
      ]),
    );
    assert.deepEqual(await client().getOrganisation('A1'), {
      odsCode: 'A1',
      name: 'ORGANISATION A1',
      active: true,
      roleIds: ['RO177', 'RO76'],
      lastChanged: '2026-09-14',
    });
  });

  it('follows a next page on the API’s own origin, and a next page elsewhere fails the read rather than ending it', async () => {
    const affiliation = (target: string, active = true) => ({
      resource: {
        resourceType: 'OrganizationAffiliation',
        active,
        organization: { reference: 'Organization/A2', identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A2' } },
        participatingOrganization: {
          reference: `Organization/${target}`,
          identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: target },
        },
        code: [
          {
            coding: [
              { system: 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSRelationship', code: 'RE6', display: 'IS OPERATED BY' },
            ],
          },
        ],
      },
    });
    answers.set('/OrganizationAffiliation?primary-organization=A2&active=true&_count=1000', {
      resourceType: 'Bundle',
      link: [{ relation: 'next', url: `${server.url}/OrganizationAffiliation?page=2` }],
      entry: [affiliation('H1'), affiliation('H0', false), { resource: fhirOrganization('A2', []) }],
    });
    answers.set('/OrganizationAffiliation?page=2', {
      resourceType: 'Bundle',
      link: [{ relation: 'next', url: 'https://elsewhere.example/steal?page=3' }],
      entry: [affiliation('H2')],
    });
    await assert.rejects(client().getRelationships('a2'), (error: AppError) => {
      assert.equal(error.code, 'ODS_UNAVAILABLE');
      assert.match(error.message, /relationships for A2 could not be read whole \(its next page is on another host \(elsewhere\.example\)\)/);
      return true;
    });
    answers.set('/OrganizationAffiliation?page=2', { resourceType: 'Bundle', entry: [affiliation('H2')] });
    // The pages give no total, so the client asks for the count (_summary=count).
    answers.set('/OrganizationAffiliation?primary-organization=A2&active=true&_summary=count', { resourceType: 'Bundle', type: 'searchset', total: 3 });
    assert.deepEqual(await client().getRelationships('a2'), [
      { relationship: 'RE6', targetOds: 'H1' },
      { relationship: 'RE6', targetOds: 'H2' },
    ]);
  });
});

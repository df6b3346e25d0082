import assert from 'node:assert/strict';
import path from 'node:path';
import { DEMO } from '../../config';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { loadSandboxOds, startSandboxOrd } from '../../dev/sandbox/ord-server';
import type { RunningSandbox } from '../../dev/sandbox/http-sandbox';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
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
    assert.deepEqual(batches.map((batch) => (batch.body as { requests: unknown[] }).requests.length), [20, 20, 5]);
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
    const found = await directory.lookupAccounts(['amara.mensah@nhsmail.example', 'ben.hollis@nhsmail.example', 'chloe.danvers@nhsmail.example', 'dev.raman@nhsmail.example']);
    assert.deepEqual(waits, [2000]);
    const batches = graph.requests.filter((request) => request.path === '/v1.0/$batch');
    assert.deepEqual(batches.map((batch) => (batch.body as { requests: unknown[] }).requests.length), [4, 3]);
    assert.deepEqual([...found.values()].map((account) => account?.givenName), ['Dev', 'Amara', 'Ben', 'Chloe']);
  });

  it('gives up with DIRECTORY_UNAVAILABLE when throttling never ends', async () => {
    graph.throttleNext(1000, 0);
    await assert.rejects(directory.lookupAccounts(['amara.mensah@nhsmail.example']), { code: 'DIRECTORY_UNAVAILABLE' });
    graph.throttleNext(0);
  });

  it('checks group membership with checkMemberGroups and reads the administered organisation', async () => {
    const groups = await directory.memberGroups(PRIYA, [DEMO.requesterGroupId, DEMO.opsGroupId]);
    assert.deepEqual([...groups], [DEMO.requesterGroupId]);
    const administrator = await directory.getAdministrator(PRIYA);
    assert.deepEqual(administrator, { id: PRIYA, displayName: 'Priya Okafor', userPrincipalName: 'priya.okafor@nhsmail.example', organisationOds: 'ZZ9001' });
    assert.equal(await directory.getAdministrator('no-such-user'), null);
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
    assert.deepEqual(site, { odsCode: 'ZZ9106', name: 'OLD MILL PHARMACY', active: false, roleIds: ['RO182'], links: [{ relationship: 'RE4', targetOds: 'ZZ9001', targetPrimaryRoleId: 'RO98' }] });
    assert.equal(ord.requests.at(-1)?.path, '/ORD/2-0-0/organisations/zz9106');
  });

  it('reads an optical site’s link to its optical headquarters (RO166), primary role first', async () => {
    const site = await new OrdClient(ord.url).getOrganisation('ZZ9110');
    assert.deepEqual(site?.roleIds, ['RO167']);
    assert.deepEqual(site?.links.find((link) => link.targetPrimaryRoleId === 'RO166'), { relationship: 'RE6', targetOds: 'ZZ9201', targetPrimaryRoleId: 'RO166' });
  });

  it('serves the roles code system in the ORD shape, and the client reads it', async () => {
    const roles = await fetchOrdRoles(ord.url);
    assert.deepEqual(roles.find((role) => role.id === 'RO167'), { id: 'RO167', code: '167', displayName: 'OPTICAL SITE', primaryRole: true });
    assert.equal(ord.requests.at(-1)?.path, '/ORD/2-0-0/roles');
  });

  it('answers null for an unknown code and ODS_UNAVAILABLE when ODS cannot be reached', async () => {
    assert.equal(await new OrdClient(ord.url).getOrganisation('ZZ0000'), null);
    await assert.rejects(new OrdClient('http://127.0.0.1:9/ORD/2-0-0').getOrganisation('ZZ9101'), { code: 'ODS_UNAVAILABLE' });
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeSources } from '../../bot/commands/sources-command';
import { startSandbox, type RunningSandbox } from '../../dev/sandbox/http-sandbox';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import { openDataSources } from '../../services/data-sources';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { fetchFhirRoles, ODS_ROLE_CODE_SYSTEM, PrimaryRoles } from '../../services/reference/ods-role-codesystem';

/*
 * Issue 22, ODS: primary roles come from the FHIR API's ODSOrganisationRole CodeSystem (its
 * `primaryRole` property), the 2023 snapshot only when the API cannot be read; `sources` says
 * which and of what date. And the client reads the specification's own example responses
 * (test/fixtures/ods-fhir-spec, vendored with where they came from).
 */

const ROOT = path.join(__dirname, '..', '..');
const DEV = path.join(ROOT, 'dev');
const POLICY = path.join(ROOT, 'policy');
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'ods-fhir-spec');
const KEY = 'roles-test-key';
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));

/** A FHIR R4 CodeSystem with the primaryRole property, as the specification describes ODSOrganisationRole. */
const codeSystem = (version: string, concepts: Array<[code: string, display: string, primary?: boolean]>) => ({
  resourceType: 'CodeSystem',
  url: ODS_ROLE_CODE_SYSTEM,
  version,
  date: version,
  status: 'active',
  content: 'complete',
  property: [{ code: 'primaryRole', type: 'boolean' }],
  concept: concepts.map(([code, display, primary]) => ({
    code,
    display,
    ...(primary === undefined ? {} : { property: [{ code: 'primaryRole', valueBoolean: primary }] }),
  })),
});

describe('ODS primary roles from the FHIR API’s ODSOrganisationRole CodeSystem (issue 22)', function () {
  this.timeout(20_000);
  let ods: SandboxOdsServer;
  let fake: RunningSandbox;
  let answer: unknown;
  before(async () => {
    ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY, rolesVersion: '2026-12-01' });
    fake = await startSandbox((request) => {
      if (request.path === '/Organization/RR8') return { status: 200, body: fixture('organization-get-single-organization.json') };
      if (request.path === '/OrganizationAffiliation') return { status: 200, body: fixture('organization-affiliation-search.json') };
      if (request.path === '/Organization/A9') return { status: 200, body: answer };
      if (request.path === '/CodeSystem') return { status: 200, body: answer };
      return undefined;
    });
  });
  after(async () => {
    await ods.close();
    await fake.close();
  });

  it('reads the CodeSystem with the key, in full (_summary=false), and takes primaryRole from each concept', async () => {
    ods.requests.length = 0;
    const roles = await fetchFhirRoles(ods.fhirUrl, KEY);
    assert.equal(roles.version, '2026-12-01');
    assert.equal(roles.dataDate, '2026-12-01');
    assert.deepEqual(
      roles.roles.find((role) => role.id === 'RO166'),
      { id: 'RO166', code: '166', displayName: 'OPTICAL HEADQUARTERS', primaryRole: true },
    );
    const request = ods.requests[0]!;
    assert.equal(request.path, '/organisation-data-terminology-api/fhir/CodeSystem');
    assert.equal(request.query.get('system'), ODS_ROLE_CODE_SYSTEM);
    assert.equal(request.query.get('_summary'), 'false');
    assert.equal(request.headers.apikey, KEY);
  });

  it('of the 2-3 versions ODS keeps, the newest is used', async () => {
    answer = {
      resourceType: 'Bundle',
      entry: [
        { resource: codeSystem('2026-11-28', [['RO76', 'GP PRACTICE', true]]) },
        {
          resource: codeSystem('2026-11-30', [
            ['RO76', 'GP PRACTICE', false],
            ['RO177', 'PRESCRIBING COST CENTRE', true],
          ]),
        },
        { resource: codeSystem('2026-11-29', [['RO76', 'GP PRACTICE', true]]) },
      ],
    };
    const roles = await fetchFhirRoles(fake.url, KEY);
    assert.equal(roles.version, '2026-11-30');
    assert.deepEqual(
      roles.roles.map((role) => [role.id, role.primaryRole]),
      [
        ['RO76', false],
        ['RO177', true],
      ],
    );
  });

  it('a concept that does not say whether it is primary, or no CodeSystem at all, is refused rather than half used', async () => {
    answer = {
      resourceType: 'Bundle',
      entry: [
        {
          resource: codeSystem('2026-11-30', [
            ['RO76', 'GP PRACTICE', false],
            ['RO177', 'PRESCRIBING COST CENTRE'],
          ]),
        },
      ],
    };
    await assert.rejects(fetchFhirRoles(fake.url, KEY), /RO177 does not say whether it is primary/);
    answer = { resourceType: 'Bundle', entry: [] };
    await assert.rejects(fetchFhirRoles(fake.url, KEY), { code: 'ODS_UNAVAILABLE' });
  });

  it('a CodeSystem that says it lists only part of its concepts, counts more than it lists, or comes in pages is refused', async () => {
    const roles = codeSystem('2026-11-30', [
      ['RO76', 'GP PRACTICE', true],
      ['RO177', 'PRESCRIBING COST CENTRE', false],
    ]);
    answer = { resourceType: 'Bundle', entry: [{ resource: { ...roles, content: 'fragment' } }] };
    await assert.rejects(fetchFhirRoles(fake.url, KEY), /content is "fragment", not complete/);
    answer = { resourceType: 'Bundle', entry: [{ resource: { ...roles, count: 3 } }] };
    await assert.rejects(fetchFhirRoles(fake.url, KEY), /counts 3 concepts but lists 2/);
    answer = { resourceType: 'Bundle', link: [{ relation: 'next', url: `${fake.url}/CodeSystem?page=2` }], entry: [{ resource: roles }] };
    await assert.rejects(fetchFhirRoles(fake.url, KEY), /more than one page/);
    answer = { resourceType: 'Bundle', entry: [{ resource: { ...roles, count: 2 } }] };
    assert.equal((await fetchFhirRoles(fake.url, KEY)).roles.length, 2, 'a complete CodeSystem whose count matches is read');
  });

  it('the FHIR client orders an organisation’s roles primary first by the CodeSystem read from the API, and sources names it with its date', async () => {
    answer = {
      resourceType: 'Bundle',
      entry: [
        {
          resource: codeSystem('2026-11-30', [
            ['RO76', 'GP PRACTICE', false],
            ['RO177', 'PRESCRIBING COST CENTRE', true],
          ]),
        },
      ],
    };
    const primaryRoles = new PrimaryRoles(fake.url, KEY, POLICY);
    await primaryRoles.refresh();
    const record = fixture('organization-get-single-organization.json') as { extension: Array<{ url: string; extension: Array<Record<string, unknown>> }> };
    const [trustRole] = record.extension;
    // The spec's RR8 holds one role; give it a second (RO76 before RO177) to see the order.
    const withRoles = (codes: string[]) =>
      codes.map((code) => ({
        ...trustRole,
        extension: trustRole!.extension.map((inner) =>
          inner.url === 'roleCode' ? { url: 'roleCode', valueCodeableConcept: { coding: [{ system: ODS_ROLE_CODE_SYSTEM, code }] } } : inner,
        ),
      }));
    answer = {
      ...record,
      id: 'A9',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A9' }],
      extension: withRoles(['RO76', 'RO177']),
    };
    const client = new OdsFhirClient(fake.url, KEY, { primaryRoleIds: primaryRoles, now: () => new Date('2026-12-01T12:00:00Z') });
    assert.deepEqual((await client.getOrganisation('A9'))?.roleIds, ['RO177', 'RO76']);
    const text = describeSources([primaryRoles.status()], new Date('2026-12-01T12:00:00Z'));
    assert.match(
      text,
      /\*\*ODS primary roles\*\*: ODSOrganisationRole CodeSystem \(ODS FHIR R4 API\), 127\.0\.0\.1:\d+; file of .*2026.*; version 2026-11-30, 1 primary roles of 2/,
    );
    assert.match(text, /no errors/);
  });

  it('while the API cannot be read, the dated snapshot stands in, and sources says so with the snapshot’s date', async () => {
    const primaryRoles = new PrimaryRoles('http://127.0.0.1:9/fhir', KEY, POLICY, { sleep: async () => undefined });
    await primaryRoles.refresh();
    assert.ok(primaryRoles.current().has('RO166'), 'the 2023 snapshot marks OPTICAL HEADQUARTERS primary');
    const status = primaryRoles.status();
    assert.equal(status.kind, 'roles snapshot file (offline fallback)');
    assert.equal(status.where, 'ord-roles-2023-01-03.json');
    assert.equal(status.dataDate, '2023-01-03');
    assert.match(status.notes ?? '', /could not be read, so the 2023-01-03 snapshot is used/);
    assert.match(status.lastError?.message ?? '', /could not be reached/);
  });

  it('a throttled roles read at start-up (429, Retry-After 60 s) does not hold start-up: the snapshot stands in within seconds', async () => {
    ods.throttleNext(5, 60);
    const started = Date.now();
    const sources = await openDataSources({
      graph: { baseUrl: 'http://127.0.0.1:9' },
      directoryAttributes: { organisation: 'x', site: 'y', leaver: 'z', leaverValue: 'left' },
      ods: { fhirBaseUrl: ods.fhirUrl, apiKey: KEY },
      registers: { dsptCsv: path.join(DEV, 'dspt-register.csv'), nasSitesCsv: path.join(DEV, 'nas-sites.csv') },
      policyFile: path.join(POLICY, 'nas-transfer-policy.json'),
    });
    try {
      assert.ok(Date.now() - started < 5_000, `start-up waited ${Date.now() - started} ms for the roles`);
      const roles = sources.sources().find((source) => source.name === 'ODS primary roles');
      assert.equal(roles?.kind, 'roles snapshot file (offline fallback)');
      assert.match(roles?.lastError?.message ?? '', /limiting how often/);
    } finally {
      sources.close();
      ods.throttleNext(0);
    }
  });

  it('with neither the API nor a snapshot, sources says roles keep the order ODS gives', async () => {
    const primaryRoles = new PrimaryRoles('http://127.0.0.1:9/fhir', KEY, mkdtempSync(path.join(os.tmpdir(), 'no-roles-')), { sleep: async () => undefined });
    await primaryRoles.refresh();
    assert.equal(primaryRoles.current().size, 0);
    assert.match(primaryRoles.status().notes ?? '', /roles keep the order ODS gives/);
  });
});

describe('the specification’s own example responses (vendored in test/fixtures/ods-fhir-spec)', () => {
  let fake: RunningSandbox;
  before(async () => {
    fake = await startSandbox((request) => {
      if (request.path === '/Organization/RR8') return { status: 200, body: fixture('organization-get-single-organization.json') };
      if (request.path === '/OrganizationAffiliation') return { status: 200, body: fixture('organization-affiliation-search.json') };
      if (request.path === '/Organization/NOACTIVE' || request.path === '/Organization/ENDED') {
        const { active: _active, ...rest } = fixture('organization-get-single-organization.json') as Record<string, unknown> & {
          extension: Array<{ url: string; extension: Array<{ url: string; valueBoolean?: boolean }> }>;
        };
        if (request.path === '/Organization/ENDED') {
          // Its one role marked inactive, as ODS marks a role that has ended.
          rest.extension = rest.extension.map((outer) => ({
            ...outer,
            extension: outer.extension.map((inner) => (inner.url === 'active' ? { url: 'active', valueBoolean: false } : inner)),
          }));
        }
        // The record of the code asked for: the client refuses another organisation's record.
        const code = request.path.split('/').at(-1);
        return {
          status: 200,
          body: { ...rest, id: code, identifier: [{ use: 'official', system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: code }] },
        };
      }
      return undefined;
    });
  });
  after(() => fake.close());
  const client = () => new OdsFhirClient(fake.url, 'k', { primaryRoleIds: new Set(['RO197']), now: () => new Date('2026-12-01T12:00:00Z') });

  it('Organization/{id} (RR8): name, active, its NHS TRUST role and last change date; the code is upper-cased first', async () => {
    assert.deepEqual(await client().getOrganisation('rr8'), {
      odsCode: 'RR8',
      name: 'LEEDS TEACHING HOSPITALS NHS TRUST',
      active: true,
      roleIds: ['RO197'],
      lastChanged: '2023-11-14',
    });
    assert.equal(fake.requests.at(-1)?.path, '/Organization/RR8');
  });

  it('OrganizationAffiliation search (FDC49, total 3): all three read, the one active relationship kept', async () => {
    assert.deepEqual(await client().getRelationships('fdc49'), [{ relationship: 'RE5', targetOds: 'QF7' }]);
  });

  it('an Organization without `active` (0..1 in the profile) is open while it holds a role active today, and closed once its roles end', async () => {
    assert.equal((await client().getOrganisation('NOACTIVE'))?.active, true);
    assert.deepEqual(await client().getOrganisation('ENDED'), {
      odsCode: 'ENDED',
      name: 'LEEDS TEACHING HOSPITALS NHS TRUST',
      active: false,
      roleIds: [],
      lastChanged: '2023-11-14',
    });
  });
});

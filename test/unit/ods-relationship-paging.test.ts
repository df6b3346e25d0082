import assert from 'node:assert/strict';
import path from 'node:path';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandbox, type RecordedRequest, type RunningSandbox, type SandboxResponse } from '../../dev/sandbox/http-sandbox';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import { findAppError } from '../../core/errors';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { loadPolicy } from '../../services/eligibility/policy';
import { OdsFhirClient, RELATIONSHIP_MAX_PAGES } from '../../services/reference/ods-fhir-client';
import { loadDsptRegister, loadNasSitesRegister } from '../../services/reference/registers';
import { ScreeningService } from '../../services/screening';

/*
 * Issue 20 §1. Maya Sorel works at HARBOURSIDE OPTICIANS (ZZ9110), an optical site whose
 * optometry multiple (Specsavers, RO166 headquarters ZZ9201) is known only through its ODS
 * relationship RE6. Read whole, that makes her ineligible. Each hostile ODS below hides the RE6
 * behind a page the bot must not or cannot read; a partial list must never make her eligible.
 */

const ROOT = path.join(__dirname, '..', '..');
const DEV = path.join(ROOT, 'dev');
const KEY = 'paging-test-key';
const SITE = 'ZZ9110';
const MAYA = { position: 1, email: 'maya.sorel@nhsmail.example' };
const FHIR = '/organisation-data-terminology-api/fhir';

type Entry = { resource: Record<string, unknown> };
/** Pages of a relationship search: what page n holds, and where its next link points (undefined: the last page). */
type Paging = (page: number, origin: string) => { entries: Entry[]; next?: string; total?: number };

describe('a relationship list ODS gives only in part never makes an account eligible (issue 20 §1)', function () {
  this.timeout(30_000);
  let graph: SandboxGraph;
  let upstream: SandboxOdsServer;
  let hostile: RunningSandbox;
  let elsewhere: RunningSandbox;
  let paging: Paging;
  const organisations = new Map<string, unknown>();
  let re4: Entry;
  let re6: Entry;
  let service: ScreeningService;

  const page = (n: number, origin: string) => `${origin}${FHIR}/OrganizationAffiliation?primary-organization=${SITE}&page=${n}`;
  const bundle = (request: RecordedRequest, origin: string): SandboxResponse => {
    if (request.query.get('_summary') === 'count') {
      // The count the specification offers (_summary=count): every relationship on every page.
      let total = 0;
      for (let n = 1; n <= 60; n++) {
        const { entries, next } = paging(n, origin);
        total += entries.length;
        if (!next) break;
      }
      return { status: 200, headers: { 'content-type': 'application/fhir+json' }, body: { resourceType: 'Bundle', type: 'searchset', total } };
    }
    const n = Number(request.query.get('page') ?? 1);
    const { entries, next, total } = paging(n, origin);
    return {
      status: 200,
      headers: { 'content-type': 'application/fhir+json' },
      body: {
        resourceType: 'Bundle',
        type: 'searchset',
        ...(total === undefined ? {} : { total }),
        link: [{ relation: 'self', url: page(n, origin) }, ...(next ? [{ relation: 'next', url: next }] : [])],
        entry: entries.map((entry) => ({ ...entry, search: { mode: 'match' } })),
      },
    };
  };

  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    upstream = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
    const get = async (url: string) => (await fetch(url, { headers: { apikey: KEY } })).json() as Promise<Record<string, unknown>>;
    for (const code of [SITE, 'ZZ9201', 'ZZ9001']) organisations.set(code, await get(`${upstream.fhirUrl}/Organization/${code}`));
    const real = (await get(`${upstream.fhirUrl}/OrganizationAffiliation?primary-organization=${SITE}&active=true`)) as { entry: Entry[] };
    const byType = (code: string) => real.entry.find((entry) => JSON.stringify(entry.resource.code).includes(`"${code}"`))!;
    re4 = { resource: byType('RE4').resource };
    re6 = { resource: byType('RE6').resource };

    let hostileOrigin = '';
    hostile = await startSandbox((request) => {
      const single = new RegExp(`^${FHIR}/Organization/([^/]+)$`).exec(request.path);
      if (single) {
        const found = organisations.get(single[1]!);
        return found
          ? { status: 200, body: found }
          : { status: 404, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing' }] } };
      }
      return request.path === `${FHIR}/OrganizationAffiliation` ? bundle(request, hostileOrigin) : undefined;
    });
    hostileOrigin = hostile.url;
    // Another origin: a different port on the same loopback host.
    elsewhere = await startSandbox((request) => bundle(request, elsewhere.url));

    service = new ScreeningService({
      directory: new GraphDirectory(createGraphClient(graph.url), {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations: new OdsFhirClient(`${hostile.url}${FHIR}`, KEY),
      dspt: await loadDsptRegister(path.join(DEV, 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json')),
    });
  });
  after(async () => {
    await graph.close();
    await upstream.close();
    await hostile.close();
    await elsewhere.close();
  });
  beforeEach(() => {
    hostile.requests.length = 0;
    elsewhere.requests.length = 0;
  });

  /** Maya's verdict and reasons, or "could not check" with the error's code and words. */
  async function screenMaya(): Promise<{ verdict: string; rules?: string[]; code?: string; message?: string }> {
    try {
      const [account] = (await service.screen('ZZ9001', [MAYA])).accounts;
      return { verdict: account!.verdict, rules: account!.reasons.map((reason) => reason.rule) };
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      return { verdict: 'could not check', code: appError.code, message: appError.userMessage };
    }
  }

  /** Pages of the relationship search read (the count asked for when a list gives no total is not a page). */
  const relationshipSearches = () =>
    hostile.requests.filter((request) => request.path.endsWith('/OrganizationAffiliation') && !request.query.has('_summary')).length;

  it('read whole, the RE6 relationship makes Maya ineligible (an optometry multiple), also when it is on page 25', async () => {
    paging = () => ({ entries: [re4, re6] });
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });

    // Issue 22: relationship paging used to stop silently after 10 pages. 25 pages are read on.
    hostile.requests.length = 0;
    paging = (n, origin) => (n < 25 ? { entries: n === 1 ? [re4] : [], next: page(n + 1, origin) } : { entries: [re6] });
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
    assert.equal(relationshipSearches(), 25);
  });

  const hostileCases: Array<{ name: string; paging: Paging; says: RegExp; check?: () => void }> = [
    {
      name: 'a next link to another host',
      paging: (n) => (n === 1 ? { entries: [re4], next: page(2, elsewhere.url) } : { entries: [re6] }),
      says: /its next page is on another host \(127\.0\.0\.1:\d+\)/,
      check: () => assert.equal(elsewhere.requests.length, 0, 'the other host is never asked, so never sent the key'),
    },
    {
      name: 'a loop (a next link back to a page already read)',
      paging: (n, origin) => ({ entries: n === 1 ? [re4] : [], next: page(n === 3 ? 2 : n + 1, origin) }),
      says: /its pages lead back to a page already read/,
      check: () => assert.equal(relationshipSearches(), 3),
    },
    {
      name: 'pages that never end',
      paging: (n, origin) => ({ entries: n === 1 ? [re4] : [], next: page(n + 1, origin) }),
      says: new RegExp(`more than ${RELATIONSHIP_MAX_PAGES} pages of 1000, the most the bot reads`),
      check: () => assert.equal(relationshipSearches(), RELATIONSHIP_MAX_PAGES),
    },
    {
      name: 'one entry that does not parse (its relationship type is not a list of codings)',
      paging: () => ({ entries: [re4, { resource: { ...re6.resource, code: 'RE6' } }] }),
      says: /one of its entries is not a relationship the bot can read/,
    },
    {
      name: 'one relationship without the organisation it points to',
      paging: () => ({ entries: [re4, { resource: { ...re6.resource, participatingOrganization: { display: 'SPECSAVERS' } } }] }),
      says: /one of its entries is not a relationship the bot can read/,
    },
    {
      name: 'an entry with no resource',
      paging: () => ({ entries: [re4, {} as Entry] }),
      says: /one of its entries is not a relationship the bot can read/,
    },
    {
      name: 'fewer relationships than the search counted',
      paging: () => ({ entries: [re4], total: 2 }),
      says: /ODS counted 2 but listed 1/,
    },
  ];

  for (const hostileCase of hostileCases) {
    it(`${hostileCase.name}: Maya is not eligible, the check could not be made (ODS_UNAVAILABLE, saying why)`, async () => {
      paging = hostileCase.paging;
      const outcome = await screenMaya();
      assert.notEqual(outcome.verdict, 'eligible');
      assert.equal(outcome.verdict, 'could not check');
      assert.equal(outcome.code, 'ODS_UNAVAILABLE');
      assert.match(outcome.message ?? '', new RegExp(`relationships for ${SITE} could not be read whole`));
      assert.match(outcome.message ?? '', hostileCase.says);
      hostileCase.check?.();
    });
  }
});

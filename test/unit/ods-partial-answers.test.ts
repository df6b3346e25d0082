import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandbox, type RunningSandbox, type SandboxResponse } from '../../dev/sandbox/http-sandbox';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds, ORD_BASE_PATH, ordRoute } from '../../dev/sandbox/ord-server';
import { findAppError } from '../../core/errors';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { loadPolicy } from '../../services/eligibility/policy';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { OrdClient } from '../../services/reference/ord-client';
import { loadDsptRegister, loadNasSitesRegister } from '../../services/reference/registers';
import { ScreeningService } from '../../services/screening';

/*
 * Issue 20: "A check that could not run, or read its data only in part, never yields 'eligible'."
 * Maya Sorel works at HARBOURSIDE OPTICIANS (ZZ9110), an optical site whose optometry multiple
 * (Specsavers, optical headquarters ZZ9201) is known only through its ODS relationship RE6.
 * Read whole and consistent, that makes her ineligible. Each answer below is partial or
 * inconsistent in a way that used to hide the RE6 or the headquarters and make her eligible;
 * each must now be "could not check" (ODS_UNAVAILABLE, saying why), or still find the multiple.
 */

const ROOT = path.join(__dirname, '..', '..');
const DEV = path.join(ROOT, 'dev');
const KEY = 'partial-answers-key';
const SITE = 'ZZ9110';
const HQ = 'ZZ9201';
const MAYA = { position: 1, email: 'maya.sorel@nhsmail.example' };
const FHIR = '/organisation-data-terminology-api/fhir';
const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

type Json = Record<string, any>;
/** What the hostile ODS answers: the real answer for `route` ("Organization/ZZ9110", "search", "search page 2", "count"), changed by a case. */
type Change = (route: string, answer: { status: number; body: Json }) => { status: number; body: Json };

const clone = <T>(value: T): T => structuredClone(value);
const notFound = { status: 404, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] } };
/** The site's one role extension, and inside it the part named `url`. */
const roleOf = (organisation: Json) => organisation.extension.find((extension: Json) => extension.url.endsWith('OrganisationRole'));
const endRole = (organisation: Json) => {
  for (const part of roleOf(organisation).extension) {
    for (const inner of part.extension ?? []) if (inner.url === 'period') inner.valuePeriod.end = '2025-01-01';
  }
};

describe('partial or inconsistent ODS FHIR answers never make an optical site eligible (issue 20 §6-10)', function () {
  this.timeout(30_000);
  let graph: SandboxGraph;
  let upstream: SandboxOdsServer;
  let hostile: RunningSandbox;
  let service: ScreeningService;
  const organisations = new Map<string, Json>();
  let search: Json;
  let change: Change = (_route, answer) => answer;

  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    upstream = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
    const get = async (url: string) => (await fetch(url, { headers: { apikey: KEY } })).json() as Promise<Json>;
    for (const code of [SITE, HQ, 'ZZ9001', 'ZZ9102']) organisations.set(code, await get(`${upstream.fhirUrl}/Organization/${code}`));
    search = await get(`${upstream.fhirUrl}/OrganizationAffiliation?primary-organization=${SITE}&active=true`);

    hostile = await startSandbox((request): SandboxResponse | undefined => {
      const single = new RegExp(`^${FHIR}/(Organization/[^/]+)$`).exec(request.path);
      if (single) {
        const found = organisations.get(single[1]!.split('/')[1]!);
        return change(single[1]!, found ? { status: 200, body: clone(found) } : clone(notFound));
      }
      if (request.path !== `${FHIR}/OrganizationAffiliation`) return undefined;
      if (request.query.get('_summary') === 'count')
        return change('count', { status: 200, body: { resourceType: 'Bundle', type: 'searchset', total: search.total } });
      const route = request.query.get('page') === '2' ? 'search page 2' : 'search';
      return change(route, { status: 200, body: { ...clone(search), link: [{ relation: 'self', url: `${hostile.url}${request.path}` }] } });
    });

    service = new ScreeningService({
      directory: new GraphDirectory(createGraphClient(graph.url), {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations: new OdsFhirClient(`${hostile.url}${FHIR}`, KEY, { sleep: async () => undefined }),
      dspt: await loadDsptRegister(path.join(DEV, 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json')),
    });
  });
  after(async () => {
    await graph.close();
    await upstream.close();
    await hostile.close();
  });
  beforeEach(() => {
    hostile.requests.length = 0;
  });
  afterEach(() => {
    change = (_route, answer) => answer;
  });

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

  /** Changes only the relationship search's entries' `organization` (the relationship's source). */
  const eachSource =
    (source: (entry: Json) => void): Change =>
    (route, answer) => {
      if (route === 'search') for (const entry of answer.body.entry) source(entry.resource);
      return answer;
    };

  it('read whole, the RE6 relationship makes Maya ineligible (the baseline every case departs from)', async () => {
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
  });

  it('the reference forms the specification and FHIR R4 allow are read: a relative reference alone, or an identifier alone', async () => {
    change = eachSource((resource) => (resource.organization = { reference: `Organization/${SITE}` }));
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
    change = eachSource((resource) => (resource.organization = { identifier: { system: ODS_CODE_SYSTEM, value: SITE } }));
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
  });

  it('a next link whose relation is "NEXT" is followed (RFC 8288: relation types compare case-insensitively), so the RE6 on page 2 is found', async () => {
    change = (route, answer) => {
      if (route === 'search') {
        delete answer.body.total;
        answer.body.entry = answer.body.entry.filter((entry: Json) => !JSON.stringify(entry).includes('"RE6"'));
        answer.body.link.push({ relation: 'NEXT', url: `${hostile.url}${FHIR}/OrganizationAffiliation?primary-organization=${SITE}&page=2` });
      }
      if (route === 'search page 2') {
        delete answer.body.total;
        answer.body.entry = answer.body.entry.filter((entry: Json) => JSON.stringify(entry).includes('"RE6"'));
      }
      return answer;
    };
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
  });

  it('a site ODS gives no sector for, that the DSPT register calls Optometry, still has its multiple checked (its relationships are read)', async () => {
    // A role the policy maps to no sector (RO177, a prescribing cost centre): the sector comes from DSPT.
    change = (route, answer) => {
      if (route === `Organization/${SITE}`)
        roleOf(answer.body).extension.find((part: Json) => part.url === 'roleCode').valueCodeableConcept.coding[0].code = 'RO177';
      return answer;
    };
    assert.deepEqual(await screenMaya(), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
    assert.ok(hostile.requests.some((request) => request.path.endsWith('/OrganizationAffiliation')));
  });

  const cases: Array<{ name: string; change: Change; says: RegExp }> = [
    // §6: a relationship whose source cannot be read, or is not the site searched for.
    {
      name: 'relationships whose organization is an absolute URL with no identifier',
      change: eachSource((resource) => (resource.organization = { reference: `${hostile.url}${FHIR}/Organization/${SITE}` })),
      says: /relationships for ZZ9110 could not be read whole \(one of its relationships does not name the site as its organisation\)/,
    },
    {
      name: 'relationships with no organization',
      change: eachSource((resource) => delete resource.organization),
      says: /relationships for ZZ9110 could not be read whole \(one of its relationships does not name the site as its organisation\)/,
    },
    {
      name: 'relationships whose organization identifier has a trailing space',
      change: eachSource((resource) => (resource.organization = { identifier: { system: ODS_CODE_SYSTEM, value: `${SITE} ` } })),
      says: /relationships for ZZ9110 could not be read whole \(one of its relationships does not name the site as its organisation\)/,
    },
    {
      name: 'relationships whose reference and identifier name different organisations',
      change: eachSource((resource) => (resource.organization = { reference: 'Organization/ZZ9102', identifier: { system: ODS_CODE_SYSTEM, value: SITE } })),
      says: /relationships for ZZ9110 could not be read whole \(one of its relationships does not name the site as its organisation\)/,
    },
    // §7: a 404 on a search is not "no relationships".
    {
      name: 'the relationship search answering 404 with an OperationOutcome, the site having just been read',
      change: (route, answer) => (route === 'search' ? clone(notFound) : answer),
      says: /relationships for ZZ9110 could not be read whole \(ODS answered the search HTTP 404\)/,
    },
    // §8: a truncated list without a total.
    {
      name: 'a first page without total whose next link says "Next", the RE6 on page 2 that fails',
      change: (route, answer) => {
        if (route === 'search') {
          delete answer.body.total;
          answer.body.entry = answer.body.entry.slice(0, 1);
          answer.body.link.push({ relation: 'Next', url: `${hostile.url}${FHIR}/OrganizationAffiliation?primary-organization=${SITE}&page=2` });
        }
        return route === 'search page 2' ? { status: 500, body: {} } : answer;
      },
      says: /could not be reached/,
    },
    {
      name: 'a page without total or next link that lists one of the two relationships ODS counts when asked (_summary=count)',
      change: (route, answer) => {
        if (route === 'search') {
          delete answer.body.total;
          answer.body.entry = answer.body.entry.filter((entry: Json) => !JSON.stringify(entry).includes('"RE6"'));
        }
        return answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(ODS counted 2 but listed 1\)/,
    },
    {
      name: 'a list without total that ODS will not count either',
      change: (route, answer) => {
        if (route === 'search') delete answer.body.total;
        return route === 'count' ? { status: 200, body: { resourceType: 'Bundle', type: 'searchset' } } : answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(ODS gave no count of it, in the list or when asked\)/,
    },
    {
      name: 'two different next pages',
      change: (route, answer) => {
        if (route === 'search') {
          delete answer.body.total;
          answer.body.link.push({ relation: 'next', url: `${hostile.url}${FHIR}/OrganizationAffiliation?page=2` });
          answer.body.link.push({ relation: 'Next', url: `${hostile.url}${FHIR}/OrganizationAffiliation?page=3` });
        }
        return answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(it names more than one next page\)/,
    },
    {
      name: 'an OperationOutcome entry saying the search was cut short (a warning, "incomplete")',
      change: (route, answer) => {
        if (route === 'search') {
          delete answer.body.total;
          answer.body.entry = [
            answer.body.entry[0],
            { resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'incomplete' }] }, search: { mode: 'outcome' } },
          ];
        }
        return answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(ODS says the search was cut short\)/,
    },
    {
      name: 'the RE6 marked search mode "include" (the bot asks for no _include)',
      change: (route, answer) => {
        if (route === 'search') {
          for (const entry of answer.body.entry) if (JSON.stringify(entry).includes('"RE6"')) entry.search.mode = 'include';
          answer.body.total = 1;
        }
        return answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(one of its entries is not a relationship the bot can read\)/,
    },
    {
      name: 'the RE6 with a misspelt resourceType (a match that is not a relationship)',
      change: (route, answer) => {
        if (route === 'search') {
          for (const entry of answer.body.entry) if (JSON.stringify(entry).includes('"RE6"')) entry.resource.resourceType = 'OrganisationAffiliation';
          answer.body.total = 1;
        }
        return answer;
      },
      says: /relationships for ZZ9110 could not be read whole \(one of its entries is not a relationship the bot can read\)/,
    },
    // §9: the headquarters the RE6 names, unknown or closed.
    {
      name: 'the optical headquarters the RE6 names answering 404 (OperationOutcome)',
      change: (route, answer) => (route === `Organization/${HQ}` ? clone(notFound) : answer),
      says: /Site ZZ9110's ODS relationships name ZZ9201 as the organisation operating it, but ODS does not know it/,
    },
    {
      name: 'the optical headquarters marked inactive',
      change: (route, answer) => {
        if (route === `Organization/${HQ}`) answer.body.active = false;
        return answer;
      },
      says: /Site ZZ9110's ODS relationships name ZZ9201 as the organisation operating it, but ODS holds it closed/,
    },
    {
      name: "the optical headquarters' role ended while it is marked active",
      change: (route, answer) => {
        if (route === `Organization/${HQ}`) endRole(answer.body);
        return answer;
      },
      says: /ODS's record of ZZ9201 does not say what kind of organisation it is \(it is marked active but none of its roles is active today\)/,
    },
    {
      name: "the optical headquarters' role without a role code",
      change: (route, answer) => {
        if (route === `Organization/${HQ}`) roleOf(answer.body).extension = roleOf(answer.body).extension.filter((part: Json) => part.url !== 'roleCode');
        return answer;
      },
      says: /ODS's record of ZZ9201 does not say what kind of organisation it is \(one of its roles has no role code\)/,
    },
    // §10: the site's own roles unreadable or inconsistent (DSPT would otherwise give the sector).
    {
      name: "the site's role without a role code",
      change: (route, answer) => {
        if (route === `Organization/${SITE}`) roleOf(answer.body).extension = roleOf(answer.body).extension.filter((part: Json) => part.url !== 'roleCode');
        return answer;
      },
      says: /ODS's record of ZZ9110 does not say what kind of organisation it is \(one of its roles has no role code\)/,
    },
    {
      name: "the site's role coded RO182 (a pharmacy) in a system other than ODSOrganisationRole",
      change: (route, answer) => {
        if (route === `Organization/${SITE}`) {
          roleOf(answer.body).extension.find((part: Json) => part.url === 'roleCode').valueCodeableConcept.coding = [
            { system: 'https://example.org/roles', code: 'RO182' },
          ];
        }
        return answer;
      },
      says: /ODS's record of ZZ9110 does not say what kind of organisation it is \(one of its roles has no role code\)/,
    },
    {
      name: 'the site with no role extension',
      change: (route, answer) => {
        if (route === `Organization/${SITE}`)
          answer.body.extension = answer.body.extension.filter((extension: Json) => !extension.url.endsWith('OrganisationRole'));
        return answer;
      },
      says: /ODS's record of ZZ9110 does not say what kind of organisation it is \(it lists no organisation roles\)/,
    },
    {
      name: 'the site with no extension at all',
      change: (route, answer) => {
        if (route === `Organization/${SITE}`) delete answer.body.extension;
        return answer;
      },
      says: /ODS's record of ZZ9110 does not say what kind of organisation it is \(it lists no organisation roles\)/,
    },
    {
      name: "the site's optical role ended while it is marked active",
      change: (route, answer) => {
        if (route === `Organization/${SITE}`) endRole(answer.body);
        return answer;
      },
      says: /ODS's record of ZZ9110 does not say what kind of organisation it is \(it is marked active but none of its roles is active today\)/,
    },
    // Identity: another organisation's record in answer to the site's code.
    {
      name: "ZZ9110's read answered with ZZ9102's record",
      change: (route, answer) => (route === `Organization/${SITE}` ? { status: 200, body: clone(organisations.get('ZZ9102')!) } : answer),
      says: /ODS answered the look-up of ZZ9110 with the record of another organisation/,
    },
  ];

  for (const hostileCase of cases) {
    it(`${hostileCase.name}: Maya is not eligible, the check could not be made (ODS_UNAVAILABLE, saying why)`, async () => {
      change = hostileCase.change;
      const outcome = await screenMaya();
      assert.equal(outcome.verdict, 'could not check', `verdict ${outcome.verdict} (${outcome.rules?.join(', ')})`);
      assert.equal(outcome.code, 'ODS_UNAVAILABLE');
      assert.match(outcome.message ?? '', hostileCase.says);
    });
  }
});

describe("the ORD API client: a 404 that is not the API's, or a record without Rels, is never a verdict", function () {
  this.timeout(30_000);
  let graph: SandboxGraph;
  let ord: RunningSandbox;
  let html: http.Server;
  let htmlUrl: string;
  let change: (code: string, answer: SandboxResponse) => SandboxResponse = (_code, answer) => answer;

  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    const route = ordRoute(await loadSandboxOds(path.join(DEV, 'demo-ods.json')));
    ord = await startSandbox(
      (request) => {
        const answer = route(request);
        const code = new RegExp(`^${ORD_BASE_PATH}/organisations/([^/]+)$`).exec(request.path)?.[1];
        return answer && code ? change(code.toUpperCase(), structuredClone(answer)) : answer;
      },
      0,
      ORD_BASE_PATH,
    );
    // A web server's own 404 page, as a wrong ODS_BASE_URL would reach.
    html = http.createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<html><body><h1>Not Found</h1></body></html>');
    });
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}${ORD_BASE_PATH}`;
  });
  after(async () => {
    await graph.close();
    await ord.close();
    await new Promise((resolve) => html.close(resolve));
  });
  afterEach(() => {
    change = (_code, answer) => answer;
  });

  async function screenMaya(baseUrl: string): Promise<{ verdict: string; rules?: string[]; code?: string; message?: string }> {
    const service = new ScreeningService({
      directory: new GraphDirectory(createGraphClient(graph.url), {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations: new OrdClient(baseUrl, { sleep: async () => undefined }),
      dspt: await loadDsptRegister(path.join(DEV, 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json')),
    });
    try {
      const [account] = (await service.screen('ZZ9001', [MAYA])).accounts;
      return { verdict: account!.verdict, rules: account!.reasons.map((reason) => reason.rule) };
    } catch (error) {
      const appError = findAppError(error);
      if (!appError) throw error;
      return { verdict: 'could not check', code: appError.code, message: appError.userMessage };
    }
  }

  it('read whole over ORD, Maya is ineligible (an optometry multiple); an unknown code is still "not a known ODS code"', async () => {
    assert.deepEqual(await screenMaya(ord.url), { verdict: 'ineligible', rules: ['OPTOMETRY_MULTIPLE'] });
    assert.equal(await new OrdClient(ord.url).getOrganisation('ZZ0000'), null);
  });

  it('a wrong base URL answering an HTML 404 is a setting to fix (ODS_MISCONFIGURED), not every site closed', async () => {
    const outcome = await screenMaya(htmlUrl);
    assert.equal(outcome.verdict, 'could not check', `verdict ${outcome.verdict} (${outcome.rules?.join(', ')})`);
    assert.equal(outcome.code, 'ODS_MISCONFIGURED');
    assert.match(outcome.message ?? '', /ODS answered HTTP 404 without the ORD API error body: check ODS_BASE_URL/);
  });

  it('a 404 with some other JSON body (another service behind the URL) is ODS_MISCONFIGURED too', async () => {
    change = (code, answer) => (code === SITE ? { status: 404, body: { error: { code: 'NotFound', message: 'No such resource.' } } } : answer);
    const outcome = await screenMaya(ord.url);
    assert.equal(outcome.verdict, 'could not check', `verdict ${outcome.verdict} (${outcome.rules?.join(', ')})`);
    assert.equal(outcome.code, 'ODS_MISCONFIGURED');
  });

  it('an optical site whose record has no Rels: its multiple could not be checked (ODS_UNAVAILABLE), not "no headquarters"', async () => {
    change = (code, answer) => {
      if (code === SITE) delete (answer.body as Json).Organisation.Rels;
      return answer;
    };
    const outcome = await screenMaya(ord.url);
    assert.equal(outcome.verdict, 'could not check', `verdict ${outcome.verdict} (${outcome.rules?.join(', ')})`);
    assert.equal(outcome.code, 'ODS_UNAVAILABLE');
    assert.match(outcome.message ?? '', /ODS's record of ZZ9110 gives no relationships \(no Rels\), so whether it is part of a multiple could not be checked/);
  });
});

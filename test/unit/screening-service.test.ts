import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import type { AccountEntry } from '../../services/account-list';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { loadPolicy } from '../../services/eligibility/policy';
import type { PriorRequest } from '../../services/eligibility/types';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { loadDsptRegister, loadNasSitesRegister } from '../../services/reference/registers';
import { SCREENING_CHUNK, ScreeningService, type ScreeningDependencies, type ScreeningHistory } from '../../services/screening';

const ROOT = path.join(__dirname, '..', '..');
const DEV = path.join(ROOT, 'dev');

class RecordingHistory implements ScreeningHistory {
  readonly calls: Array<{ method: string; keys: readonly string[]; excludeRequestId?: number }> = [];
  constructor(
    private readonly prior: Record<string, PriorRequest> = {},
    private readonly usage: Record<string, number> = {},
  ) {}
  async priorRequests(emails: readonly string[], excludeRequestId?: number) {
    this.calls.push({ method: 'priorRequests', keys: emails, excludeRequestId });
    return new Map(emails.filter((email) => this.prior[email]).map((email) => [email, this.prior[email]!]));
  }
  async siteAccountsInOtherRequests(codes: readonly string[], excludeRequestId?: number) {
    this.calls.push({ method: 'siteAccountsInOtherRequests', keys: codes, excludeRequestId });
    return new Map(codes.filter((code) => this.usage[code] !== undefined).map((code) => [code, this.usage[code]!]));
  }
}

const entries = (emails: string[], extra: Partial<AccountEntry>[] = []): AccountEntry[] =>
  emails.map((email, index) => ({ position: index + 1, email, ...extra[index] }));

/** What ODS was asked, in order-free form: Organization/{code} reads and relationship searches. */
const odsReads = (server: SandboxOdsServer) =>
  server.requests
    .map((request) =>
      request.path.endsWith('/OrganizationAffiliation') ? `rels:${request.query.get('primary-organization')}` : request.path.split('/').at(-1),
    )
    .sort();

describe('screening service over the sandbox Graph and ODS FHIR servers', () => {
  let graph: SandboxGraph;
  let ord: SandboxOdsServer;
  let deps: Omit<ScreeningDependencies, 'history'>;
  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    ord = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: 'test-key' });
    deps = {
      directory: new GraphDirectory(createGraphClient(graph.url), {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations: new OdsFhirClient(ord.fhirUrl, 'test-key'),
      dspt: await loadDsptRegister(path.join(DEV, 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json')),
    };
  });
  after(async () => {
    await graph.close();
    await ord.close();
  });
  beforeEach(() => {
    graph.requests.length = 0;
    ord.requests.length = 0;
  });

  it('gives each demo account the verdict its _demoNote promises', async () => {
    const directory = await loadSandboxDirectory(path.join(DEV, 'demo-directory.json'));
    const demo = directory.users.filter(
      (user) => /^(eligible|review|ineligible)/.test(String(user._demoNote)) && !String(user._demoNote).includes('when listed after'),
    );
    const result = await new ScreeningService(deps).screen('ZZ9001', entries(demo.map((user) => user.userPrincipalName)));
    const wrong = result.accounts
      .map((account, index) => ({
        email: account.email,
        verdict: account.verdict,
        note: String(demo[index]!._demoNote),
        rules: account.reasons.map((reason) => reason.rule),
      }))
      .filter((row) => !row.note.startsWith(row.verdict));
    assert.deepEqual(wrong, []);
  });

  it('reports progress after each chunk and at the end; one $batch per 20 accounts and nothing per account besides', async () => {
    const emails = Array.from({ length: SCREENING_CHUNK * 2 + 30 }, (_, index) => `missing.${index}@nhsmail.example`);
    emails[0] = 'maya.sorel@nhsmail.example';
    emails[1] = 'chloe.danvers@nhsmail.example';
    const progress: Array<[number, number]> = [];
    await new ScreeningService(deps).screen('ZZ9001', entries(emails), { onProgress: (checked, total) => void progress.push([checked, total]) });
    assert.deepEqual(progress, [
      [SCREENING_CHUNK, emails.length],
      [SCREENING_CHUNK * 2, emails.length],
      [emails.length, emails.length],
    ]);
    assert.ok(graph.requests.every((request) => request.path === '/v1.0/$batch'));
    assert.equal(graph.requests.length, Math.ceil(emails.length / 20));
    // Two optical sites, each with its relationships and its optical headquarters: four organisations, each read once.
    assert.deepEqual(odsReads(ord), ['ZZ9102', 'ZZ9110', 'ZZ9201', 'ZZ9202', 'rels:ZZ9102', 'rels:ZZ9110']);
  });

  it('reads each site and parent once however many accounts share them', async () => {
    const result = await new ScreeningService(deps).screen(
      'ZZ9001',
      entries(['maya.sorel@nhsmail.example', 'maya.sorel@nhsmail.example', 'chloe.danvers@nhsmail.example', 'dev.raman@nhsmail.example']),
    );
    assert.deepEqual(odsReads(ord), ['ZZ9102', 'ZZ9110', 'ZZ9201', 'ZZ9202', 'rels:ZZ9102', 'rels:ZZ9110']);
    assert.deepEqual(
      result.accounts.map((account) => account.reasons.map((reason) => reason.rule)),
      [['OPTOMETRY_MULTIPLE'], ['DUPLICATE_IN_REQUEST'], [], []],
    );
  });

  it('reads relationships only for optical sites, and names the organisations of an account administered elsewhere (each read once)', async () => {
    const result = await new ScreeningService(deps).screen(
      'ZZ9001',
      entries(['jonah.pike@nhsmail.example', 'amara.mensah@nhsmail.example', 'farid.nouri@nhsmail.example']),
    );
    assert.deepEqual(odsReads(ord), ['ZZ9001', 'ZZ9002', 'ZZ9101', 'ZZ9104']);
    assert.equal(
      result.accounts[0]!.reasons[0]!.message,
      'Administered by EASTFOLD HEALTH ALLIANCE (ZZ9002), not by NORTHMOOR COMMUNITY CARE PARTNERSHIP (ZZ9001).',
    );
    assert.equal(result.accounts[0]!.evidence.organisationName, 'EASTFOLD HEALTH ALLIANCE');
  });

  it('names in every verdict’s evidence the register copies and the ODS record it used', async () => {
    const [account] = (await new ScreeningService(deps).screen('ZZ9001', entries(['amara.mensah@nhsmail.example']))).accounts;
    const evidence = account!.evidence;
    assert.equal(evidence.dsptRegisterFile, 'dspt-register.csv');
    assert.equal(evidence.dsptRegisterRows, 12);
    // The sample's name is not the export's and no database dates it here: its date is unknown, never its file's time.
    assert.equal(evidence.dsptRegisterDate, undefined);
    assert.equal(evidence.dsptRegisterDateSource, undefined);
    assert.equal(evidence.nasRegisterFile, 'nas-sites.csv');
    assert.equal(evidence.nasRegisterRows, 6);
    assert.equal(evidence.siteRecordChanged, '1 Oct 2026');
    assert.equal(evidence.dsptPublished, '28 Jun 2026');
    assert.equal(evidence.dsptYear, '25/26');
  });

  it('a mistyped site code is one fixable reason: not a known ODS code', async () => {
    const [account] = (await new ScreeningService(deps).screen('ZZ9001', [{ position: 1, email: 'amara.mensah@nhsmail.example', siteOds: 'ZZ91O1' }])).accounts;
    assert.deepEqual(
      account!.reasons.map((reason) => [reason.rule, reason.message, reason.fixable]),
      [['SITE_CLOSED', 'ZZ91O1 is not a known ODS code: check it.', true]],
    );
  });

  it('asks the history about every address and site once, passing on the request to leave out', async () => {
    const history = new RecordingHistory({ 'amara.mensah@nhsmail.example': { reference: 'NTR-100004', state: 'approved' } }, { ZZ9108: 1 });
    const result = await new ScreeningService({ ...deps, history }).screen(
      'ZZ9001',
      entries(['Amara.Mensah@nhsmail.example', 'quentin.ashe@nhsmail.example', 'wren.hadley@nhsmail.example']),
      { excludeRequestId: 42 },
    );
    assert.deepEqual(
      history.calls.map((call) => [call.method, [...call.keys].sort(), call.excludeRequestId]),
      [
        ['priorRequests', ['amara.mensah@nhsmail.example', 'quentin.ashe@nhsmail.example', 'wren.hadley@nhsmail.example'], 42],
        ['siteAccountsInOtherRequests', ['ZZ9101', 'ZZ9108'], 42],
      ],
    );
    // ZZ9108 allows 3 and NAS already manages 2: the one place left went to another request.
    assert.deepEqual(
      result.accounts.map((account) => account.reasons.map((reason) => reason.rule)),
      [['ALREADY_REQUESTED'], ['SITE_ALLOWANCE_EXCEEDED'], []],
    );
    assert.match(result.accounts[0]!.reasons[0]!.message, /Already approved/);
  });

  /**
   * A copy of a dev register with one site's row made unreadable, and enough readable rows added that
   * the copy is still used (a bad row under the share that holds a file back).
   */
  const withUnreadableRow = (devFile: string, code: string, breakRow: (row: string) => string, filler: (index: number) => string) => {
    const rows = readFileSync(path.join(DEV, devFile), 'utf8').trimEnd().split(/\r?\n/);
    const broken = rows.map((row) => (row.startsWith(`${code},`) ? breakRow(row) : row));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'screening-registers-')), devFile);
    writeFileSync(file, [...broken, ...Array.from({ length: 40 }, (_, index) => filler(index))].join('\n'));
    return { file, line: broken.findIndex((row) => row.startsWith(`${code},`)) + 1 };
  };

  it('an account whose site’s NAS site register row has a bad number is not eligible: review, the row named by line (issue 20)', async () => {
    // ZZ9108 may have 3 accounts and has 2: its one place left is quentin.ashe's. Read as absent, it would have the default 5 and none used.
    const { file, line } = withUnreadableRow(
      'nas-sites.csv',
      'ZZ9108',
      (row) => row.replace(/,3,2$/, ',3,two'),
      (index) => `F${index + 1000},Filler,5,0`,
    );
    const result = await new ScreeningService({ ...deps, nasSites: await loadNasSitesRegister(file) }).screen(
      'ZZ9001',
      entries(['quentin.ashe@nhsmail.example']),
    );
    const [account] = result.accounts;
    assert.equal(account!.verdict, 'review');
    assert.deepEqual(
      account!.reasons.map((reason) => [reason.rule, reason.verdict]),
      [['SITE_ALLOWANCE_EXCEEDED', 'review']],
    );
    assert.match(
      account!.reasons[0]!.message,
      new RegExp(`could not be checked: site ZZ9108's row in the NAS site register \\(nas-sites\\.csv, line ${line}\\) could not be read`),
    );
  });

  it('an account whose site’s DSPT register row has a bad date is not eligible, and not "not in the DSPT register": review (issue 20)', async () => {
    const { file, line } = withUnreadableRow(
      'dspt-register.csv',
      'ZZ9101',
      (row) => row.replace('28/06/2026', '31/06/2026'),
      (index) => `F${index + 1000},FILLER,25/26 Standards Met,28/06/2026,Pharmacy,NHS DEMO INTEGRATED CARE BOARD`,
    );
    const result = await new ScreeningService({ ...deps, dspt: await loadDsptRegister(file) }).screen('ZZ9001', entries(['amara.mensah@nhsmail.example']));
    const [account] = result.accounts;
    assert.equal(account!.verdict, 'review');
    assert.deepEqual(
      account!.reasons.map((reason) => [reason.rule, reason.verdict]),
      [['SITE_NOT_DSPT_COMPLIANT', 'review']],
    );
    assert.doesNotMatch(account!.reasons[0]!.message, /not in the DSPT register/);
    assert.match(account!.reasons[0]!.message, new RegExp(`site ZZ9101's row in the DSPT register \\(dspt-register\\.csv, line ${line}\\) could not be read`));
  });
});

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/nas-transfer';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import type { AccountEntry } from '../../services/account-list';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { loadPolicy } from '../../services/eligibility/policy';
import type { ScreeningResult } from '../../services/eligibility/types';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { OrdClient, type OrganisationLookup } from '../../services/reference/ord-client';
import { loadDsptRegister, loadNasSitesRegister } from '../../services/reference/registers';
import { ScreeningService } from '../../services/screening';

const ROOT = path.join(__dirname, '..', '..');
const DEV = path.join(ROOT, 'dev');
const KEY = 'parity-test-key';

/** What a verdict is, for comparing paths: rule ids and the words shown, in order. */
const verdicts = (accounts: ReadonlyArray<{ email: string; verdict: string; reasons: ReadonlyArray<{ rule: string; message: string }> }>) =>
  accounts.map((account) => [account.email, account.verdict, account.reasons.map((reason) => `${reason.rule}: ${reason.message}`)]);

describe('FHIR and ORD give the same verdicts, through the command line and the screening service', function () {
  this.timeout(30_000);
  let graph: SandboxGraph;
  let ods: SandboxOdsServer;
  let entries: AccountEntry[];
  let registerCopy: string;
  const attributes = {
    organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
    site: 'onPremisesExtensionAttributes.extensionAttribute2',
    leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
    leaverValue: 'Leaver',
  };
  before(async () => {
    const directory = await loadSandboxDirectory(path.join(DEV, 'demo-directory.json'));
    graph = await startSandboxGraph(directory);
    ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
    // Every demo account, and one line with a mistyped site code.
    const demo = directory.users.filter((user) => /^(eligible|review|ineligible)/.test(String(user._demoNote)));
    entries = demo.map((user, index) => ({ position: index + 1, email: user.userPrincipalName }));
    entries.push({ position: entries.length + 1, email: 'priya.okafor@nhsmail.example', siteOds: 'ZZ91O1' });
    // A fresh copy of the register as ops would load it (its file date is today's).
    registerCopy = path.join(mkdtempSync(path.join(os.tmpdir(), 'nas-parity-')), 'DSPT export.csv');
    copyFileSync(path.join(DEV, 'dspt-register.csv'), registerCopy);
  });
  after(async () => {
    await graph.close();
    await ods.close();
  });

  async function serviceVerdicts(organisations: OrganisationLookup): Promise<ScreeningResult> {
    const service = new ScreeningService({
      directory: new GraphDirectory(createGraphClient(graph.url), attributes),
      organisations,
      dspt: await loadDsptRegister(registerCopy),
      nasSites: await loadNasSitesRegister(path.join(DEV, 'nas-sites.csv')),
      policy: await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json')),
      dsptMaxAgeDays: 14,
    });
    return service.screen('ZZ9001', entries);
  }

  it('every demo account gets the same verdict and reasons on all three paths', async () => {
    const overOrd = await serviceVerdicts(new OrdClient(ods.ordUrl));
    const overFhir = await serviceVerdicts(new OdsFhirClient(ods.fhirUrl, KEY));
    assert.deepEqual(verdicts(overFhir.accounts), verdicts(overOrd.accounts));

    const input = path.join(path.dirname(registerCopy), 'accounts.csv');
    writeFileSync(input, ['email,site_ods_code', ...entries.map((entry) => `${entry.email},${entry.siteOds ?? ''}`)].join('\n'));
    let stdout = '';
    let stderr = '';
    ods.requests.length = 0;
    const code = await runCli(['screen', '--org', 'ZZ9001', '--input', input, '--json'], {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      env: {
        LOG_LEVEL: 'silent',
        GRAPH_BASE_URL: graph.url,
        ODS_FHIR_BASE_URL: ods.fhirUrl,
        ODS_API_KEY: KEY,
        ODS_BASE_URL: '',
        DSPT_REGISTER_CSV: registerCopy,
        NAS_SITES_CSV: path.join(DEV, 'nas-sites.csv'),
      },
    });
    assert.equal(code, 0, stderr);
    const cli = JSON.parse(stdout) as { accounts: Array<{ email: string; verdict: string; reasons: Array<{ rule: string; message: string }> }> };
    assert.deepEqual(verdicts(cli.accounts), verdicts(overOrd.accounts));
    assert.ok(
      ods.requests.length > 0 && ods.requests.every((request) => request.path.startsWith('/organisation-data-terminology-api/fhir/')),
      'the command line read the FHIR API only',
    );
    assert.ok(ods.requests.every((request) => request.headers.apikey === KEY));
    // The unknown code, the same everywhere.
    assert.deepEqual(
      cli.accounts.at(-1)?.reasons.filter((reason) => reason.rule.startsWith('SITE_') || reason.rule === 'UNSUPPORTED_SPECIALISM'),
      [
        {
          rule: 'SITE_CLOSED',
          message: 'ZZ91O1 is not a known ODS code: check it.',
          nextStep: 'Correct the site ODS code on that line (O and 0, I and 1 are easily mixed up), then resubmit the account.',
        },
      ],
    );
  });

  it('the command line exits 2 with a clear message when the API key is refused', async () => {
    let stderr = '';
    const input = path.join(path.dirname(registerCopy), 'one.csv');
    writeFileSync(input, 'amara.mensah@nhsmail.example\n');
    const code = await runCli(['screen', '--org', 'ZZ9001', '--input', input], {
      stdout: () => undefined,
      stderr: (text) => void (stderr += text),
      env: { LOG_LEVEL: 'silent', GRAPH_BASE_URL: graph.url, ODS_FHIR_BASE_URL: ods.fhirUrl, ODS_API_KEY: 'wrong', DSPT_REGISTER_CSV: registerCopy },
    });
    assert.equal(code, 2);
    assert.match(stderr, /refused the bot’s requests.*HTTP 401/s);
    assert.doesNotMatch(stderr, /wrong/);
  });
});

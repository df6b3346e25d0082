import { londonParts } from '../../core/london-time';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeSources } from '../../bot/commands/sources-command';
import { loadConfig } from '../../config';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import { openDataSources, type DataSources } from '../../services/data-sources';
import type { RegisterEvent } from '../../services/reference/registers';
import { ScreeningService } from '../../services/screening';

const DEV = path.join(__dirname, '..', '..', 'dev');

/** "08_02_2022 15_17_38": the moment in a DSPT organisation search download's name, UK time. */
function exportStamp(instant: Date): string {
  const { day, month, year, hour, minute, second } = londonParts(instant);
  return `${day}_${month}_${year} ${hour}_${minute}_${second}`;
}
const KEY = 'do-not-show-this-key';

describe('data sources: freshness for the ops command "sources", and registers that change under the bot', function () {
  this.timeout(20_000);
  let graph: SandboxGraph;
  let ods: SandboxOdsServer;
  let sources: DataSources;
  let dsptFile: string;
  const events: RegisterEvent[] = [];
  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(DEV, 'demo-directory.json')));
    ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: KEY });
    const folder = mkdtempSync(path.join(os.tmpdir(), 'nas-sources-'));
    // A register downloaded 20 days ago (older than DSPT_MAX_AGE_DAYS, 14), under the name the DSPT organisation search gives it,
    // then copied: the copy's modified time is now, and its age must still be 20 days.
    const downloaded = new Date(Date.now() - 20 * 24 * 60 * 60 * 1000 - 60 * 60 * 1000);
    dsptFile = path.join(folder, `DSPT search results ${exportStamp(downloaded)}.csv`);
    copyFileSync(path.join(DEV, 'dspt-register.csv'), dsptFile);
    sources = await openDataSources(loadConfig({ GRAPH_BASE_URL: graph.url, ODS_FHIR_BASE_URL: ods.fhirUrl, ODS_API_KEY: KEY, DSPT_REGISTER_CSV: dsptFile }));
    sources.dspt.onChange((event) => events.push(event));
  });
  after(async () => {
    sources.close();
    await graph.close();
    await ods.close();
  });

  it('a DSPT pass from a register older than DSPT_MAX_AGE_DAYS goes to review, saying how old it is', async () => {
    const result = await new ScreeningService(sources).screen('ZZ9001', [{ position: 1, email: 'amara.mensah@nhsmail.example' }]);
    assert.equal(result.accounts[0]!.verdict, 'review');
    assert.match(result.accounts[0]!.reasons[0]!.message, /the DSPT register is 20 days old \(DSPT search results \d\d_\d\d_\d{4} \d\d_\d\d_\d\d\.csv\)/);
  });

  it('lists each source: kind, host or file name (never the key), age, rows, last error', async () => {
    const text = describeSources(sources.sources(), new Date());
    assert.match(text, /\*\*ODS\*\*: ODS FHIR R4 API, 127\.0\.0\.1:\d+; last answered .*; \d+ requests since start; no errors/);
    assert.match(
      text,
      /\*\*DSPT register\*\*: CSV file, DSPT search results [\d_ ]+\.csv; file of .* \(20 days old\); 12 rows; dated by the export’s file name; DSPT passes go to review when it is over 14 days old; no errors/,
    );
    assert.match(text, /\*\*NAS site register\*\*: CSV file, nas-sites\.csv; .*6 rows/);
    assert.match(text, /\*\*Directory\*\*: Microsoft Graph, 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(text, new RegExp(KEY));
    assert.doesNotMatch(text, new RegExp(os.tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'a file name, not its folder');
  });

  it('ODS is asked once for what a requester or a screening read again within minutes (issue 23)', async () => {
    const odsRequests = () => sources.sources().find((source) => source.name === 'ODS')?.requests ?? -1;
    const list = [{ position: 1, email: 'amara.mensah@nhsmail.example', siteOds: 'ZZ9102' }];
    const first = await new ScreeningService(sources).screen('ZZ9001', list);
    const asked = odsRequests();
    assert.ok(asked > 0);
    // The requester's own organisation (the form's first question names it), and the same list screened again.
    assert.ok(await sources.organisations.getOrganisation('zz9102'));
    const again = await new ScreeningService(sources).screen('ZZ9001', list);
    assert.equal(odsRequests(), asked, 'nothing read twice');
    assert.deepEqual(again.accounts, first.accounts);
  });

  it('a new file that cannot be used keeps the previous copy, is told to listeners and shown as the last error; a good one replaces it', async () => {
    writeFileSync(dsptFile, 'Code;Status\nnot;the export\n');
    await sources.dspt.refresh();
    assert.equal(events.at(-1)?.kind, 'failed');
    const result = await new ScreeningService(sources).screen('ZZ9001', [{ position: 1, email: 'farid.nouri@nhsmail.example' }]);
    assert.equal(result.accounts[0]!.verdict, 'ineligible', 'screened on the previous copy');
    assert.match(
      describeSources(sources.sources(), new Date()),
      /DSPT register.*12 rows.*last error .*no "Code", "Status", "Date Of Publication" columns \(its header row is: Code;Status\)\. The previous copy is still in use/,
    );

    writeFileSync(
      dsptFile,
      'Code,Organisation Name,Status,Date Of Publication,Primary Sector\nZZ9101,HARBOUR LANE PHARMACY,25/26 Standards Met,28/06/2026,Pharmacy\nZZ9104,QUAYSIDE CARE HOME,25/26 Approaching Standards,30/06/2026,Social Care\n',
    );
    // Two rows where twelve were in use: held back until confirmed (issue 20), then used.
    await sources.dspt.refresh();
    const held = events.at(-1);
    assert.equal(held?.kind, 'held');
    assert.equal(
      (await new ScreeningService(sources).screen('ZZ9001', [{ position: 1, email: 'farid.nouri@nhsmail.example' }])).accounts[0]!.verdict,
      'ineligible',
    );
    writeFileSync(`${dsptFile}.confirm`, held?.kind === 'held' ? held.fingerprint : '');
    const after = await new ScreeningService(sources).screen('ZZ9001', [{ position: 1, email: 'farid.nouri@nhsmail.example' }]);
    // The new file is used at the next screening: approaching standards at a care home passes; only the export's age (its name, not
    // the rewritten file's modified time) sends it to review.
    assert.deepEqual(
      after.accounts[0]!.reasons.map((reason) => reason.message.replace(/\(DSPT search results .*\)/, '(…)')),
      [
        "Site ZZ9104 DSPT status is “25/26 Approaching Standards”, published 30 Jun 2026, but the DSPT register is 20 days old (…): check the site's current status.",
      ],
    );
    assert.equal(after.accounts[0]!.evidence.dsptRegisterRows, 2);
    assert.match(describeSources(sources.sources(), new Date()), /DSPT register.*2 rows.*no errors/);
  });
});

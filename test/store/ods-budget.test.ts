import assert from 'node:assert/strict';
import path from 'node:path';
import { startSandboxOds, type SandboxOdsServer } from '../../dev/sandbox/ods-server';
import { loadSandboxOds } from '../../dev/sandbox/ord-server';
import { OdsFhirClient } from '../../services/reference/ods-fhir-client';
import { ODS_REQUEST_WINDOW, SqlOdsBudget } from '../../services/store/ods-budget';
import { countingDatabase } from '../support/counting-database';
import { describeOnEachDatabase } from '../support/databases';

/*
 * Issue 22: the ODS FHIR API asks for under 5,000 requests per 5 minutes, per application. Every
 * instance's calls go through one ledger in the shared database, as Teams sends do.
 */

const DEV = path.join(__dirname, '..', '..', 'dev');
const API = 'https://api.service.nhs.uk/organisation-data-terminology-api/fhir';

describeOnEachDatabase('ODS request budget (the shared pacing ledger)', (db) => {
  it('stays under the 5,000 requests in 5 minutes the API asks for', () => {
    assert.equal(ODS_REQUEST_WINDOW.seconds, 300);
    assert.ok(ODS_REQUEST_WINDOW.requests < 5000);
  });

  it('grants up to the window’s requests, then says how long until the oldest leaves it; other scopes are untouched', async () => {
    await db().query(`INSERT INTO send_budget (scope, sent_at) VALUES ('tenant:t1', clock_timestamp())`);
    await db().query(
      `INSERT INTO send_budget (scope, sent_at) SELECT 'ods:api.service.nhs.uk', clock_timestamp() - make_interval(secs => ago) FROM unnest($1::float8[]) AS ago`,
      [[9, 4, 20]],
    );
    const budget = new SqlOdsBudget(db(), API, { seconds: 10, requests: 3 });
    const first = await budget.reserve();
    assert.deepEqual(first, { granted: true }, 'the one 20 s ago is out of the window, and forgotten');
    const second = await budget.reserve();
    assert.equal(second.granted, false);
    const waitMs = second.granted ? 0 : second.waitMs;
    assert.ok(waitMs <= 1000 && waitMs >= 700, `about 1 s until the one from 9 s ago leaves the window: ${waitMs} ms`);
    const rows = await db().query<{ scope: string; count: number }>('SELECT scope, sum(requests)::int AS count FROM send_budget GROUP BY scope ORDER BY scope');
    assert.deepEqual(rows, [
      { scope: 'ods:api.service.nhs.uk', count: 3 },
      { scope: 'tenant:t1', count: 1 },
    ]);
  });

  it('concurrent callers on several instances get no more than the window allows', async () => {
    const instances = [new SqlOdsBudget(db(), API, { seconds: 60, requests: 7 }), new SqlOdsBudget(db(), API, { seconds: 60, requests: 7 })];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => instances[index % 2]!.reserve()));
    assert.equal(answers.filter((answer) => answer.granted).length, 7);
  });

  it('callers waiting at the same moment share one reservation (issue 23: one look-up each for 100 requesters starting at once), and still get no more than the window', async () => {
    const counting = countingDatabase(db());
    const budget = new SqlOdsBudget(counting.db, API, { seconds: 60, requests: 25 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => budget.reserve()));
    assert.equal(answers.filter((answer) => answer.granted).length, 25);
    for (const answer of answers.filter((answer) => !answer.granted)) assert.ok(!answer.granted && answer.waitMs >= 1);
    assert.equal(counting.statements.filter((sql) => sql === 'BEGIN').length, 1, counting.statements.join('\n'));
    const rows = await db().query<{ count: number }>(`SELECT sum(requests)::int AS count FROM send_budget WHERE scope = 'ods:api.service.nhs.uk'`);
    assert.deepEqual(rows, [{ count: 25 }]);
  });

  describe('two bot instances reading ODS through one ledger', () => {
    let ods: SandboxOdsServer;
    before(async () => {
      ods = await startSandboxOds(await loadSandboxOds(path.join(DEV, 'demo-ods.json')), { apiKey: 'k' });
    });
    after(() => ods.close());

    it('together send no more than the window allows; the rest wait for their slot (or fail as busy when the wait is too long)', async () => {
      ods.requests.length = 0;
      const waits: number[] = [];
      const instance = () =>
        new OdsFhirClient(ods.fhirUrl, 'k', {
          pacer: new SqlOdsBudget(db(), ods.fhirUrl, { seconds: 300, requests: 4 }),
          sleep: async (ms) => void waits.push(ms),
          maxRetryAfterMs: 60_000,
        });
      const [a, b] = [instance(), instance()];
      const reads = await Promise.allSettled(
        ['ZZ9101', 'ZZ9102', 'ZZ9103', 'ZZ9104', 'ZZ9105', 'ZZ9106'].map((code, index) => (index % 2 ? a : b).getOrganisation(code)),
      );
      assert.equal(ods.requests.length, 4, 'four requests reached ODS');
      assert.equal(reads.filter((read) => read.status === 'fulfilled').length, 4);
      const refused = reads.filter((read): read is PromiseRejectedResult => read.status === 'rejected');
      assert.equal(refused.length, 2);
      for (const read of refused) {
        assert.equal(read.reason.code, 'ODS_UNAVAILABLE');
        assert.match(read.reason.message, /used its share of ODS requests/);
      }
    });

    it('a request over the budget waits for its slot and then goes', async () => {
      ods.requests.length = 0;
      const client = new OdsFhirClient(ods.fhirUrl, 'k', { pacer: new SqlOdsBudget(db(), ods.fhirUrl, { seconds: 1, requests: 1 }) });
      const started = Date.now();
      assert.equal((await client.getOrganisation('ZZ9101'))?.odsCode, 'ZZ9101');
      assert.equal((await client.getOrganisation('ZZ9102'))?.odsCode, 'ZZ9102');
      assert.ok(Date.now() - started >= 900, 'the second waited about a second');
      assert.equal(ods.requests.length, 2);
    });
  });
});

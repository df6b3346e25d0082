import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO } from '../../config';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { activityText, startFakeConnector, type FakeConnector } from '../support/fake-connector';
import { freePort, startBotProcess, type BotProcess } from '../support/processes';
import { TeamsClient } from '../support/teams-client';

/**
 * Issue 20, the real bot process: the very first DSPT register file it is given (no copy in use,
 * nothing in the database) has most rows unreadable. It is held back rather than answering for
 * the sites it could not read; the bot still starts and serves /healthz, and NAS Operations are
 * told in their channel that no copy is in use.
 */
describe('a first register file held back at start-up (real bot process, loopback connector, PostgreSQL)', function () {
  this.timeout(120_000);
  let connector: FakeConnector;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let bot: BotProcess;
  let client: TeamsClient;

  before(async function () {
    await requirePostgres.call(this);
    const folder = mkdtempSync(path.join(os.tmpdir(), 'held-register-'));
    const file = path.join(folder, 'dspt-export.csv');
    const rows = Array.from(
      { length: 10 },
      (_, index) => `ZZ${9500 + index},Site ${index},25/26 Standards Met,${index < 1 ? '28/06/2026' : '31/02/2026'},Pharmacy`,
    );
    writeFileSync(file, ['Code,Organisation Name,Status,Date Of Publication,Primary Sector', ...rows].join('\r\n'));
    connector = await startFakeConnector();
    client = new TeamsClient(connector.url);
    schema = await freshPostgresSchema();
    // startBotProcess waits for /healthz: a held register must not stop the bot starting.
    bot = await startBotProcess({
      PORT: String(await freePort()),
      DATABASE_URL: schema.url,
      LOG_LEVEL: 'info',
      APP_ENV: 'development',
      MicrosoftAppId: '',
      DSPT_REGISTER_CSV: file,
    });
  });
  after(async () => {
    await bot?.stop();
    await connector?.close();
    await schema?.drop();
  });

  it('starts, serves /healthz, and tells NAS Operations the file was held back and no copy is in use', async () => {
    assert.equal((await fetch(`${bot.baseUrl}/healthz`)).status, 200);
    assert.equal((await client.opsChannelInstalled(bot.endpoint)).status, 200);
    const told = await connector.waitFor((call) => call.conversationId === DEMO.opsChannelId && activityText(call).includes('held back'), 30_000);
    assert.match(
      activityText(told),
      /dspt-export\.csv\) could not be used: it looks incomplete, so it was held back: 90% of its rows could not be used .*loaded 1 row, skipped 9, no previous copy/,
    );
    assert.match(activityText(told), /No copy is in use, so screening that needs it stops with a clear message rather than giving verdicts/);
  });
});

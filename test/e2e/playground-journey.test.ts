import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startPlayground, type RunningPlayground } from '../../dev/playground/launch';
import { chromiumAvailable, launchChromium, startBotProcess, type BotProcess } from '../support/processes';

const ROOT = path.join(__dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'test-output', 'e2e');
const BOT_PORT = '3988';
const REASON = 'Our sponsorship of these community pharmacies ends on 31 March.';
const LIST = ['amara.mensah@nhsmail.example, ZZ9101', 'esme.flint@nhsmail.example', 'kezia.morrow@nhsmail.example'].join('\n');
const WAIT = { timeout: 20_000 };

/**
 * The whole journey in the real Microsoft 365 Agents Playground, in headless Chromium:
 * the requester's Teams (Priya) and NAS Operations' Teams (Tom) are two Playgrounds on one
 * bot, which is stopped and started again halfway through the requester's conversation.
 */
describe('end to end in the Agents Playground (headless Chromium)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let bot: BotProcess | undefined;
  let requesterTeams: RunningPlayground | undefined;
  let opsTeams: RunningPlayground | undefined;
  let browser: Browser | undefined;
  let requester: Page;
  let ops: Page;
  const botEnv = () => ({ PORT: BOT_PORT, PGLITE_DATA_DIR: path.join(dataDir, 'pglite'), LOG_LEVEL: 'info', APP_ENV: 'development' });

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI === 'true') throw new Error('Chromium is required in CI: .ci/run installs it with apt-get.');
      process.stderr.write('  (skipped: no Chromium at /usr/bin/chromium; apt-get install chromium)\n');
      this.skip();
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nas-e2e-'));
    bot = await startBotProcess(botEnv());
    const logDir = path.join(dataDir, 'playground-logs');
    requesterTeams = await startPlayground({
      configFile: path.join(ROOT, 'dev', 'playground', 'requester.yml'),
      port: 56250,
      botEndpoint: bot.endpoint,
      logDir,
    });
    opsTeams = await startPlayground({ configFile: path.join(ROOT, 'dev', 'playground', 'ops.yml'), port: 56251, botEndpoint: bot.endpoint, logDir });
    browser = await launchChromium();
    ops = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    requester = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await Promise.all([requester && shot(requester, 'failed-requester'), ops && shot(ops, 'failed-ops')]);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([requesterTeams?.stop(), opsTeams?.stop()]);
    await bot?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const say = async (page: Page, text: string) => {
    await page.locator('[data-lexical-editor="true"]').click();
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
  };
  const sees = (page: Page, text: string | RegExp) => page.getByText(text).last().waitFor(WAIT);
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('runs request, screening, ops decision and outcome, surviving a bot restart', async () => {
    // NAS Operations open their channel: the bot learns where to post requests.
    await ops.goto(opsTeams!.url);
    await ops.getByText('Transfer Requests').click();

    await requester.goto(requesterTeams!.url);
    await sees(requester, 'Start a new transfer');
    await say(requester, 'help');
    await sees(requester, 'stop the request you are filling in');
    // The welcome card's button, as a person would start.
    await requester.getByRole('button', { name: 'Start a new transfer' }).last().click();
    await sees(requester, 'Are the accounts transferring from this organisation?');
    await say(requester, 'yes');
    await sees(requester, 'Why are these accounts being transferred to NAS?');
    await say(requester, REASON);
    await sees(requester, 'Accounts to transfer');
    await requester.locator('textarea').last().fill(LIST);
    await requester.getByRole('button', { name: 'Continue', exact: true }).last().click();
    await sees(requester, /Checking 3 accounts against the transfer policy/);
    // The results come by themselves once screened.
    await sees(requester, 'Screening results');
    await sees(requester, /The account is marked as a leaver/);
    await sees(requester, /Site ZZ9103 DSPT status is .*Approaching Standards.*NAS Operations will judge it/);
    await shot(requester, '1-screening-results');

    // Stop and start the bot halfway through, at the results: the conversation carries on from the database.
    await bot!.stop();
    bot = await startBotProcess(botEnv());

    await requester.getByRole('button', { name: 'Continue with 2 accounts' }).last().click();
    // The confirmations come after the results, about the accounts being submitted.
    await sees(requester, 'Before you submit');
    await sees(requester, /Confirm each of these for the 2 accounts you are submitting from Northmoor Community Care Partnership/);
    const ticks = requester.getByRole('checkbox');
    assert.equal(await ticks.count(), 4);
    for (let index = 0; index < 4; index++) await ticks.nth(index).check();
    await shot(requester, '2-attestations');
    await requester.getByRole('button', { name: 'Submit 2 accounts to NAS' }).last().click();
    await sees(requester, /Your reference is NTR-\d+/);
    const confirmation = await requester
      .getByText(/Your reference is NTR-\d+/)
      .last()
      .innerText();
    const reference = /NTR-\d+/.exec(confirmation)![0];

    // NAS Operations decide on the card in their channel; it updates in place. The Playground has
    // no Universal Actions refresh: the card as posted must carry every button they need.
    await sees(ops, `Transfer request ${reference}`);
    const button = (name: string) => ops.getByRole('button', { name, exact: true });
    /** The account's row on the card (the innermost container with its address and the button). */
    const inRow = (email: string, name: string) =>
      ops
        .locator('.ac-container')
        .filter({ hasText: email })
        .filter({ has: button(name) })
        .last()
        .getByRole('button', { name, exact: true });
    for (const email of ['amara.mensah@nhsmail.example', 'esme.flint@nhsmail.example']) {
      for (const name of ['Approve', 'Reject']) assert.ok(await inRow(email, name).isVisible(), `${name} is on ${email}'s row`);
    }
    await shot(ops, '3-ops-card');
    await button('Assign to me').last().click();
    await sees(ops, /assigned to Tom Ashdown since/);
    // The card is replaced twice after each action (the invoke response, then the update for everyone): let it settle.
    await ops.waitForTimeout(1500);
    assert.equal(await button('Assign to me').count(), 0, 'no Assign to me once it is assigned');
    // One account at a time, by its row's buttons.
    await inRow('amara.mensah@nhsmail.example', 'Approve').click();
    await sees(ops, /Approved by Tom Ashdown at/);
    // A reason typed while the card is replaced would be wiped, so type it once the card has settled.
    await ops.waitForTimeout(1500);
    await ops.getByPlaceholder('Type it here, then press Reject or Change on an account').last().fill('DSPT must be met before transfer.');
    await inRow('esme.flint@nhsmail.example', 'Reject').click();
    await sees(ops, /Rejected by Tom Ashdown at .*DSPT must be met before transfer\./);
    await sees(ops, '1 approved, 1 rejected');
    await shot(ops, '4-ops-decided');
    await ops.waitForTimeout(1500);
    await ops.getByPlaceholder('For example: moved in the 3 December batch').last().fill('Moved in the first batch');
    await ops.getByRole('button', { name: 'Mark approved as transferred (1)' }).click();
    // Marked is not moved: the bot reads the directory, where the demo account is still Northmoor's.
    await sees(ops, /Not yet moved in the directory/);
    await shot(ops, '5-ops-marked-not-moved');
    // NAS Operations override the directory for it, with a reason kept in the audit: that completes the request.
    await ops.waitForTimeout(1500);
    await ops
      .getByPlaceholder('Type it here, then press Reject or Change on an account')
      .last()
      .fill('Moved by hand in the NHSmail Portal; the directory lags.');
    await inRow('amara.mensah@nhsmail.example', 'Transferred anyway: override').click();
    await sees(ops, 'Completed');
    await shot(ops, '6-ops-completed');

    // The requester hears the outcome in their personal chat: the card, updated in place once the request completed.
    await sees(requester, `Transfer request ${reference} is complete: NAS now administers the accepted accounts`);
    await sees(requester, /1 accepted for transfer to NAS, 1 rejected, 1 not submitted/);
    // The words around the reason are the requester cards' (cards/outcome*): the reason ops gave is the point here.
    await sees(requester, /Why: .*DSPT must be met before transfer\./);
    await sees(requester, /Next step: \w/);
    await shot(requester, '5-outcome');
    await sees(requester, new RegExp(`The transfer ${reference} is complete: NAS now administers this account`));
    await say(requester, `status ${reference}`);
    await sees(requester, /esme\.flint@nhsmail\.example: rejected by Tom Ashdown/);

    const log = bot!.output();
    assert.match(log, /"event":"bot.started"/);
    assert.doesNotMatch(
      log,
      /07\d{3} ?\d{3} ?\d{3}|\+447|Our sponsorship|DSPT must be met|nhsmail\.example/,
      'no phone numbers, addresses or message text in the log',
    );
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startApp, type RunningApp } from '../../app';
import { loadConfig } from '../../config';
import { createLogger } from '../../core/log';
import { startMissingSandboxes, type SandboxedConfig } from '../../dev/sandbox/sandbox-defaults';
import { openPglite } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { chromiumAvailable, launchChromium } from '../support/processes';
import { seedEveryState, SHARED_ADDRESS, type Seeded } from './seed';

/**
 * The NAS Operations workspace in Debian's Chromium against the real bot (startApp, development
 * sign-in as Tom Ashdown) on a store holding requests in every state: the queue and each filter,
 * the address search, paging, a link that keeps the filters, the request view and Assign to me
 * by keyboard alone, the export, the charts; axe-core finds no WCAG 2.2 AA violation in any
 * view, light or dark, desktop or phone. One browser, one bot, one database for the suite.
 */
const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-output', 'workspace');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

describe('NAS Operations workspace in the browser', function () {
  this.timeout(90_000);
  let dataDir: string;
  let sandboxed: SandboxedConfig | undefined;
  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let seeded: Seeded;
  let base: string;

  const reference = (key: keyof Seeded['requests']) => seeded.requests[key].reference;

  /** Waits for the page to finish drawing a view (it marks body[data-ready] after each). */
  const ready = async (target: Page, before?: string | null) => {
    await target.waitForFunction((previous) => {
      const marker = document.body.dataset.ready;
      return marker !== undefined && marker !== previous && !document.querySelector('main .loading');
    }, before ?? null);
  };
  const marker = (target: Page) => target.evaluate(() => document.body.dataset.ready ?? null);
  const go = async (target: Page, address: string) => {
    await target.goto(new URL(address, base).toString());
    await ready(target);
  };
  /** Does something that changes the view, and waits for the new one. */
  const andWait = async (target: Page, action: () => Promise<unknown>) => {
    const before = await marker(target);
    await action();
    await ready(target, before);
  };
  const rows = (target: Page) => target.$$eval('#queue-table tbody tr', (elements) => elements.map((row) => row.getAttribute('data-reference')));

  const axe = async (target: Page, label: string) => {
    await target.evaluate(AXE_SOURCE);
    const violations = (await target.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe.run(
        document,
        {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
        },
      );
      return result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.slice(0, 3).map((node) => ({ target: node.target, failureSummary: node.failureSummary })),
      }));
    })) as AxeViolation[];
    assert.deepEqual(violations, [], `${label}: ${JSON.stringify(violations, null, 2)}`);
  };

  const chooseOption = async (target: Page, dropdownId: string, text: string) => {
    await andWait(target, async () => {
      await target.click(`#${dropdownId}`);
      await target.locator(`#${dropdownId} fluent-option`, { hasText: text }).first().click();
    });
  };

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI === 'true') throw new Error('Chromium is required in CI: .ci/run installs it with apt-get.');
      process.stderr.write('  (skipped: no Chromium at /usr/bin/chromium; apt-get install chromium)\n');
      this.skip();
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nas-workspace-'));
    // Seeded before the bot opens the same embedded database.
    const db = await openPglite(dataDir);
    await migrate(db);
    seeded = await seedEveryState(db, { extraOpen: 26 });
    await db.close();
    const logger = createLogger('warn', () => undefined);
    sandboxed = await startMissingSandboxes(loadConfig({ APP_ENV: 'development', PORT: '0', PGLITE_DATA_DIR: dataDir }), logger);
    app = await startApp(sandboxed.config, logger);
    base = app.workspaceUrl!;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`  page error: ${error.message}\n`));
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await sandboxed?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in as the demo NAS Operations member and shows the open queue oldest first, 25 a page, accessibly', async () => {
    await go(page, './');
    assert.equal(await page.textContent('#signed-in'), 'Signed in as Tom Ashdown');
    assert.deepEqual((await rows(page)).slice(0, 5), [reference('lenas'), reference('overdue'), reference('mine'), reference('fresh'), reference('formula')]);
    assert.equal((await rows(page)).length, 25);
    assert.match((await page.textContent('#queue-summary')) ?? '', /^31 requests; showing 1 to 25, oldest first\.$/);
    const overdueRow = page.locator(`tr[data-reference="${reference('overdue')}"]`);
    assert.match((await overdueRow.textContent()) ?? '', /Fenwick Valley Pharmacy.*ZZ9003.*Priya Okafor.*Awaiting review.*Overdue.*Unassigned/s);
    // The running bot screens open requests again by itself (the re-check), so the changed figure is whatever it found.
    assert.deepEqual((await overdueRow.locator('td.number').allTextContents()).slice(1, 7), ['2', '1', '0', '0', '0', '0']);
    assert.match(
      (await page
        .locator(`tr[data-reference="${reference('mine')}"] td.number`)
        .last()
        .textContent()) ?? '',
      /^[1-9]\d*$/,
      'accounts changed since submission',
    );
    assert.equal(await page.locator(`tr[data-reference="${reference('completed')}"] td.number`).count(), 0, 'closed requests are not on the open queue');
    assert.match((await page.textContent(`tr[data-reference="${reference('lenas')}"]`)) ?? '', /In review.*Lena Marsh/s);
    await axe(page, 'queue');
  });

  it('filters by status, reviewer (mine, unassigned), organisation and overdue, each kept in the address', async () => {
    await go(page, './');
    await chooseOption(page, 'filter-status', 'All requests');
    assert.match(page.url(), /status=all/);
    assert.equal((await page.textContent('#queue-summary'))?.startsWith('34 requests'), true);
    await chooseOption(page, 'filter-status', 'Withdrawn');
    assert.deepEqual(await rows(page), [reference('withdrawn')]);
    await chooseOption(page, 'filter-status', 'Open');
    await chooseOption(page, 'filter-reviewer', 'Mine');
    assert.match(page.url(), /reviewer=mine/);
    assert.deepEqual(await rows(page), [reference('mine')]);
    await chooseOption(page, 'filter-reviewer', 'Unassigned');
    assert.deepEqual((await rows(page)).slice(0, 3), [reference('overdue'), reference('fresh'), reference('formula')]);
    await chooseOption(page, 'filter-reviewer', 'Anyone');
    await andWait(page, () => page.click('#filter-overdue'));
    assert.match(page.url(), /overdue=true/);
    assert.deepEqual(await rows(page), [reference('lenas'), reference('overdue')]);
    await andWait(page, () => page.click('#filter-overdue'));
    await page.locator('#filter-organisation input').fill('zz9002');
    await andWait(page, () => page.locator('#filter-organisation input').press('Enter'));
    assert.match(page.url(), /organisation=zz9002/);
    assert.deepEqual(await rows(page), [reference('mine')]);
    await andWait(page, () => page.click('#clear-filters'));
    assert.equal((await rows(page)).length, 25);
  });

  it('searches by reference or organisation words, finds every request that held an account address, pages, and a copied link shows the same', async () => {
    await go(page, './?view=queue&status=all');
    await page.locator('#filter-q input').fill('fenwick');
    await andWait(page, () => page.locator('#filter-q input').press('Enter'));
    assert.deepEqual(await rows(page), [reference('withdrawn'), reference('overdue')]);
    await page.locator('#filter-q input').fill(reference('decided').toLowerCase());
    await andWait(page, () => page.click('#apply-filters'));
    assert.deepEqual(await rows(page), [reference('decided')]);
    await page.locator('#filter-q input').fill('');
    await page.locator('#filter-address input').fill(SHARED_ADDRESS.toUpperCase());
    await andWait(page, () => page.locator('#filter-address input').press('Enter'));
    assert.deepEqual(await rows(page), [reference('withdrawn'), reference('overdue')]);
    const shared = page.url();
    const colleague = await context.newPage();
    await go(colleague, shared);
    assert.deepEqual(await rows(colleague), [reference('withdrawn'), reference('overdue')], 'the link keeps the filters');
    assert.equal(await colleague.locator('#filter-address input').inputValue(), SHARED_ADDRESS.toUpperCase());
    await colleague.close();

    await go(page, './');
    await andWait(page, () => page.click('#next-page'));
    assert.match(page.url(), /page=2/);
    assert.equal((await rows(page)).length, 6);
    assert.match((await page.textContent('#queue-summary')) ?? '', /showing 26 to 31/);
    await andWait(page, () => page.goBack());
    assert.equal((await rows(page)).length, 25, 'Back returns to page 1');
  });

  it('exports the filtered queue as a CSV file', async () => {
    await go(page, './?view=queue&status=all&organisation=ZZ9003');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    assert.match(download.suggestedFilename(), /^nas-transfer-queue-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 3);
    assert.ok(lines[1]!.startsWith(`${reference('withdrawn')},Fenwick Valley Pharmacy,ZZ9003,Priya Okafor,Withdrawn,`));
    assert.ok(lines[2]!.startsWith(`${reference('overdue')},Fenwick Valley Pharmacy,ZZ9003,Priya Okafor,Awaiting review,`));
    await page.waitForFunction(() => /Exported/.test(document.getElementById('export-status')?.textContent ?? ''));
  });

  it('opens a request and assigns it by keyboard alone: answers, accounts, audit, the card link; Assign to me; back to the queue', async () => {
    await go(page, './?view=queue&reviewer=unassigned');
    // From the top of the page, Tab until the overdue request's reference link has the focus.
    await page.keyboard.press('Tab');
    let focused = '';
    for (let presses = 0; presses < 80 && focused !== reference('overdue'); presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => (document.activeElement?.tagName === 'A' ? (document.activeElement.textContent ?? '') : ''));
    }
    assert.equal(focused, reference('overdue'), 'the reference link is reachable by Tab');
    await andWait(page, () => page.keyboard.press('Enter'));
    assert.match(page.url(), new RegExp(`view=request&id=${seeded.requests.overdue.id}`));
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus moves to the request’s heading');
    assert.match((await page.textContent('h1')) ?? '', new RegExp(`${reference('overdue')}\\s*Awaiting review`));
    assert.match((await page.textContent('main')) ?? '', /Sponsorship ends in March\. <b>not markup<\/b>/, 'the requester’s text is shown as text');
    assert.match((await page.textContent('main')) ?? '', /Confirmed: Affected users told of the process and timescales/);
    assert.match((await page.textContent(`#accounts-table tr[data-email="${SHARED_ADDRESS}"]`)) ?? '', /eligible.*Undecided/s);
    assert.match((await page.textContent('#audit-table')) ?? '', /submitted the request.*Priya Okafor/s);
    assert.match(
      (await page.getAttribute('#card-link', 'href')) ?? '',
      /^https:\/\/teams\.microsoft\.com\/l\/message\/19%3Anas-ops-transfer-requests%40thread\.tacv2\/1732890000000\?/,
    );
    await axe(page, 'request');

    let onAssign = false;
    for (let presses = 0; presses < 20 && !onAssign; presses++) {
      await page.keyboard.press('Tab');
      onAssign = await page.evaluate(() => document.activeElement?.id === 'assign-to-me');
    }
    assert.ok(onAssign, 'Assign to me is reachable by Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#claim-message');
    assert.match((await page.textContent('#claim-message')) ?? '', new RegExp(`You are now reviewing ${reference('overdue')}`));
    assert.match((await page.textContent('main dl.facts')) ?? '', /Reviewer\s*Tom Ashdown \(you\)/);
    assert.equal(await page.locator('#assign-to-me').count(), 0, 'no Assign to me once assigned, as on the card');
    assert.match((await page.textContent('#audit-table')) ?? '', /started reviewing\s*Tom Ashdown/);

    let onBack = false;
    for (let presses = 0; presses < 10 && !onBack; presses++) {
      await page.keyboard.press('Shift+Tab');
      onBack = await page.evaluate(() => document.activeElement?.id === 'back-to-queue');
    }
    assert.ok(onBack, 'Back to the queue is reachable by Shift+Tab from the heading');
    await andWait(page, () => page.keyboard.press('Enter'));
    assert.match(page.url(), /reviewer=unassigned/, 'back to the same filters');
    assert.ok(!(await rows(page)).includes(reference('overdue')), 'no longer unassigned');
    let onNext = false;
    for (let presses = 0; presses < 120 && !onNext; presses++) {
      await page.keyboard.press('Tab');
      onNext = await page.evaluate(() => document.activeElement?.id === 'next-page');
    }
    assert.ok(onNext, 'Next page is reachable by Tab');
    await andWait(page, () => page.keyboard.press('Enter'));
    assert.match(page.url(), /page=2/, 'and pages by Enter');
  });

  it('shows a request someone else is reviewing without Assign to me, and a closed one with its decisions, question and transfer', async () => {
    await go(page, `./?view=request&id=${seeded.requests.lenas.id}`);
    assert.equal(await page.locator('#assign-to-me').count(), 0);
    assert.match((await page.textContent('main dl.facts')) ?? '', /Reviewer\s*Lena Marsh, since/);
    await go(page, `./?view=request&id=${seeded.requests.mine.id}`);
    assert.match(
      (await page.locator('#accounts-table [data-changed]').first().textContent()) ?? '',
      /^Changed since submission \(seen \d{1,2} \w{3} \d{4}, \d{2}:\d{2}\): .+/,
    );
    await go(page, `./?view=request&id=${seeded.requests.completed.id}`);
    const text = (await page.textContent('main')) ?? '';
    assert.match(text, /Approved by Tom Ashdown/);
    assert.match(
      text,
      /Marked transferred by Tom Ashdown, .*; confirmed by Tom Ashdown, .*: Seen in the NAS portal; the directory lags\..*Note: Moved in the NAS portal\./s,
    );
    assert.match(text, /Tom Ashdown asked, .*Are both users still at the practice\?.*Answered .*Yes, both of them\./s);
    assert.match(text, /Its card has not been posted to the ops channel yet\./);
    await go(page, `./?view=request&id=${seeded.requests.decided.id}`);
    assert.match((await page.textContent('#accounts-table')) ?? '', /Rejected by Lena Marsh.*Reason: The site has not met the DSPT standard\./s);
    await go(page, './?view=request&id=999999');
    assert.equal(await page.textContent('h1'), 'Request not found');
  });

  it('draws the picture of the work: open requests by age and status, received and decided per week, the median time to a decision, each chart with its table', async () => {
    await go(page, './');
    await andWait(page, () => page.click('a.nav-link[data-view="picture"]'));
    assert.match(page.url(), /view=picture/);
    assert.equal(await page.getAttribute('a.nav-link[data-view="picture"]', 'aria-current'), 'page');
    const ages = await page.$$eval('#chart-ages-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    assert.equal(ages.length, 6);
    const open = ages.reduce((sum, [, submitted, inReview]) => sum + Number(submitted) + Number(inReview), 0);
    assert.equal(open, 31, 'every open request in one band');
    assert.equal(Number(ages.at(-1)![2]), 1, 'Lena’s, in review, is over 10 working days old');
    assert.ok((await page.locator('#chart-ages svg rect').count()) >= 3, 'bars drawn');
    const weeks = await page.$$eval('#chart-weeks-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    assert.equal(weeks.length, 12);
    assert.equal(
      weeks.reduce((sum, [, received]) => sum + Number(received), 0),
      34,
    );
    assert.equal(
      weeks.reduce((sum, [, , decided]) => sum + Number(decided), 0),
      2,
    );
    assert.match((await page.getAttribute('#chart-ages svg', 'aria-labelledby')) ?? '', /chart-ages-title chart-ages-summary/);
    assert.match(
      (await page.textContent('#median-text')) ?? '',
      /^Median time to a decision over the last 12 weeks: \d+(\.\d+)? working days? \(96(\.\d)? hours\), across 2 decisions\.$/,
    );
    await axe(page, 'picture');
  });

  it('looks right and stays accessible at desktop and phone widths, in the light, dark and high-contrast Teams themes (screenshots in test-output/workspace)', async () => {
    const views: Array<[string, string]> = [
      ['queue', './?view=queue&status=all'],
      ['request', `./?view=request&id=${seeded.requests.decided.id}`],
      ['picture', './?view=picture'],
    ];
    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      // Light at desktop width was checked by axe in the tests above; high contrast is checked once, at desktop width.
      for (const theme of width === 'desktop' ? ['light', 'dark', 'contrast'] : ['light', 'dark']) {
        for (const [name, address] of views) {
          await go(page, `${address}&theme=${theme}`);
          assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
          if (theme !== 'contrast') await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}-${theme}.png`), fullPage: true });
          if (theme !== 'light') await axe(page, `${name} ${width} ${theme}`);
        }
      }
    }
    await page.setViewportSize(DESKTOP);
  });
});

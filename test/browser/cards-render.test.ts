import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { renderAccountsEntryCard } from '../../cards/accounts-entry';
import { renderAttestationsCard } from '../../cards/attestations';
import { renderDutiesDraftsCard } from '../../cards/duties-drafts';
import { renderMinimalOpsCard, renderOpsRequestCard } from '../../cards/ops-request';
import { renderOutcomeCard } from '../../cards/outcome';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import { renderWelcomeCard } from '../../cards/welcome';
import { draftMessages } from '../../services/duties/drafts';
import { loadAffectedUserMessages } from '../../services/duties/message-templates';
import { offeredActions, type Card } from '../support/card-actions';
import { SAMPLE_EMAILS, sampleRequest, type SampleState } from '../support/card-samples';
import { chromiumAvailable, launchChromium } from '../support/processes';
import { TEAMS_HOST_CONFIGS, type TeamsTheme } from './teams-host-configs';

/**
 * Every card template rendered by the Adaptive Cards SDK (the renderer Teams' web client and
 * the Agents Playground use) in Debian's Chromium, with Teams' light, dark and high-contrast
 * host configs, at desktop and phone widths. Screenshots go to test-output/cards/. Each
 * button the card JSON offers must be a visible button, each input a visible box, every
 * undecided ops row must show its own Approve and Reject, and the ops card's words must
 * reach WCAG's 4.5:1 contrast in every theme.
 */
const ROOT = path.join(__dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'test-output', 'cards');
const SDK = path.join(ROOT, 'node_modules', 'adaptivecards', 'dist', 'adaptivecards.min.js');
const WIDTHS = { desktop: 1280, phone: 375 } as const;
const THEMES = Object.keys(TEAMS_HOST_CONFIGS) as TeamsTheme[];

const content = (attachment: { content?: unknown }) => attachment.content as Card;
const OPS_STATES: SampleState[] = ['submitted', 'in_review', 'decided', 'part_transferred', 'completed', 'withdrawn'];

const CARDS: Array<{ name: string; card: () => Card; mine: boolean; undecidedRows?: string[] }> = [
  ...OPS_STATES.map((state) => ({
    name: `ops-${state.replace('_', '-')}`,
    card: () => content(renderOpsRequestCard(sampleRequest(state))),
    mine: true,
    undecidedRows:
      state === 'submitted'
        ? [SAMPLE_EMAILS.eligible, SAMPLE_EMAILS.review, SAMPLE_EMAILS.secondEligible]
        : state === 'in_review'
          ? [SAMPLE_EMAILS.eligible, SAMPLE_EMAILS.review]
          : [],
  })),
  {
    name: 'ops-in-review-read-only',
    card: () => content(renderOpsRequestCard(sampleRequest('in_review'), 0, '', undefined, { actionable: false, refreshUserIds: [] })),
    mine: true,
  },
  {
    // A channel of more than 60 members: those beyond refresh.userIds see this base card, read-only with a button for their own view.
    name: 'ops-large-channel-base',
    card: () => content(renderOpsRequestCard(sampleRequest('in_review'), 0, '', undefined, { actionable: false, askForOwnView: true, refreshUserIds: [] })),
    mine: true,
  },
  {
    // Teams refused every rendering as too large (413): the short card posted instead.
    name: 'ops-minimal',
    card: () => content(renderMinimalOpsCard(sampleRequest('in_review'))),
    mine: true,
  },
  {
    // The messages to the affected users, offered to the requester before anything is sent.
    name: 'duties-drafts',
    card: () => {
      const request = sampleRequest('decided');
      const timescales = { decision: { known: false as const, samples: 0 }, transfer: { known: false as const, samples: 0 } };
      const drafts = draftMessages(request, 'outcome', loadAffectedUserMessages(), timescales);
      return content(renderDutiesDraftsCard({ request, drafts, timescales, tallies: [] }, { canSend: true }));
    },
    mine: true,
  },
  {
    name: 'ops-refused-row',
    card: () => content(renderOpsRequestCard(sampleRequest('in_review'), 0, 'Give a reason to reject: the requester will see it.', 102)),
    mine: true,
  },
  {
    name: 'screening-results',
    card: () =>
      content(
        renderScreeningResultsCard('Northmoor Community Care Partnership', {
          policyVersion: '2026.11-1',
          accounts: sampleRequest('submitted').accounts.map((account) => ({ ...account, siteOds: account.siteOds ?? undefined })),
        } as never).card,
      ),
    mine: false,
  },
  { name: 'outcome', card: () => content(renderOutcomeCard(sampleRequest('decided'))), mine: false },
  {
    name: 'attestations',
    card: () => content(renderAttestationsCard({ organisationName: 'Northmoor Community Care Partnership', accountCount: 3, missingNotice: '' })),
    mine: false,
  },
  {
    name: 'accounts-entry',
    card: () =>
      content(
        renderAccountsEntryCard({
          maxAccounts: 500,
          problemSummary: '1 line could not be read.',
          problems: [{ text: 'Line 2: not an email address' }],
          previousText: 'amara.mensah@nhsmail.example, ZZ9101',
        }),
      ),
    mine: false,
  },
  { name: 'welcome', card: () => content(renderWelcomeCard({ firstName: 'Priya' })), mine: false },
];

/** Renders `card` on a blank page with the theme's host config; returns the rendered card element's bounding box. */
async function renderInPage(page: Page, card: Card, theme: TeamsTheme): Promise<void> {
  const hostConfig = TEAMS_HOST_CONFIGS[theme];
  // Host config colours are #AARRGGBB; CSS reads eight digits as #RRGGBBAA.
  const css = (argb: string) => (argb.length === 9 ? `#${argb.slice(3)}${argb.slice(1, 3)}` : argb);
  const background = css(hostConfig.containerStyles.default.backgroundColor);
  const foreground = css(hostConfig.containerStyles.default.foregroundColors.default.default);
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; padding: 16px; background: ${background}; }
    #card { max-width: 640px; border-radius: 4px; }
    .ac-pushButton { font: 600 14px 'Segoe UI', sans-serif; padding: 4px 12px; min-height: 32px; border-radius: 4px; cursor: pointer;
      border: 1px solid ${theme === 'light' ? '#c8c6c4' : '#ffffff'}; background: ${background}; color: ${foreground}; }
    .ac-input { font: 14px 'Segoe UI', sans-serif; padding: 4px; border: 1px solid ${theme === 'light' ? '#8a8886' : '#ffffff'};
      background: ${background}; color: ${foreground}; }
  </style></head><body><div id="card"></div></body></html>`);
  await page.addScriptTag({ path: SDK });
  const problems = await page.evaluate(
    ({ json, config }) => {
      const sdk = (window as unknown as { AdaptiveCards: any }).AdaptiveCards;
      const adaptiveCard = new sdk.AdaptiveCard();
      adaptiveCard.hostConfig = new sdk.HostConfig(config);
      const context = new sdk.SerializationContext();
      adaptiveCard.parse(json, context);
      const rendered = adaptiveCard.render();
      document.getElementById('card')!.appendChild(rendered);
      const found: string[] = [];
      for (let index = 0; index < context.eventCount; index++) found.push(context.getEventAt(index).message);
      return found;
    },
    { json: card, config: hostConfig },
  );
  assert.deepEqual(problems, [], 'the SDK parsed the card without complaint');
}

/** Text elements whose colour against the card background is below 4.5:1 (WCAG AA for body text). */
async function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(CONTRAST_SCRIPT) as Promise<string[]>;
}

/** Plain JavaScript run in the page (a string: the test's compiler would wrap named functions in helpers the page lacks). */
const CONTRAST_SCRIPT = `(() => {
  const channel = (value) => { const c = value / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const parse = (css) => { const parts = css.match(/[\\d.]+/g).map(Number); return [parts[0], parts[1], parts[2], parts[3] ?? 1]; };
  const luminance = (rgb) => 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
  const backgroundOf = (element) => {
    for (let current = element; current; current = current.parentElement) {
      const colour = parse(getComputedStyle(current).backgroundColor);
      if (colour[3] > 0) return colour;
    }
    return parse(getComputedStyle(document.body).backgroundColor);
  };
  const found = [];
  const walker = document.createTreeWalker(document.getElementById('card'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node.textContent || '').trim();
    const element = node.parentElement;
    if (!text || !element || element.closest('button, input, textarea')) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || style.display === 'none' || element.getClientRects().length === 0) continue;
    const background = backgroundOf(element);
    const foreground = parse(style.color);
    // A translucent colour is drawn blended over its background.
    const drawn = [0, 1, 2].map((index) => foreground[index] * foreground[3] + background[index] * (1 - foreground[3]));
    const pair = [luminance(drawn), luminance(background)].sort((a, b) => b - a);
    const ratio = (pair[0] + 0.05) / (pair[1] + 0.05);
    if (ratio < 4.5) found.push(ratio.toFixed(2) + ':1 "' + text.slice(0, 50) + '" (' + style.color + ')');
  }
  return found;
})()`;

describe('every card rendered by the Adaptive Cards SDK in Chromium, in Teams light, dark and high contrast, at desktop and phone widths', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let page: Page;
  const contrastOfOthers: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      if (process.env.CI === 'true') throw new Error('Chromium is required in CI: .ci/run installs it with apt-get.');
      process.stderr.write('  (skipped: no Chromium at /usr/bin/chromium; apt-get install chromium)\n');
      this.skip();
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    if (contrastOfOthers.length) writeFileSync(path.join(SCREENSHOTS, 'contrast-of-other-cards.txt'), `${contrastOfOthers.join('\n')}\n`);
    await browser?.close();
  });

  for (const { name, card, mine, undecidedRows } of CARDS) {
    it(`${name}: every button and input it offers is visible, in every theme and width`, async () => {
      const json = card();
      const offered = offeredActions(json);
      const inputs = JSON.stringify(json).match(/"type":"Input\.[A-Za-z]+","id":"[^"]+"/g) ?? [];
      for (const theme of THEMES) {
        for (const [widthName, width] of Object.entries(WIDTHS)) {
          await page.setViewportSize({ width, height: 900 });
          await renderInPage(page, json, theme);
          await page.locator('#card').screenshot({ path: path.join(SCREENSHOTS, `${name}-${theme}-${widthName}.png`) });
          const where = `${name}, ${theme}, ${widthName}`;

          // Buttons on the card itself; those behind an Action.ShowCard appear when it is opened.
          for (const action of offered.filter((candidate) => !candidate.behind)) {
            assert.ok(
              await page.getByRole('button', { name: action.title, exact: true }).first().isVisible(),
              `${where}: "${action.title}" is a visible button`,
            );
          }
          for (const input of inputs) {
            const id = /"id":"([^"]+)"/.exec(input)![1]!;
            const box = page.locator(`#card [id="${id}"], #card [aria-label], #card input, #card textarea`).first();
            assert.ok(await box.isVisible(), `${where}: input ${id} is visible`);
          }
          const boxes = await page.locator('#card input:visible, #card textarea:visible').count();
          assert.ok(boxes >= inputs.length, `${where}: ${inputs.length} inputs offered, ${boxes} visible`);

          // Each undecided account shows its own Approve and Reject, inside its row.
          for (const email of undecidedRows ?? []) {
            const row = page
              .locator('.ac-container')
              .filter({ hasText: email })
              .filter({ has: page.getByRole('button', { name: 'Reject', exact: true }) })
              .last();
            for (const title of ['Approve', 'Reject'])
              assert.ok(await row.getByRole('button', { name: title, exact: true }).isVisible(), `${where}: ${title} on ${email}'s row`);
          }
          for (const reveal of new Set(offered.map((action) => action.behind).filter((title): title is string => Boolean(title)))) {
            await page.getByRole('button', { name: reveal, exact: true }).click();
            for (const action of offered.filter((candidate) => candidate.behind === reveal)) {
              assert.ok(
                await page.getByRole('button', { name: action.title, exact: true }).isVisible(),
                `${where}: "${action.title}" shows once "${reveal}" is opened`,
              );
            }
            await page.locator('#card').screenshot({ path: path.join(SCREENSHOTS, `${name}-${theme}-${widthName}-confirm.png`) });
          }

          const poor = await lowContrastText(page);
          if (mine) assert.deepEqual(poor, [], `${where}: text below 4.5:1`);
          else contrastOfOthers.push(...poor.map((line) => `${where}: ${line}`));
        }
      }
    });
  }

  it('the contrast check has teeth: Teams light Warning text on white is caught', async () => {
    await page.setViewportSize({ width: 1280, height: 400 });
    await renderInPage(page, { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Needs review', color: 'Warning' }] }, 'light');
    const poor = await lowContrastText(page);
    assert.equal(poor.length, 1, poor.join('\n'));
    assert.match(poor[0]!, /^1\.\d\d:1 "Needs review"/);
  });
});

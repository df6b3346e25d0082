import assert from 'node:assert/strict';
import { renderOutcomeCard } from '../../cards/outcome';
import type { StoredRequest } from '../../services/model';
import { TEAMS_HOST_CONFIGS, type TeamsTheme } from '../browser/teams-host-configs';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * The requester's outcome card reaches WCAG 2.2's 4.5:1 (SC 1.4.3) for every piece of text, in
 * every Teams theme, computed from Teams' own host config colours: microsoft/AdaptiveCards
 * samples/HostConfig/microsoft-teams-light.json and microsoft-teams-dark.json, and Teams'
 * high-contrast theme (test/browser/teams-host-configs.ts says where each comes from). The
 * browser test renders the card too; this one needs no browser, so it always runs.
 */

/** #RRGGBB or #AARRGGBB (Adaptive Cards' order) as [r, g, b, alpha 0..1]. */
function colour(hex: string): [number, number, number, number] {
  const digits = hex.replace('#', '');
  const [a, rgb] = digits.length === 8 ? [parseInt(digits.slice(0, 2), 16) / 255, digits.slice(2)] : [1, digits];
  return [parseInt(rgb.slice(0, 2), 16), parseInt(rgb.slice(2, 4), 16), parseInt(rgb.slice(4, 6), 16), a];
}

function luminance([r, g, b]: readonly number[]): number {
  const channel = (value: number) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
}

export function contrast(foregroundHex: string, backgroundHex: string): number {
  const background = colour(backgroundHex);
  const foreground = colour(foregroundHex);
  const drawn = [0, 1, 2].map((index) => foreground[index]! * foreground[3] + background[index]! * (1 - foreground[3]));
  const [light, dark] = [luminance(drawn), luminance(background)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

/** Every TextBlock and TextRun of a card, with its colour name and subtlety. */
function texts(element: unknown, found: Array<{ text: string; color: string; subtle: boolean }> = []) {
  if (Array.isArray(element)) element.forEach((item) => texts(item, found));
  else if (element && typeof element === 'object') {
    const node = element as Record<string, unknown>;
    if ((node.type === 'TextBlock' || node.type === 'TextRun') && typeof node.text === 'string')
      found.push({ text: node.text, color: String(node.color ?? 'Default').toLowerCase(), subtle: node.isSubtle === true });
    Object.values(node).forEach((value) => texts(value, found));
  }
  return found;
}

describe('the outcome card reaches 4.5:1 in every Teams theme (colours from Teams host configs)', () => {
  const submitted = {
    id: 1,
    reference: 'NTR-100001',
    ...requestDetails({ id: 'p', name: 'Priya Okafor' }),
    accounts: [
      { ...screenedAccount(1, 'amara.mensah@nhsmail.example', 'eligible'), id: 1, decision: 'approved', decisionReason: null },
      { ...screenedAccount(2, 'esme.flint@nhsmail.example', 'review'), id: 2, decision: 'rejected', decisionReason: 'DSPT not met' },
      { ...screenedAccount(3, 'kofi.boateng@nhsmail.example', 'ineligible'), id: 3, decision: null, decisionReason: null },
    ],
  } as unknown as StoredRequest;

  it('the check has teeth: Teams light Good (#92c353) on white is 2.07:1', () => {
    assert.equal(contrast('#92c353', '#ffffff').toFixed(2), '2.07');
  });

  for (const theme of Object.keys(TEAMS_HOST_CONFIGS) as TeamsTheme[]) {
    it(`every heading and line of the outcome card, in Teams ${theme}`, () => {
      const config = TEAMS_HOST_CONFIGS[theme].containerStyles.default;
      const card = renderOutcomeCard(submitted).content;
      const found = texts(card);
      assert.ok(
        found.some((item) => /Accepted/.test(item.text)),
        'the Accepted heading is there',
      );
      const poor = found
        .map((item) => {
          const set = config.foregroundColors[item.color as keyof typeof config.foregroundColors];
          const ratio = contrast(item.subtle ? set.subtle : set.default, config.backgroundColor);
          return { ...item, ratio };
        })
        .filter((item) => item.ratio < 4.5)
        .map((item) => `${item.ratio.toFixed(2)}:1 ${item.color}${item.subtle ? ' subtle' : ''} "${item.text.slice(0, 40)}"`);
      assert.deepEqual(poor, []);
    });
  }
});

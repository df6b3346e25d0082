import { Template } from 'adaptivecards-templating';

/** The content type of an Adaptive Card attachment (the Bot Framework and the Microsoft 365 Agents SDK use the same one). */
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/**
 * An Adaptive Card as a message attachment, in the shape every Teams SDK sends. Defined here so
 * that cards/ does not depend on botbuilder: only bot/ (the Teams edge) does.
 */
export interface CardAttachment {
  contentType: string;
  content: Record<string, unknown>;
}

/**
 * Teams' strictest documented limit for a bot message is 40 KB measured as UTF-16; we keep
 * a margin for the activity envelope around the card.
 */
export const MESSAGE_LIMIT_BYTES = 40 * 1024;
export const CARD_BUDGET_BYTES = MESSAGE_LIMIT_BYTES - 4 * 1024;

export function utf16Bytes(value: unknown): number {
  return JSON.stringify(value).length * 2;
}

/**
 * Each template parsed once. Parsing its ${…} expressions (adaptive-expressions' ANTLR parser) is
 * nearly all of a render: 200-400 ms for the ops card on a loaded machine, on every render. The
 * library prepares a Template once so it can "be bound to different data objects in a loop"
 * (adaptivecards-templating 2.3.1, Template's constructor); expand is synchronous, so sharing one
 * is safe. Keyed by the template object: templates are module constants.
 */
const parsedTemplates = new WeakMap<object, Template>();

/** Expands a JSON card template with its typed data into an adaptive card attachment. */
export function expandCard<Data extends object>(template: object, data: Data): CardAttachment {
  let parsed = parsedTemplates.get(template);
  if (!parsed) {
    parsed = new Template(template);
    parsedTemplates.set(template, parsed);
  }
  const card = parsed.expand({ $root: data }) as Record<string, unknown>;
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}

/**
 * Renders a card showing as many list items as fit the message limit. `render(count)` must
 * say in the card how many of how many it shows, so nothing is cut silently.
 *
 * A render expands the template (most of its cost) and measuring it serialises the whole card, so
 * both are done as few times as possible, whatever the list's length: the whole list, which
 * usually fits; if not, one item, to know the card's size without its list; then the count the
 * two measurements predict (the card's size less one item's, shared among the others) is
 * rendered and measured to verify it. Items are not all the same size, so a prediction that
 * turns out too large is made again from what the longer render measured, always with fewer
 * items, until one fits or one item is left. Stepping down by a quarter each time rendered and
 * serialised the card four times for a 20-account ops card of ordinary accounts, and ten
 * times for a 500-account outcome card (issue 23).
 */
export function fitToMessageLimit(
  total: number,
  render: (shown: number) => CardAttachment,
  budgetBytes = CARD_BUDGET_BYTES,
): { card: CardAttachment; shown: number } {
  const whole = render(total);
  let measured = utf16Bytes(whole);
  if (measured <= budgetBytes || total <= 1) return { card: whole, shown: total };
  const one = { card: render(1), shown: 1 };
  const oneBytes = utf16Bytes(one.card);
  // Even one item is too many: the smallest card there is (a 413 makes the caller try a smaller rendering).
  if (oneBytes >= budgetBytes) return one;
  let shown = total;
  for (;;) {
    // What each item after the first took in the last card measured; those that fit in the rest of the budget, and always fewer.
    const perItem = (measured - oneBytes) / (shown - 1);
    const next = Math.min(shown - 1, 1 + Math.floor((budgetBytes - oneBytes) / perItem));
    if (next <= 1) return one;
    const card = render(next);
    measured = utf16Bytes(card);
    shown = next;
    if (measured <= budgetBytes) return { card, shown };
  }
}

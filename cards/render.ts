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
 */
export function fitToMessageLimit(
  total: number,
  render: (shown: number) => CardAttachment,
  budgetBytes = CARD_BUDGET_BYTES,
): { card: CardAttachment; shown: number } {
  let shown = total;
  let card = render(shown);
  while (utf16Bytes(card) > budgetBytes && shown > 1) {
    shown = Math.max(1, Math.floor(shown * 0.75));
    card = render(shown);
  }
  return { card, shown };
}

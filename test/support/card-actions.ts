/**
 * Tests press only what a card shows. A test user holds the card they last received (posted,
 * updated for everyone, or returned to them by their own click), finds a button on it by its
 * title or verb and the row it sits in, types into the card's inputs, and the button's data
 * goes to the bot as Teams sends it: the action's data with every input that has a value
 * merged in (the adaptivecards SDK's Action.Submit/Execute rule). A button the card does not
 * show cannot be pressed: the helper fails the test instead.
 *
 * Forged or stale data (tampering tests) goes through the transports directly, by name.
 */

export type Card = Record<string, unknown>;

export interface OfferedAction {
  type: 'Action.Execute';
  title: string;
  verb: string;
  data: Record<string, unknown>;
  style?: string;
  /** Every text of the innermost Container the button sits in (an account row): '' for buttons outside one. */
  row: string;
  /** The Action.ShowCard that reveals it, if any (a confirmation). */
  behind?: string;
  /** The inputs the button sends: those of its own card and of the cards it is nested in. */
  inputs: CardInput[];
}

export interface CardInput {
  id: string;
  type: string;
  label?: string;
  value?: string;
}

export interface ActionTarget {
  /** The button's title, exactly, or a pattern. */
  title?: string | RegExp;
  verb?: string;
  /** Text in the button's row, e.g. an account's address. */
  row?: string;
}

type Element = Record<string, unknown>;

/** Markdown escapes are how a TextBlock shows the address; people read it without them. */
const unescape = (text: string) => text.replace(/\\(.)/g, '$1');

function textOf(element: unknown): string[] {
  if (Array.isArray(element)) return element.flatMap(textOf);
  if (!element || typeof element !== 'object') return [];
  const node = element as Element;
  if (node.type === 'AdaptiveCard' && node !== element) return [];
  const own = typeof node.text === 'string' ? [unescape(node.text)] : [];
  const facts = Array.isArray(node.facts) ? (node.facts as Array<{ title: string; value: string }>).map((fact) => `${fact.title} ${fact.value}`) : [];
  // A RichTextBlock's runs read as one line.
  const runs = Array.isArray(node.inlines) ? [textOf(node.inlines).join('')] : [];
  const children = ['items', 'columns', 'body'].flatMap((key) => textOf(node[key]));
  return [...own, ...facts, ...runs, ...children];
}

function inputsIn(elements: unknown): CardInput[] {
  if (Array.isArray(elements)) return elements.flatMap(inputsIn);
  if (!elements || typeof elements !== 'object') return [];
  const node = elements as Element;
  const own =
    typeof node.type === 'string' && node.type.startsWith('Input.') && typeof node.id === 'string'
      ? [{ id: node.id, type: node.type, label: node.label as string | undefined, value: node.value as string | undefined }]
      : [];
  // Inputs inside a ShowCard belong to that card, not to the one it is on.
  return [...own, ...['items', 'columns'].flatMap((key) => inputsIn(node[key]))];
}

/** Every Action.Execute a card shows (in its body, its actions, and behind its Action.ShowCards), with its row and inputs. */
export function offeredActions(card: Card): OfferedAction[] {
  const found: OfferedAction[] = [];
  const visitCard = (inner: Card, inheritedInputs: CardInput[], behind: string | undefined) => {
    const inputs = [...inputsIn(inner.body), ...inheritedInputs];
    const visitActions = (actions: unknown, row: string) => {
      for (const action of (Array.isArray(actions) ? actions : []) as Element[]) {
        if (action.type === 'Action.Execute') {
          found.push({
            type: 'Action.Execute',
            title: String(action.title ?? ''),
            verb: String(action.verb ?? ''),
            data: { ...((action.data as Record<string, unknown> | undefined) ?? {}) },
            style: action.style as string | undefined,
            row,
            behind,
            inputs: action.associatedInputs === 'none' ? [] : inputs,
          });
        } else if (action.type === 'Action.ShowCard' && action.card) {
          visitCard(action.card as Card, inputs, String(action.title ?? ''));
        }
      }
    };
    const visit = (elements: unknown, row: string) => {
      for (const element of (Array.isArray(elements) ? elements : []) as Element[]) {
        const rowHere = element.type === 'Container' ? textOf(element.items).join('\n') : row;
        if (element.type === 'ActionSet') visitActions(element.actions, row);
        visit(element.items, rowHere);
        for (const column of (Array.isArray(element.columns) ? element.columns : []) as Element[]) visit(column.items, rowHere);
        if (element.selectAction) visitActions([element.selectAction], rowHere);
      }
    };
    visit(inner.body, '');
    visitActions(inner.actions, '');
  };
  visitCard(card, [], undefined);
  return found;
}

const describe = (action: OfferedAction) =>
  `"${action.title}" (${action.verb})${action.row ? ` in the row "${action.row.split('\n')[0]}"` : ''}${action.behind ? ` behind "${action.behind}"` : ''}`;

function matches(action: OfferedAction, target: ActionTarget): boolean {
  if (target.verb !== undefined && action.verb !== target.verb) return false;
  if (typeof target.title === 'string' && action.title !== target.title) return false;
  if (target.title instanceof RegExp && !target.title.test(action.title)) return false;
  if (target.row !== undefined && !action.row.includes(target.row)) return false;
  return true;
}

/** The one button on `card` that fits `target`; fails, listing what the card shows, when there is none or more than one. */
export function findOffered(card: Card, target: ActionTarget): OfferedAction {
  const offered = offeredActions(card);
  const fitting = offered.filter((action) => matches(action, target));
  const wanted = JSON.stringify({ ...target, title: target.title instanceof RegExp ? String(target.title) : target.title });
  if (fitting.length === 0) throw new Error(`The card shows no button ${wanted}. It shows:\n  ${offered.map(describe).join('\n  ') || '(no buttons)'}`);
  if (fitting.length > 1) throw new Error(`The card shows ${fitting.length} buttons ${wanted}; say which row:\n  ${fitting.map(describe).join('\n  ')}`);
  return fitting[0]!;
}

/** What a card shows, in words: every text block, fact and run, for asserting on what a person reads. */
export function cardWords(card: Card): string {
  return textOf(card.body).join('\n');
}

/**
 * The data Teams sends for `action` once the user typed `typed` into the card's inputs: the
 * action's data, then each input it sends that has a value (typed, or the input's initial
 * value), by input id. Typing into an input the button does not send fails the test.
 */
export function teamsActionData(action: OfferedAction, typed: Record<string, string> = {}): Record<string, unknown> {
  const sent = new Map(action.inputs.map((input) => [input.id, input]));
  for (const id of Object.keys(typed)) {
    if (!sent.has(id)) throw new Error(`${describe(action)} sends no input "${id}": the card's inputs for it are ${[...sent.keys()].join(', ') || 'none'}.`);
  }
  const data: Record<string, unknown> = { ...action.data };
  for (const input of action.inputs) {
    const value = typed[input.id] ?? input.value;
    if (value) data[input.id] = value;
  }
  return data;
}

export type Trigger = 'manual' | 'automatic';

/**
 * A person with a card in front of them. `invoke` sends an Action.Execute as they would
 * (the TestAdapter or HTTP); `cardOf` reads the card a response carries (Teams shows it in
 * place of the one clicked).
 */
export class CardUser<Response> {
  private current: Card | undefined;

  constructor(
    readonly name: string,
    private readonly invoke: (verb: string, data: Record<string, unknown>, trigger: Trigger) => Promise<Response>,
    private readonly cardOf: (response: Response) => Card | undefined,
  ) {}

  /** The card in front of them now. */
  get card(): Card {
    if (!this.current) throw new Error(`${this.name} has no card in front of them yet.`);
    return this.current;
  }

  /** They received this card (posted, or updated for everyone). */
  sees(card: Card | undefined): this {
    if (!card) throw new Error(`${this.name} was given no card to see.`);
    this.current = card;
    return this;
  }

  offers(target: ActionTarget): boolean {
    return offeredActions(this.card).some((action) => matches(action, target));
  }

  /** Presses the button that fits `target` on their card, having typed `typed` into its inputs; their card becomes the one the bot answers with. */
  async press(target: ActionTarget, typed: Record<string, string> = {}): Promise<Response> {
    const action = findOffered(this.card, target);
    const response = await this.invoke(action.verb, teamsActionData(action, typed), 'manual');
    const answered = this.cardOf(response);
    if (answered) this.current = answered;
    return response;
  }

  /** Teams refreshing their card (Universal Actions, the card's own `refresh.action`). */
  async refresh(trigger: Trigger = 'automatic'): Promise<Response> {
    const refresh = (this.card.refresh as { action?: { type?: string; verb?: string; data?: Record<string, unknown> } } | undefined)?.action;
    if (!refresh?.verb || refresh.type !== 'Action.Execute') throw new Error(`${this.name}'s card asks for no refresh.`);
    const response = await this.invoke(refresh.verb, { ...refresh.data }, trigger);
    const answered = this.cardOf(response);
    if (answered) this.current = answered;
    return response;
  }
}

import { randomUUID } from 'node:crypto';
import { DEMO } from '../../config';
import { PEOPLE } from './bot-harness';
import { CardUser } from './card-actions';

/**
 * Sends activities to the bot's /api/messages the way Teams does (Bot Framework protocol,
 * msteams channel, no token: the bot runs with an empty app id locally), with the fake
 * connector as the service URL its replies go to.
 */
export interface Sent {
  status: number;
  body: unknown;
  ms: number;
}

export class TeamsClient {
  constructor(private readonly serviceUrl: string) {}

  /** A message (text, or a card's Action.Submit value) in `user`'s personal chat `chatId`. */
  message(endpoint: string, user: keyof typeof PEOPLE, chatId: string, content: string | Record<string, unknown>): Promise<Sent> {
    return this.post(endpoint, {
      type: 'message',
      ...(typeof content === 'string' ? { text: content } : { value: content }),
      from: PEOPLE[user],
      conversation: { id: chatId, conversationType: 'personal', tenantId: DEMO.tenantId },
      channelData: { tenant: { id: DEMO.tenantId } },
    });
  }

  /** The bot being added to the ops team's channel: how it learns where the ops channel is. */
  opsChannelInstalled(endpoint: string): Promise<Sent> {
    return this.post(endpoint, {
      type: 'conversationUpdate',
      from: PEOPLE.tom,
      membersAdded: [{ id: '28:nas-transfer-bot', name: 'NAS Transfer Bot' }],
      conversation: { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true },
      channelData: { tenant: { id: DEMO.tenantId }, team: { id: '19:nas-ops-general@thread.tacv2' }, channel: { id: DEMO.opsChannelId } },
    });
  }

  /** An Action.Execute on the ops card; the body is the invoke response Teams would render. */
  invoke(endpoint: string, user: keyof typeof PEOPLE, verb: string, data: Record<string, unknown>, trigger: 'manual' | 'automatic' = 'manual'): Promise<Sent> {
    return this.post(endpoint, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      from: PEOPLE[user],
      conversation: { id: `${DEMO.opsChannelId};messageid=1`, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true },
      channelData: { tenant: { id: DEMO.tenantId }, channel: { id: DEMO.opsChannelId } },
      value: { action: { type: 'Action.Execute', verb, data }, trigger },
    });
  }

  /** Any activity, as Teams would post it (the envelope filled in): for what the helpers above do not cover. */
  async post(endpoint: string, activity: Record<string, unknown>): Promise<Sent> {
    const started = performance.now();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: randomUUID(),
        channelId: 'msteams',
        serviceUrl: this.serviceUrl,
        recipient: { id: '28:nas-transfer-bot', name: 'NAS Transfer Bot' },
        timestamp: new Date().toISOString(),
        locale: 'en-GB',
        ...activity,
      }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body, ms: performance.now() - started };
  }
}

/** `user` pressing buttons on the ops card in front of them, over HTTP to `endpoint()` (see card-actions.ts). */
export function opsCardUserOverHttp(client: TeamsClient, endpoint: () => string, user: keyof typeof PEOPLE): CardUser<Sent> {
  return new CardUser(
    PEOPLE[user].name,
    (verb, data, trigger) => client.invoke(endpoint(), user, verb, data, trigger),
    (sent) => {
      const body = sent.body as { type?: string; value?: Record<string, unknown> } | undefined;
      return sent.status === 200 && body?.type === 'application/vnd.microsoft.card.adaptive' ? body.value : undefined;
    },
  );
}

type CardElement = Record<string, unknown>;

/** Every element of a card's body (containers, columns and action sets opened), not those of the cards its Action.ShowCards reveal. */
function elementsOf(elements: unknown): CardElement[] {
  if (!Array.isArray(elements)) return [];
  return (elements as CardElement[]).flatMap((element) => [
    element,
    ...elementsOf(element.items),
    ...(Array.isArray(element.columns) ? (element.columns as CardElement[]).flatMap((column) => elementsOf(column.items)) : []),
  ]);
}

/**
 * What Teams sends as the message's value when a person presses the Action.Submit titled
 * `title` on a card in their chat (the requester's form cards): the button's data, then each
 * of the card's inputs that has a value, typed or ticked in `typed` (a tick is 'true'), else
 * its initial value, by input id. A button the card does not show, or an input it does not
 * have, fails the test, listing what the card shows.
 */
export function submitPressed(card: Record<string, unknown> | undefined, title: string | RegExp, typed: Record<string, string> = {}): Record<string, unknown> {
  if (!card) throw new Error(`No card to press "${String(title)}" on.`);
  const body = elementsOf(card.body);
  const actions = [
    ...(Array.isArray(card.actions) ? (card.actions as CardElement[]) : []),
    ...body.flatMap((element) => (element.type === 'ActionSet' && Array.isArray(element.actions) ? (element.actions as CardElement[]) : [])),
  ];
  const submits = actions.filter((action) => action.type === 'Action.Submit');
  const fitting = submits.filter((action) => (typeof title === 'string' ? action.title === title : title.test(String(action.title ?? ''))));
  if (fitting.length !== 1) {
    throw new Error(
      `The card shows ${fitting.length} Action.Submit buttons "${String(title)}". It shows: ${submits.map((action) => `"${String(action.title)}"`).join(', ') || '(none)'}`,
    );
  }
  const inputs = body.filter((element) => typeof element.type === 'string' && element.type.startsWith('Input.') && typeof element.id === 'string');
  for (const id of Object.keys(typed)) {
    if (!inputs.some((input) => input.id === id))
      throw new Error(`The card has no input "${id}": its inputs are ${inputs.map((input) => String(input.id)).join(', ') || 'none'}.`);
  }
  const data: Record<string, unknown> = { ...((fitting[0]!.data as Record<string, unknown> | undefined) ?? {}) };
  for (const input of inputs) {
    const value = typed[String(input.id)] ?? (input.value as string | undefined);
    if (value) data[String(input.id)] = value;
  }
  return data;
}

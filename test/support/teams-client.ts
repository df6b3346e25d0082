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

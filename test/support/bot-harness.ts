import type { MailSignIn } from '../../bot/duties/mail-sign-in';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Activity, AdaptiveCardInvokeResponse, Attachment, ConversationReference } from 'botbuilder';
import { ConversationReferences } from '../../bot/state/conversation-references';
import { TestAdapter } from 'botbuilder';
import { composeBot, type ComposedBot } from '../../app';
import type { Messenger } from '../../bot/messaging/messenger';
import { DeliveryError } from '../../bot/messaging/messenger';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../../bot/messaging/outbox-worker';
import { createTurnErrorHandler } from '../../bot/turn-error-handler';
import { DEMO, loadConfig, type AppConfig } from '../../config';
import { createLogger, silentLogger } from '../../core/log';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { startMissingSandboxes } from '../../dev/sandbox/sandbox-defaults';
import { openDataSources, type DataSources } from '../../services/data-sources';
import type { SqlDatabase } from '../../services/store/database';
import { freshPglite } from './databases';
import { CardUser } from './card-actions';

/** Demo directory people (dev/demo-directory.json). */
export const PEOPLE = {
  priya: { id: '29:priya.okafor', name: 'Priya Okafor', aadObjectId: '6e6d7300-0000-4000-8000-000000000128' },
  sam: { id: '29:sam.idowu', name: 'Sam Idowu', aadObjectId: '6e6d7300-0000-4000-8000-000000000129' },
  /** A Local Administrator of another organisation: a requester, but not of Priya's requests. */
  ruth: { id: '29:ruth.kellaway', name: 'Ruth Kellaway', aadObjectId: '6e6d7300-0000-4000-8000-000000000130' },
  tom: { id: '29:tom.ashdown', name: 'Tom Ashdown', aadObjectId: '6e6d7300-0000-4000-8000-000000000131' },
  lena: { id: '29:lena.marsh', name: 'Lena Marsh', aadObjectId: '6e6d7300-0000-4000-8000-000000000132' },
} as const;

export const personalChat = (user: keyof typeof PEOPLE, key: string) => ({
  id: `a:${user}-chat-${key}`,
  conversationType: 'personal',
  tenantId: DEMO.tenantId,
  isGroup: false,
  name: '',
});
export const opsChannel = { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true, name: 'Transfer Requests' };

export interface SentMessage {
  conversationId: string;
  activityId: string;
  activity: Partial<Activity>;
}

/**
 * Stands in for the Bot Connector, the edge we do not own, behind the Messenger port: it
 * records what the bot sent and updated, and can refuse as Teams does (403, 429, 5xx).
 */
export class RecordingMessenger implements Messenger {
  readonly sent: SentMessage[] = [];
  readonly updates: SentMessage[] = [];
  private readonly faults: Array<{ status: number; retryAfterSeconds?: number; to?: string }> = [];
  /** Teams' activity ids are unique for good: clearing the record does not reuse them. */
  private nextActivity = 1;

  /** The next calls fail with these statuses, in order; a fault with `to` applies only to conversations whose id starts with it. */
  failNext(...faults: Array<{ status: number; retryAfterSeconds?: number; to?: string }>): void {
    this.faults.push(...faults);
  }

  /** A connector that answers 413 to any card bigger than this many bytes of JSON (undefined: no limit). */
  tooLargeOver: number | undefined;

  async send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string> {
    this.maybeFail(reference.conversation?.id ?? '');
    this.refuseIfTooLarge(activity);
    const message = { conversationId: reference.conversation?.id ?? '', activityId: `sent-${this.nextActivity++}`, activity };
    this.sent.push(message);
    return message.activityId;
  }

  /** How many members the ops channel has, as Teams' roster would say (undefined: Teams could not say). */
  channelMembers: number | undefined = 3;

  async memberCount(_reference: Partial<ConversationReference>, atLeast: number): Promise<number | undefined> {
    return this.channelMembers === undefined ? undefined : Math.min(this.channelMembers, atLeast);
  }

  async update(reference: Partial<ConversationReference>, activityId: string, activity: Partial<Activity>): Promise<void> {
    this.maybeFail(reference.conversation?.id ?? '');
    this.refuseIfTooLarge(activity);
    this.updates.push({ conversationId: reference.conversation?.id ?? '', activityId, activity });
  }

  /** Cards posted in the ops channel. */
  opsPosts(): SentMessage[] {
    return this.sent.filter((message) => message.conversationId === opsChannel.id);
  }

  /** Messages sent to a person's personal chats (any of them). */
  toUser(user: keyof typeof PEOPLE): SentMessage[] {
    return this.sent.filter((message) => message.conversationId.startsWith(`a:${user}-chat-`));
  }

  clear(): void {
    this.sent.length = 0;
    this.updates.length = 0;
  }

  private refuseIfTooLarge(activity: Partial<Activity>): void {
    if (this.tooLargeOver !== undefined && activity.attachments && JSON.stringify(activity.attachments).length > this.tooLargeOver)
      throw new DeliveryError(413, undefined);
  }

  /** A fault with a 2xx status is a call that goes through. */
  private maybeFail(conversationId: string): void {
    const index = this.faults.findIndex((fault) => fault.to === undefined || conversationId.startsWith(fault.to));
    if (index < 0) return;
    const [fault] = this.faults.splice(index, 1);
    if (fault && fault.status >= 400) throw new DeliveryError(fault.status, fault.retryAfterSeconds);
  }
}

export interface Harness {
  db: SqlDatabase;
  dataSources: DataSources;
  config: AppConfig;
  /** The latest composed bot (its repositories and workers). */
  readonly app: ComposedBot;
  messenger: RecordingMessenger;
  graph: SandboxGraph;
  /**
   * A TestAdapter on a freshly composed bot over the same database, as after a restart.
   * Each call is a new personal chat unless `chat` names an earlier one.
   */
  adapterFor(user: keyof typeof PEOPLE, chat?: string): TestAdapter;
  /** Runs the screening and delivery workers until nothing is due. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Retries at once in tests: the backoff is a unit-tested function, not something to wait for. */
export const IMMEDIATE_RETRIES: DeliveryPolicy = {
  ...DEFAULT_DELIVERY_POLICY,
  maxAttempts: 4,
  baseBackoffSeconds: 0,
  maxBackoffSeconds: 0,
  leaseSeconds: 30,
  batchSize: 10,
};

/**
 * The real bot, database (PGlite in memory) and data sources (sandbox Graph and ORD over HTTP).
 * `writeLog` receives every log line the bot writes, for tests of what is logged.
 */
export async function startHarness(
  options: {
    writeLog?: (line: string) => void;
    deliveryPolicy?: DeliveryPolicy;
    wrapDatabase?: (db: SqlDatabase) => SqlDatabase;
    mailSignIn?: MailSignIn;
  } = {},
): Promise<Harness> {
  const logger = options.writeLog ? createLogger('debug', options.writeLog) : silentLogger;
  // Our own sandbox Graph, so tests can make it misbehave; ORD is the sandbox the entry points start.
  const graph = await startSandboxGraph(await loadSandboxDirectory(path.join(__dirname, '..', '..', 'dev', 'demo-directory.json')));
  // Teams' limits are kept by the real send budget, but wide: a suite's tests share one ops channel and post to it faster
  // than 60 in 30 s, and settle() does not wait out a paced row. Pacing has tests of its own (store/paced-delivery, bench/pacing).
  const sandboxed = await startMissingSandboxes(
    loadConfig({ LOG_LEVEL: 'silent', GRAPH_BASE_URL: graph.url, TEAMS_CONVERSATION_LIMITS: '1:10000', TEAMS_TENANT_LIMITS: '1:10000' }),
    silentLogger,
  );
  const config = sandboxed.config;
  const db = (options.wrapDatabase ?? ((plain: SqlDatabase) => plain))(await freshPglite());
  const dataSources = await openDataSources(config);
  const messenger = new RecordingMessenger();
  const compose = () =>
    composeBot({
      config,
      db,
      dataSources,
      messenger,
      logger,
      deliveryPolicy: options.deliveryPolicy ?? IMMEDIATE_RETRIES,
      screeningPolicy: { leaseSeconds: 30, progressEverySeconds: 0, maxAttempts: 1, retryInSeconds: 0 },
      mailSignIn: options.mailSignIn,
    });
  let app = compose();
  return {
    db,
    dataSources,
    config,
    get app() {
      return app;
    },
    messenger,
    adapterFor(user, chat = randomUUID()) {
      app = compose();
      const { bot } = app;
      const adapter = new TestAdapter((context) => bot.run(context));
      for (const middleware of app.middleware) adapter.use(middleware);
      adapter.onTurnError = createTurnErrorHandler(logger);
      adapter.conversation.channelId = 'msteams';
      adapter.conversation.user = { ...PEOPLE[user] };
      adapter.conversation.conversation = personalChat(user, chat);
      return adapter;
    },
    settle: () => app.settle(),
    graph,
    async close() {
      await app.stopWorkers();
      await graph.close();
      await sandboxed.close();
      await db.close();
    },
  };
}

/** Everything a card says, as one string, for asserting on what the user sees. */
export function cardText(activity: Partial<Activity>): string {
  return JSON.stringify(activity.attachments?.map((attachment: Attachment) => attachment.content) ?? []);
}

export function cardBody(activity: Partial<Activity>): Record<string, unknown> {
  return activity.attachments?.[0]?.content as Record<string, unknown>;
}

/** The chats the bot has learned, as after the ops team installed it and Priya first wrote to it. */
export async function knowOpsChannelAndRequester(harness: Harness): Promise<void> {
  await harness.app.references.save(ConversationReferences.OPS_CHANNEL, { serviceUrl: 'https://test', conversation: opsChannel });
  await harness.app.references.save(ConversationReferences.forUser(PEOPLE.priya.aadObjectId), {
    serviceUrl: 'https://test',
    conversation: { id: 'a:priya-chat-1' } as never,
  });
}

/** Sends an Action.Execute invoke as `user` from the ops channel and returns the invoke response the bot gave. */
export async function executeCardAction(
  adapter: TestAdapter,
  user: keyof typeof PEOPLE,
  verb: string,
  data: Record<string, unknown>,
  trigger: 'manual' | 'automatic' = 'manual',
): Promise<AdaptiveCardInvokeResponse> {
  adapter.activeQueue.splice(0);
  await adapter.processActivity({
    type: 'invoke',
    name: 'adaptiveCard/action',
    from: PEOPLE[user],
    conversation: opsChannel,
    channelData: { tenant: { id: opsChannel.tenantId }, channel: { id: opsChannel.id } },
    value: { action: { type: 'Action.Execute', verb, data }, trigger },
  });
  const response = adapter.activeQueue.find((activity) => activity.type === 'invokeResponse');
  if (!response) throw new Error('the bot did not answer the invoke');
  return (response.value as { body: AdaptiveCardInvokeResponse }).body;
}

/** The ops channel's card for a posted message as everyone sees it now: its latest update, else as posted. */
export function opsChannelCard(messenger: RecordingMessenger, activityId: string | null | undefined): Record<string, unknown> | undefined {
  const latest =
    [...messenger.updates].reverse().find((update) => update.activityId === activityId) ?? messenger.sent.find((sent) => sent.activityId === activityId);
  return latest?.activity.attachments?.[0]?.content as Record<string, unknown> | undefined;
}

/**
 * `user` in the ops channel with a card in front of them, pressing its buttons through
 * `adapter()` (see card-actions.ts): only what their card shows can be pressed.
 */
export function opsCardUser(adapter: () => TestAdapter, user: keyof typeof PEOPLE): CardUser<AdaptiveCardInvokeResponse> {
  return new CardUser(
    PEOPLE[user].name,
    (verb, data, trigger) => executeCardAction(adapter(), user, verb, data, trigger),
    (response) => (response.type === 'application/vnd.microsoft.card.adaptive' ? response.value : undefined),
  );
}

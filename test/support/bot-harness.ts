import { randomUUID } from 'node:crypto';
import type { Activity, Attachment } from 'botbuilder';
import { TestAdapter } from 'botbuilder';
import { composeBot } from '../../app';
import path from 'node:path';
import { createTurnErrorHandler } from '../../bot/turn-error-handler';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { DEMO, loadConfig, type AppConfig } from '../../config';
import { startMissingSandboxes } from '../../dev/sandbox/sandbox-defaults';
import { openDataSources, type DataSources } from '../../services/data-sources';
import { createLogger, silentLogger } from '../../core/log';
import type { Messenger, PostedMessage } from '../../services/notifier';
import type { SqlDatabase } from '../../services/store/database';
import { openPglite } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { ConversationReferences } from '../../services/store/conversation-references';
import type { RequestStore } from '../../services/store/request-store';

/** Demo directory people (dev/demo-directory.json). */
export const PEOPLE = {
  priya: { id: '29:priya.okafor', name: 'Priya Okafor', aadObjectId: '6e6d7300-0000-4000-8000-000000000128' },
  sam: { id: '29:sam.idowu', name: 'Sam Idowu', aadObjectId: '6e6d7300-0000-4000-8000-000000000129' },
  tom: { id: '29:tom.ashdown', name: 'Tom Ashdown', aadObjectId: '6e6d7300-0000-4000-8000-000000000131' },
} as const;

export const personalChat = (user: keyof typeof PEOPLE, key: string) => ({ id: `a:${user}-chat-${key}`, conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' });
export const opsChannel = { id: DEMO.opsChannelId, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true, name: 'Transfer Requests' };

/**
 * Records what the bot sends through the Teams edge we do not own (proactive posts,
 * message updates, notifications). Like the real one, it can only post to the ops channel
 * once the bot has learned that channel's conversation reference.
 */
export class RecordingMessenger implements Messenger {
  readonly posted: Array<PostedMessage & { card: Attachment }> = [];
  readonly updates: Array<PostedMessage & { card: Attachment }> = [];
  readonly toUsers: Array<{ userId: string; message: Partial<Activity> }> = [];

  constructor(private readonly references: ConversationReferences) {}

  async postToOpsChannel(card: Attachment): Promise<PostedMessage | null> {
    const reference = await this.references.get(ConversationReferences.OPS_CHANNEL);
    if (!reference) return null;
    const posted = { conversationId: reference.conversation!.id, activityId: `ops-post-${this.posted.length + 1}` };
    this.posted.push({ ...posted, card });
    return posted;
  }

  async updateOpsMessage(posted: PostedMessage, card: Attachment): Promise<void> {
    this.updates.push({ ...posted, card });
  }

  async sendToUser(userId: string, message: Partial<Activity>): Promise<boolean> {
    if (!(await this.references.get(ConversationReferences.forUser(userId)))) return false;
    this.toUsers.push({ userId, message });
    return true;
  }
}

export interface Harness {
  db: SqlDatabase;
  dataSources: DataSources;
  config: AppConfig;
  store: RequestStore;
  messenger: RecordingMessenger;
  references: ConversationReferences;
  graph: SandboxGraph;
  /**
   * A TestAdapter on a freshly composed bot over the same database, as after a restart.
   * Each call is a new personal chat unless `chat` names an earlier one.
   */
  adapterFor(user: keyof typeof PEOPLE, chat?: string): TestAdapter;
  close(): Promise<void>;
}

/**
 * The real bot, database (PGlite in memory) and data sources (sandbox Graph and ORD over HTTP).
 * `writeLog` receives every log line the bot writes, for tests of what is logged.
 */
export async function startHarness(writeLog?: (line: string) => void): Promise<Harness> {
  const logger = writeLog ? createLogger('debug', writeLog) : silentLogger;
  // Our own sandbox Graph, so tests can make it misbehave; ORD is the one openDataSources starts.
  const graph = await startSandboxGraph(await loadSandboxDirectory(path.join(__dirname, '..', '..', 'dev', 'demo-directory.json')));
  const sandboxed = await startMissingSandboxes(loadConfig({ LOG_LEVEL: 'silent', GRAPH_BASE_URL: graph.url }), silentLogger);
  const config = sandboxed.config;
  const db = await openPglite();
  await migrate(db);
  const dataSources = await openDataSources(config);
  const references = new ConversationReferences(db);
  const messenger = new RecordingMessenger(references);
  let store: RequestStore | undefined;
  const compose = () => {
    const parts = composeBot({ config, db, dataSources, references, messenger, logger });
    store = parts.store;
    return parts;
  };
  compose();
  return {
    db,
    dataSources,
    config,
    get store() {
      return store as RequestStore;
    },
    messenger,
    references,
    adapterFor(user, chat = randomUUID()) {
      const { bot } = compose();
      const adapter = new TestAdapter((context) => bot.run(context));
      adapter.onTurnError = createTurnErrorHandler(logger);
      adapter.conversation.channelId = 'msteams';
      adapter.conversation.user = { ...PEOPLE[user] };
      adapter.conversation.conversation = personalChat(user, chat);
      return adapter;
    },
    graph,
    async close() {
      await graph.close();
      await sandboxed.close();
      await db.close();
    },
  };
}

/** Everything a card says, as one string, for asserting on what the user sees. */
export function cardText(activity: Partial<Activity>): string {
  return JSON.stringify(activity.attachments?.map((attachment) => attachment.content) ?? []);
}

export function cardBody(activity: Partial<Activity>): Record<string, unknown> {
  return activity.attachments?.[0]?.content as Record<string, unknown>;
}

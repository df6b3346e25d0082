import { CloudAdapter, ConfigurationBotFrameworkAuthentication, ConversationState } from 'botbuilder';
import restify from 'restify';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from './config';
import { AccessControl } from './bot/access-control';
import { approveEligible } from './bot/card-actions/approve-eligible';
import { decideAccount } from './bot/card-actions/decide-account';
import { CardActionDispatcher } from './bot/card-actions/dispatcher';
import { rejectRequest } from './bot/card-actions/reject-request';
import { showPage } from './bot/card-actions/show-page';
import { TransferDialog } from './bot/dialogs/transfer-dialog';
import { NasTransferBot } from './bot/nas-transfer-bot';
import { createTurnErrorHandler } from './bot/turn-error-handler';
import { renderOpsRequestCard } from './cards/ops-request';
import { renderOutcomeCard } from './cards/outcome';
import type { Logger } from './core/log';
import { BotMessenger, type Messenger } from './services/notifier';
import { openDataSources, type DataSources } from './services/data-sources';
import type { SqlDatabase } from './services/store/database';
import { openDatabase } from './services/store/open-database';
import { ConversationReferences } from './services/store/conversation-references';
import { RequestStore } from './services/store/request-store';
import { SqlStorage } from './services/store/sql-storage';
import { ScreeningService } from './services/screening';
import { TransferWorkflow } from './services/transfer-workflow';

export interface RunningApp {
  /** The messaging endpoint, for the Agents Playground or Azure Bot. */
  endpoint: string;
  dataSources: DataSources;
  stop(): Promise<void>;
}

export interface BotParts {
  config: Pick<AppConfig, 'requesterGroupId' | 'opsGroupId' | 'opsChannelId' | 'allowedTenantId' | 'maxAccountsPerRequest'>;
  db: SqlDatabase;
  dataSources: DataSources;
  references: ConversationReferences;
  /** The Teams edge for proactive messages: BotMessenger in the app, a recorder in tests. */
  messenger: Messenger;
  logger: Logger;
}

/** Wires the bot from its parts. Shared by the server below and the conversation tests. */
export function composeBot(parts: BotParts): { bot: NasTransferBot; store: RequestStore; workflow: TransferWorkflow } {
  const { config, db, dataSources, references, messenger, logger } = parts;
  const store = new RequestStore(db);
  const cards = { opsRequest: renderOpsRequestCard, outcome: renderOutcomeCard };
  const workflow = new TransferWorkflow(store, messenger, cards, logger);
  const screening = new ScreeningService({ ...dataSources, openRequests: store });
  const access = new AccessControl(dataSources.directory, dataSources.organisations, config);
  const bot = new NasTransferBot({
    conversationState: new ConversationState(new SqlStorage(db)),
    transferDialog: new TransferDialog(screening, workflow, config.maxAccountsPerRequest),
    access,
    store,
    references,
    workflow,
    cardActions: new CardActionDispatcher([approveEligible, rejectRequest, decideAccount, showPage], store, access, workflow, renderOpsRequestCard, logger),
    opsChannelId: config.opsChannelId,
    allowedTenantId: config.allowedTenantId,
    logger,
  });
  return { bot, store, workflow };
}

/** The composition root: it only builds and wires; every part receives its collaborators. */
export async function startApp(config: AppConfig, logger: Logger): Promise<RunningApp> {
  const db = await openDatabase(config.database);
  const dataSources = await openDataSources(config);
  const adapter = new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication({
      MicrosoftAppId: config.bot.appId,
      MicrosoftAppPassword: config.bot.appPassword,
      MicrosoftAppType: config.bot.appType,
      MicrosoftAppTenantId: config.bot.appTenantId,
    }),
  );
  adapter.onTurnError = createTurnErrorHandler(logger);
  const references = new ConversationReferences(db);
  const { bot } = composeBot({
    config,
    db,
    dataSources,
    references,
    messenger: new BotMessenger(adapter, config.bot.appId, references),
    logger,
  });

  const server = restify.createServer({ name: 'nas-transfer-bot', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: 1024 * 1024, mapParams: false }));
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  server.head('/api/messages', (_req, res, next) => {
    res.send(200);
    next();
  });
  server.get('/health', (_req, res, next) => {
    res.send(200, { status: 'ok' });
    next();
  });
  await new Promise<void>((resolve) => server.listen(config.port, '0.0.0.0', resolve));
  const port = (server.address() as AddressInfo).port;
  logger.info('bot.started', { port, database: db.engine, graph: dataSources.graphUrl, ods: dataSources.odsUrl, policyVersion: dataSources.policy.version });

  return {
    endpoint: `http://localhost:${port}/api/messages`,
    dataSources,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

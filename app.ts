import { describeErrorForLog } from './core/errors';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'botbuilder';
import type { AppConfig } from './config';
import type { Logger } from './core/log';
import { AccessControl } from './bot/access-control';
import { startHttpServer } from './bot/http-server';
import { CardActionDispatcher } from './bot/card-actions/dispatcher';
import { CommandRegistry } from './bot/commands/command';
import { auditCommand } from './bot/commands/audit-command';
import { exportCommand } from './bot/commands/export-command';
import { opsCommands } from './bot/commands/ops-commands';
import { sourcesCommand } from './bot/commands/sources-command';
import type { FileExportDependencies } from './bot/files/file-consent';
import { requesterCommands, startResubmission } from './bot/commands/requester-commands';
import { TRANSFER_FORM_VERSION, TransferDialog } from './bot/dialogs/transfer-dialog';
import { ConnectorMessenger, type Messenger } from './bot/messaging/messenger';
import { OutboxWorker, DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from './bot/messaging/outbox-worker';
import { owedMessageRenderers } from './bot/messaging/owed-messages';
import { ChatScreeningProgress } from './bot/messaging/screening-progress';
import { InputGuard } from './bot/middleware/input-guard';
import { InvokeGuard } from './bot/middleware/invoke-guard';
import { ReferenceCapture } from './bot/middleware/reference-capture';
import { TenantGate } from './bot/middleware/tenant-gate';
import { TurnSendsCounted } from './bot/middleware/turn-sends';
import { NasTransferBot } from './bot/nas-transfer-bot';
import { ConversationReferences } from './bot/state/conversation-references';
import { ConversationReferenceRecords } from './services/store/conversation-references';
import { DialogStateStore } from './bot/state/dialog-state';
import { SqlStorage } from './services/store/bot-state';
import { createTurnErrorHandler } from './bot/turn-error-handler';
import { createWorkspace } from './bot/workspace/create-workspace';
import { renderOpsRequestCard } from './cards/ops-request';
import { warmCardTemplates } from './cards/warm-up';
import { openDataSources, type DataSources } from './services/data-sources';
import { ChaseScheduler, type ChasePolicy } from './services/chasing';
import { PollingWorker } from './services/polling-worker';
import { BANK_HOLIDAYS_FILE_NAME, loadBankHolidays } from './services/working-days';
import { ScreeningService } from './services/screening';
import { DEFAULT_SCREENING_POLICY, ScreeningRunner, type ScreeningRunnerPolicy } from './services/screening-runner';
import { AuditLog } from './services/store/audit';
import type { SqlDatabase } from './services/store/database';
import { openDatabase, readiness } from './services/store/open-database';
import { RegisterContents } from './services/store/register-contents';
import { Outbox, owed } from './services/store/outbox';
import { describeRegisterEvent, type RegisterEvent } from './services/reference/registers';
import { SqlOdsBudget } from './services/store/ods-budget';
import { conversationKeptSeconds, SqlSendBudget } from './services/store/send-budget';
import { EXCHANGE_ONLINE_SENDING_LIMITS } from './services/duties/mail-pacing';
import { SpentTally } from './services/outbox/spent-tally';
import { RequestRepository } from './services/store/requests';
import { TransferRequests } from './services/requests/transfer-requests';
import { signalledDatabase, type WorkSignal } from './services/requests/request-envelope';
import { RequestRechecks } from './services/requests/recheck';
import { DeliveryRecords } from './services/outbox/delivery-records';
import { ScreeningRequests } from './services/screening-requests';
import { QueueRepository } from './services/store/queue';
import { WorkspaceAudit } from './services/workspace-audit';
import { WorkspaceQueue } from './services/workspace-queue';
import { ScreeningJobs } from './services/store/screening-jobs';
import { purgeClosedRequests, purgeStaleWork } from './services/store/retention';
import { OpsMembersSeen } from './services/store/ops-members';
import { SqlScreeningHistory } from './services/store/screening-history';
import { composeDuties } from './services/duties/compose-duties';
import { DutiesTurns } from './bot/duties/duties-turns';
import { PendingSends } from './bot/duties/pending-sends';
import { TokenServiceMailSignIn, type MailSignIn } from './bot/duties/mail-sign-in';
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { botFrameworkAuthenticationOptions, createAdapter } from './bot/adapter';

export interface RunningApp {
  /** The messaging endpoint, for the Agents Playground or Azure Bot. */
  endpoint: string;
  /** The NAS Operations workspace page, when it is served. */
  workspaceUrl?: string;
  dataSources: DataSources;
  stop(): Promise<void>;
}

export interface BotParts {
  config: Pick<
    AppConfig,
    | 'environment'
    | 'policyFile'
    | 'retentionDays'
    | 'chaseAfterWorkingDays'
    | 'requesterGroupId'
    | 'opsGroupId'
    | 'opsChannelId'
    | 'allowedTenantId'
    | 'maxAccountsPerRequest'
    | 'opsMembershipMaxAgeMinutes'
    | 'transferCheckMinutes'
    | 'transferChaseWorkingDays'
    | 'teamsPacing'
  >;
  db: SqlDatabase;
  dataSources: DataSources;
  /** The Teams edge for proactive messages: the connector in the app, a recorder in tests. */
  messenger: Messenger;
  logger: Logger;
  deliveryPolicy?: DeliveryPolicy;
  screeningPolicy?: ScreeningRunnerPolicy;
  /** How often idle workers look for work (ms); they are also woken when work is queued here. */
  pollMs?: number;
  chasePolicy?: ChasePolicy;
  /** The requester's sign-in for sending the affected users' messages from their mailbox; without it they can only download them. */
  mailSignIn?: MailSignIn;
  /** The conversation references, when the caller shares them with a part it built (the mail sign-in); otherwise made here. */
  references?: ConversationReferences;
}

export interface ComposedBot {
  bot: NasTransferBot;
  /** Adapter middleware, in order: tenant gate, turn sends counted, input bounds, invoke guard, conversation references. */
  middleware: Middleware[];
  /** The request use cases: what the bot, the workspace and the tests change requests through. */
  requests: TransferRequests;
  audit: AuditLog;
  outbox: Outbox;
  jobs: ScreeningJobs;
  references: ConversationReferences;
  /** Delivers owed messages in the background. */
  deliveries: PollingWorker;
  /** Runs screening jobs in the background. */
  screenings: PollingWorker;
  /** Flags requests left undecided (checked every few minutes). */
  chasing: ChaseScheduler;
  /** Re-checks open requests and confirms transfers in the directory. */
  rechecks: RequestRechecks;
  /** Runs the due re-checks and transfer checks in the background. */
  checks: PollingWorker;
  access: AccessControl;
  holidays: ReadonlySet<string>;
  startWorkers(): void;
  stopWorkers(): Promise<void>;
  /** Runs both workers until neither has anything due: what a test waits for. */
  settle(): Promise<void>;
}

/** Overdue requests are looked for this often; a reminder a few minutes late is no matter. */
const CHASE_CHECK_MS = 10 * 60 * 1000;
/** Retention is a matter of days: a few looks a day are plenty. */
const RETENTION_CHECK_MS = 6 * 60 * 60 * 1000;

/** Wires the bot from its parts. Shared by the server below and the tests. */
export function composeBot(parts: BotParts): ComposedBot {
  const { config, db, dataSources, messenger, logger } = parts;
  const pollMs = parts.pollMs ?? 1000;
  const requestRecords = new RequestRepository(db);
  // Whatever commits owed messages or checks wakes the worker for them (the envelope's after-commit hook): wired once, here.
  const workSignal: WorkSignal = { workQueued: () => deliveries.wake(), checksQueued: () => checks.wake() };
  const signalledDb = signalledDatabase(db, workSignal);
  const requests = new TransferRequests(db, workSignal, logger);
  const audit = new AuditLog(db);
  const outbox = new Outbox(db);
  const signalledOutbox = new Outbox(signalledDb);
  const unwatchRegisters: Array<() => void> = [];
  const jobs = new ScreeningJobs(db);
  const references = parts.references ?? new ConversationReferences(new ConversationReferenceRecords(db));
  const opsMembers = new OpsMembersSeen(db);

  // The bank holidays sit beside the policy file (policy/ here, dist/policy/ in the production bundle).
  const holidays = loadBankHolidays(path.join(path.dirname(config.policyFile), BANK_HOLIDAYS_FILE_NAME));
  const duties = composeDuties({
    db,
    requests,
    holidays,
    policyFile: config.policyFile,
    graphUrl: dataSources.graphUrl,
    tokens: parts.mailSignIn,
    logger,
    workQueued: () => workSignal.workQueued(),
  });
  const dutiesTurns = new DutiesTurns({
    duties: duties.duties,
    authoriseRequester: (userId) => access.requester(userId),
    signIn: parts.mailSignIn,
    pendingSends: new PendingSends(new SqlStorage(db)),
    logger,
    allowInsecureUpload: config.environment !== 'production',
  });

  // One send budget for everything the bot sends on its own, shared by every instance through the database.
  // The turns' replies are recorded in the ledger the mail budget shares (services/duties/mail-pacing.ts): its tidying
  // keeps every conversation's rows as long as either ledger counts them.
  const sendBudget = new SqlSendBudget(db, config.teamsPacing, undefined, {
    conversationRowsCountForSeconds: Math.max(conversationKeptSeconds(config.teamsPacing), conversationKeptSeconds(EXCHANGE_ONLINE_SENDING_LIMITS)),
  });
  // A turn's replies are counted in memory and reach the ledger in one statement per short interval, off the reply path.
  const turnSends = new SpentTally(sendBudget, (requests) => logger.warn('send_budget.record_failed', { requests }));
  const outboxWorker = new OutboxWorker(
    new DeliveryRecords(outbox, requestRecords, jobs),
    references,
    messenger,
    owedMessageRenderers,
    () => opsMembers.refreshUserIds(),
    logger,
    parts.deliveryPolicy ?? DEFAULT_DELIVERY_POLICY,
    duties.pacer(sendBudget),
    Math.random,
    duties.mail,
  );
  const deliveries = new PollingWorker('outbox', () => outboxWorker.deliverDue(), pollMs, logger);
  const screening = new ScreeningService({ ...dataSources, history: new SqlScreeningHistory(db) });
  const runner = new ScreeningRunner(
    jobs,
    screening,
    new ChatScreeningProgress(jobs, references, messenger, sendBudget),
    logger,
    parts.screeningPolicy ?? DEFAULT_SCREENING_POLICY,
  );
  const screenings = new PollingWorker('screening', () => runner.runNext(), pollMs, logger);
  const chasing = new ChaseScheduler(db, holidays, parts.chasePolicy ?? { afterWorkingDays: config.chaseAfterWorkingDays }, logger, workSignal);
  // Personal data of requests closed longer than RETENTION_DAYS is purged, and screening jobs and dialog state untouched
  // that long are deleted; unset keeps everything.
  const retention = new PollingWorker(
    'retention',
    async () => {
      if (config.retentionDays === undefined) return false;
      const purged = await purgeClosedRequests(signalledDb, config.retentionDays);
      if (purged > 0) logger.info('retention.purged', { requests: purged });
      const stale = await purgeStaleWork(db, config.retentionDays);
      if (stale.screeningJobs + stale.dialogStates > 0) logger.info('retention.stale_work_deleted', stale);
      return false;
    },
    RETENTION_CHECK_MS,
    logger,
  );
  const rechecks = new RequestRechecks(
    db,
    screening,
    dataSources.directory,
    {
      nasOrganisations: new Set(dataSources.policy.nasOrganisations?.odsCodes ?? []),
      transferCheckMinutes: config.transferCheckMinutes,
      transferChaseWorkingDays: config.transferChaseWorkingDays,
      holidays,
    },
    workSignal,
    logger,
  );
  const checks = new PollingWorker('checks', () => rechecks.runDue(), pollMs, logger);
  // Open requests owe a daily re-check and decided ones a transfer check: the missing ones are added now and then.
  const checkSweep = new PollingWorker(
    'check-sweep',
    async () => {
      await rechecks.sweep();
      return false;
    },
    CHASE_CHECK_MS,
    logger,
  );
  const reminders = new PollingWorker(
    'chasing',
    async () => {
      await chasing.flagOverdue();
      return false;
    },
    CHASE_CHECK_MS,
    logger,
  );
  // A finished screening owes the requester a message: deliver it without waiting for the next poll.
  const screenAndDeliver = () => {
    screenings.wake();
    deliveries.wake();
  };

  const access = new AccessControl(dataSources.directory, dataSources.organisations, config);
  const fileExports: FileExportDependencies = { requests, access, references, messenger, logger, allowInsecureUpload: config.environment !== 'production' };
  const bot = new NasTransferBot({
    dialogState: new DialogStateStore(new SqlStorage(db), TRANSFER_FORM_VERSION),
    transferDialog: new TransferDialog(
      new ScreeningRequests(jobs, screenAndDeliver),
      requests,
      config.maxAccountsPerRequest,
      config.environment !== 'production',
      {
        aliases: dataSources.policy.declaredSpecialismAliases,
        sectorNames: dataSources.policy.sectorNames,
      },
      (context, request) => dutiesTurns.offerAfterSubmission(context, request),
    ),
    resubmit: (turn) => startResubmission(turn, requests, access),
    knownOpsMember: (userId) => access.knownOpsMember(userId),
    opsMemberWithin: (userId, ms) => access.opsMemberWithin(userId, ms),
    commands: new CommandRegistry([
      ...requesterCommands(requests, access),
      ...opsCommands(requests, access, () => references.opsChannelProblem()),
      sourcesCommand(() => dataSources.sources(), access),
      auditCommand(requests, access),
      exportCommand(fileExports),
      dutiesTurns.command(),
    ]),
    fileExports,
    cardActions: new CardActionDispatcher({
      requests,
      access,
      renderCard: renderOpsRequestCard,
      opsMembers,
      logger,
    }),
    duties: dutiesTurns,
    logger,
  });
  const availability = {
    userChatKnown: (userId: string, woken: number) => {
      // A new chat (Teams' install activity comes before the first message): the requester look-up starts now, off the turn.
      access.warmRequester(userId);
      if (woken > 0) deliveries.wake();
    },
    opsChannelKnown: async () => {
      await outbox.nudgeOpsChannel();
      deliveries.wake();
    },
  };
  const middleware: Middleware[] = [
    new TenantGate(config.allowedTenantId, logger),
    // A turn's replies count against Teams' limits too; counted after they went, never held.
    new TurnSendsCounted(turnSends, logger),
    new InputGuard(),
    new InvokeGuard(),
    new ReferenceCapture(references, config.opsChannelId, availability, logger),
  ];

  return {
    bot,
    middleware,
    requests,
    audit,
    outbox,
    jobs,
    references,
    deliveries,
    screenings,
    chasing,
    rechecks,
    checks,
    access,
    holidays,
    startWorkers() {
      // A new register copy, one held back as broken, or one that cannot be used: NAS Operations are told in the channel with the counts (owed, like every message).
      const tellOps = (event: RegisterEvent) => {
        const message = describeRegisterEvent(event);
        if (message === undefined) return;
        const { register, file } = event;
        const problem = {
          register,
          file,
          message,
          keptPrevious: event.kind === 'loaded' || event.keptPrevious,
          ...(event.kind === 'loaded' ? { loaded: true as const } : {}),
        };
        signalledOutbox
          .enqueue(owed.sourceProblem(problem, new Date()))
          .catch((error: unknown) => logger.warn('register.problem_not_owed', describeErrorForLog(error)));
      };
      unwatchRegisters.push(dataSources.dspt.onChange(tellOps, { replay: true }), dataSources.nasSites.onChange(tellOps, { replay: true }));
      deliveries.start();
      screenings.start();
      reminders.start();
      retention.start();
      checks.start();
      checkSweep.start();
    },
    async stopWorkers() {
      for (const unwatch of unwatchRegisters.splice(0)) unwatch();
      outboxWorker.stop();
      await Promise.all([deliveries.stop(), screenings.stop(), reminders.stop(), retention.stop(), checks.stop(), checkSweep.stop()]);
      await turnSends.stop();
    },
    async settle() {
      // The directory checks are left to tests that mean them (checks.drain()): they read the directory again.
      await screenings.drain();
      await deliveries.drain();
    },
  };
}

/** The requester's mail sign-in through the bot's OAuth connection, when one is configured. */
function mailSignInFor(config: AppConfig, conversationReferences: ConversationReferences): MailSignIn | undefined {
  if (!config.mail.oauthConnection) return undefined;
  const auth = new ConfigurationBotFrameworkAuthentication({
    ...botFrameworkAuthenticationOptions(config.bot),
    ...(config.mail.tokenServiceUrl ? { OAuthUrl: config.mail.tokenServiceUrl } : {}),
  });
  return new TokenServiceMailSignIn(TokenServiceMailSignIn.clientFor(auth, config.bot.appId ?? ''), config.mail.oauthConnection, conversationReferences);
}

/** The composition root: it only builds and wires; every part receives its collaborators. */
export async function startApp(config: AppConfig, logger: Logger): Promise<RunningApp> {
  const db = await openDatabase(config.database, logger, { serving: true });
  // ODS calls are paced across instances on the shared ledger (the API asks under 5,000 requests in 5 minutes);
  // the database dates a DSPT export whose name is gone and remembers the register copy in use.
  const dataSources = await openDataSources(config, {
    registerLedger: new RegisterContents(db),
    odsPacer: new SqlOdsBudget(db, config.ods.fhirBaseUrl ?? config.ods.baseUrl ?? ''),
  });
  const adapter = createAdapter(config, logger);
  adapter.onTurnError = createTurnErrorHandler(logger);
  // One set of conversation references: the mail sign-in finds each requester's Teams id in the same one the bot keeps.
  const references = new ConversationReferences(new ConversationReferenceRecords(db));
  const composed = composeBot({
    config,
    db,
    dataSources,
    messenger: new ConnectorMessenger(adapter, config.bot.appId),
    logger,
    mailSignIn: mailSignInFor(config, references),
    references,
    deliveryPolicy: { ...DEFAULT_DELIVERY_POLICY, leaseSeconds: config.outboxLeaseSeconds },
  });
  for (const middleware of composed.middleware) adapter.use(middleware);

  const workspace = await createWorkspace({
    settings: config.workspace,
    pageDir: () => workspacePageDir(config.environment),
    environment: config.environment,
    access: composed.access,
    requests: composed.requests,
    queue: new WorkspaceQueue(new QueueRepository(db), composed.holidays, { overdueAfterWorkingDays: config.chaseAfterWorkingDays }),
    audit: new WorkspaceAudit(composed.audit),
    logger,
  });
  // Before the first turn: a fresh instance's first card of each kind paid the template parser's start-up (cards/warm-up.ts).
  warmCardTemplates();
  const server = await startHttpServer({
    host: config.host,
    port: config.port,
    adapter,
    handleTurn: (context) => composed.bot.run(context),
    readiness: async () => {
      const state = await readiness(db);
      // The ops channel refusing the bot does not stop it serving (cards are held): a notice, not a failed check.
      const opsChannel = state.ready ? await composed.references.opsChannelProblem().catch(() => null) : null;
      return { ...state, notices: opsChannel ? [opsChannel] : [] };
    },
    logger,
    routes: workspace ? (server) => workspace.register(server) : undefined,
  });
  // Node loads its fetch (undici, which Graph's and ODS's clients use) at the first call: 30-40 ms compiling on the event
  // loop, which the first look-ups of a burst of first turns waited behind (issue 23). One request to our own /healthz loads it now.
  await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) })
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
  composed.startWorkers();
  logger.info('bot.started', {
    port: server.port,
    database: db.engine,
    graph: dataSources.graphUrl,
    ods: dataSources.odsUrl,
    policyVersion: dataSources.policy.version,
  });

  return {
    endpoint: server.endpoint,
    workspaceUrl: workspace ? `${server.url}${workspace.path}` : undefined,
    dataSources,
    // In-flight turns finish, then the workers finish what they hold, then the database closes.
    stop: async () => {
      await server.close();
      await composed.stopWorkers();
      await db.close();
    },
  };
}

/**
 * Where the workspace page is: in production beside the bundle (`npm run build` wrote dist/workspace);
 * elsewhere web/ builds it now into a temporary folder. bot/ serves the folder and web/ writes it;
 * neither imports the other.
 */
function workspacePageDir(environment: AppConfig['environment']): Promise<string> {
  const besideBundle = path.join(__dirname, 'workspace');
  // The bundle run outside production (the load bench runs dist/ as production does) serves the page it was built with.
  if (environment === 'production' || existsSync(path.join(besideBundle, 'index.html'))) return Promise.resolve(besideBundle);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require keeps esbuild (a development dependency) out of production start-up (a dynamic import would bypass the TypeScript loader in tests).
  const { workspacePageForDevelopment } = require('./web/workspace/build') as typeof import('./web/workspace/build.js');
  return workspacePageForDevelopment();
}

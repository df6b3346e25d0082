import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DEMO } from '../config';
import { WELCOME_DIRECTORY_MS } from '../bot/access-control';
import { loadSandboxDirectory, startSandboxGraph, type SandboxGraph } from '../dev/sandbox/graph-server';
import { startSandboxOds } from '../dev/sandbox/ods-server';
import { loadSandboxOds } from '../dev/sandbox/ord-server';
import { CardUser, offeredActions, type Card, type OfferedAction, type Trigger } from '../test/support/card-actions';
import { freshPostgresSchema, POSTGRES_URL } from '../test/support/databases';
import { activityText, startFakeConnector, type ConnectorCall, type FakeConnector } from '../test/support/fake-connector';
import { startBotProcess, type BotProcess, freePort } from '../test/support/processes';
import { submitPressed, TeamsClient, type Sent } from '../test/support/teams-client';
import { bareBotTurnCost, percentile } from './turns';

/**
 * `npm run bench` (load): two bot processes on one PostgreSQL; REQUESTERS requesters go through
 * the whole form at once, each with ACCOUNTS_EACH accounts against the sandbox Graph answering
 * after GRAPH_LATENCY_MS, while OPS_MEMBERS members of NAS Operations decide each card as it
 * arrives. Then it checks the counts (nothing lost, nothing done twice) and prints turn and invoke
 * latency, peak RSS per instance and database connections, beside the bare botbuilder bot's turn
 * cost measured in the same run. Loopback only; every wait is bounded and the run has a hard limit.
 *
 * `--quick` runs 10 requesters, for a look on a laptop; `npm run bench` runs the full size.
 * The instances run the production bundle (dist/index.js, built first by infra/build.sh), as
 * production does; `--tsx` runs index.ts through tsx instead (as `npm run bot` does), which
 * transpiles at run time and holds the compiler's work in memory: issue 23's memory target is
 * about the bundle. `--heap-snapshot` writes a heap snapshot of each instance (to a temporary
 * folder it names) once every form is submitted, the busiest moment of the run.
 * Each requester first adds the bot (Teams' install conversationUpdate) and reads its welcome, as a
 * requester new to the bot does; `--without-install` starts at "new transfer", as one who added the
 * bot long ago does (their directory look-up then runs inside that first turn). The FIRST TURN line is each requester's
 * first turn, whichever it is (issue 23's target: p95 under 1 s); "new transfer" has its own line as every step does. `--cpu-profile`
 * writes each instance's CPU profile (node --cpu-prof) to a temporary folder it names.
 * The instances run on this process's Node (the first line names it): `npx node --import tsx bench/load.ts` runs the
 * project's Node 24 (node_modules/.bin), as production does; a bare `node` may be the machine's, another version.
 */
const QUICK = process.argv.includes('--quick');
const BUNDLE = !process.argv.includes('--tsx');
const HEAP_SNAPSHOT = process.argv.includes('--heap-snapshot');
const WITHOUT_INSTALL = process.argv.includes('--without-install');
const CPU_PROFILE = process.argv.includes('--cpu-profile');
const REQUESTERS = QUICK ? 10 : 100;
const ACCOUNTS_EACH = 20;
const OPS_MEMBERS = 5;
const GRAPH_LATENCY_MS = 50;
/** The whole run, start-up to clean-up: past it the run stops, says how far it got and fails. */
const HARD_LIMIT_MS = QUICK ? 150_000 : 330_000;
/** The load itself (first turn to last outcome) is given this long before it is called stuck. */
const LOAD_LIMIT_MS = QUICK ? 90_000 : 240_000;
const SAMPLE_EVERY_MS = 200;

const ALL_TICKED = { usersInformed: 'true', residualDataRemoved: 'true', notMarkedAsLeavers: 'true', resolutionForIneligible: 'true' };
const REQUESTER_ORG = 'ZZ9001';

/**
 * The verdicts each list is built to get (screened for ZZ9001 against the demo ODS and DSPT data):
 * pharmacy and optical sites with a current DSPT are eligible, the dental site's "Approaching
 * Standards" is for review, an account without a mobile is ineligible. 16 eligible, 2 review,
 * 2 ineligible per list: every request has a bulk approval and two decisions by hand.
 */
const ACCOUNT_PLAN: Array<{ site: string; mobile: boolean; jobTitle: string }> = [
  ...Array.from({ length: 14 }, () => ({ site: 'ZZ9101', mobile: true, jobTitle: 'Pharmacist' })),
  ...Array.from({ length: 2 }, () => ({ site: 'ZZ9102', mobile: true, jobTitle: 'Optometrist' })),
  ...Array.from({ length: 2 }, () => ({ site: 'ZZ9103', mobile: true, jobTitle: 'Dental Nurse' })),
  ...Array.from({ length: 2 }, () => ({ site: 'ZZ9101', mobile: false, jobTitle: 'Pharmacy Technician' })),
];

const GIVEN = [
  'Ada',
  'Bram',
  'Cora',
  'Dara',
  'Eli',
  'Fern',
  'Gus',
  'Hana',
  'Ivo',
  'Jude',
  'Kit',
  'Lior',
  'Mina',
  'Nils',
  'Orla',
  'Pia',
  'Rhys',
  'Suri',
  'Teo',
  'Vera',
];
const FAMILY = [
  'Ashby',
  'Brook',
  'Carrow',
  'Dunmore',
  'Ellery',
  'Fenwick',
  'Garside',
  'Holt',
  'Ingram',
  'Jessop',
  'Kettle',
  'Lomax',
  'Marlow',
  'Naylor',
  'Oakes',
  'Pryor',
  'Quill',
  'Rudd',
  'Stannard',
  'Tully',
];

interface Person {
  id: string;
  name: string;
  aadObjectId: string;
}
interface Requester extends Person {
  index: number;
  accounts: string[];
}

const uuid = (kind: number, index: number) => `6e6d7300-0000-4000-${String(9000 + kind)}-${String(index).padStart(12, '0')}`;
const nameOf = (index: number) => ({ given: GIVEN[index % GIVEN.length]!, family: FAMILY[Math.floor(index / GIVEN.length) % FAMILY.length]! });

/**
 * The demo directory plus the run's people: REQUESTERS administrators of ZZ9001 in the requester
 * group, three more NAS Operations members (five with Tom and Lena), and ACCOUNTS_EACH distinct
 * accounts per requester. Fictional: mobiles in 07400 1xxxxx, as the demo directory's.
 */
function loadDirectory(): { directory: Record<string, unknown>; requesters: Requester[]; ops: Person[] } {
  const demo = JSON.parse(readFileSync(path.join(__dirname, '..', 'dev', 'demo-directory.json'), 'utf8')) as {
    users: Array<Record<string, unknown>>;
    groups: Array<{ id: string; displayName: string; members: string[] }>;
  };
  const users = [...demo.users];
  const requesterGroup = demo.groups.find((group) => group.id === DEMO.requesterGroupId)!;
  const opsGroup = demo.groups.find((group) => group.id === DEMO.opsGroupId)!;
  const user = (id: string, upn: string, given: string, family: string, fields: Record<string, unknown>) => ({
    id,
    userPrincipalName: upn,
    mail: upn,
    displayName: `${given} ${family}`,
    givenName: given,
    surname: family,
    accountEnabled: true,
    otherMails: [],
    proxyAddresses: [`SMTP:${upn}`],
    ...fields,
  });
  const requesters: Requester[] = [];
  let serial = 0;
  for (let index = 0; index < REQUESTERS; index++) {
    const { given, family } = nameOf(index);
    const aadObjectId = uuid(1, index);
    users.push(
      user(aadObjectId, `load.admin.${index}@nhsmail.example`, given, family, {
        jobTitle: 'Digital Services Lead',
        onPremisesExtensionAttributes: { extensionAttribute1: REQUESTER_ORG },
      }),
    );
    requesterGroup.members.push(aadObjectId);
    const accounts: string[] = [];
    for (const [slot, plan] of ACCOUNT_PLAN.entries()) {
      const { given: accountGiven, family: accountFamily } = nameOf(serial + 7);
      const upn = `${accountGiven}.${accountFamily}.${index}x${slot}@nhsmail.example`.toLowerCase();
      users.push(
        user(uuid(2, serial), upn, accountGiven, accountFamily, {
          jobTitle: plan.jobTitle,
          department: 'Clinical',
          ...(plan.mobile ? { mobilePhone: `07400 ${100000 + serial}` } : {}),
          onPremisesExtensionAttributes: { extensionAttribute1: REQUESTER_ORG, extensionAttribute2: plan.site },
        }),
      );
      accounts.push(upn);
      serial++;
    }
    requesters.push({ index, id: `29:load.admin.${index}`, name: `${given} ${family}`, aadObjectId, accounts });
  }
  const ops: Person[] = [
    { id: '29:tom.ashdown', name: 'Tom Ashdown', aadObjectId: DEMO.opsUserId },
    { id: '29:lena.marsh', name: 'Lena Marsh', aadObjectId: '6e6d7300-0000-4000-8000-000000000132' },
  ];
  for (let index = 0; ops.length < OPS_MEMBERS; index++) {
    const aadObjectId = uuid(3, index);
    const { given, family } = nameOf(index + 11);
    users.push(
      user(aadObjectId, `load.ops.${index}@nhsmail.example`, given, family, {
        jobTitle: 'NAS Operations Analyst',
        onPremisesExtensionAttributes: { extensionAttribute1: 'NAS' },
      }),
    );
    opsGroup.members.push(aadObjectId);
    ops.push({ id: `29:load.ops.${index}`, name: `${given} ${family}`, aadObjectId });
  }
  return { directory: { ...demo, users }, requesters, ops };
}

/** The sites register with room for the run: the dev sample's allowances would turn all but the first few lists away. */
async function sitesRegister(dir: string): Promise<string> {
  const sample = await readFile(path.join(__dirname, '..', 'dev', 'nas-sites.csv'), 'utf8');
  const roomy = sample
    .trim()
    .split('\n')
    .map((line, index) => (index === 0 ? line : line.replace(/^(ZZ910[123]),([^,]*),\d+,/, `$1,$2,${REQUESTERS * ACCOUNT_PLAN.length},`)))
    .join('\n');
  const file = path.join(dir, 'nas-sites.csv');
  await writeFile(file, `${roomy}\n`);
  return file;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cardIn = (call: ConnectorCall) => call.activity.attachments?.[0]?.content as Card | undefined;

interface Arrival {
  call: ConnectorCall;
  text: string;
}

/**
 * What reached the connector, read once per call and filed by conversation. The connector's own
 * waitFor reads every call (cards included) again for every waiter: with 100 chats waiting at once
 * that work lands on this process, which also plays Graph and the connector, and would be
 * measured as the bot's latency.
 */
class Arrivals {
  private scanned = 0;
  private readonly byConversation = new Map<string, Arrival[]>();
  private readonly waiters = new Set<{ conversationId: string; from: number; matches: (arrival: Arrival) => boolean; resolve: (index: number) => void }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly connector: FakeConnector) {
    this.timer = setInterval(() => this.scan(), 20);
  }

  /** The accepted calls (status 200) in a conversation, with their text, in the order they came. */
  in(conversationId: string): Arrival[] {
    this.scan();
    return this.byConversation.get(conversationId) ?? [];
  }

  count(conversationId: string, fragment: string): number {
    return this.in(conversationId).filter(({ text }) => text.includes(fragment)).length;
  }

  /** The first call in the conversation that says `fragment`, whenever it came. */
  async waitFor(conversationId: string, fragment: string, timeoutMs: number): Promise<ConnectorCall> {
    const index = await this.waitUntil(conversationId, 0, ({ text }) => text.includes(fragment), timeoutMs, `no "${fragment}" came`);
    return this.in(conversationId)[index]!.call;
  }

  /** The position of the first new message (a post, not an update of one, nor typing) in the conversation at or after position `from`. */
  nextMessage(conversationId: string, from: number, timeoutMs: number): Promise<number> {
    return this.waitUntil(conversationId, from, ({ call }) => call.method === 'POST' && call.activity.type !== 'typing', timeoutMs, 'no message came');
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private waitUntil(conversationId: string, from: number, matches: (arrival: Arrival) => boolean, timeoutMs: number, timedOut: string): Promise<number> {
    const done = this.in(conversationId).findIndex((arrival, index) => index >= from && matches(arrival));
    if (done >= 0) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const waiter = {
        conversationId,
        from,
        matches,
        resolve: (index: number) => {
          clearTimeout(timer);
          resolve(index);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${timedOut} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private scan(): void {
    const calls = this.connector.calls;
    for (; this.scanned < calls.length; this.scanned++) {
      const call = calls[this.scanned]!;
      if (call.status !== 200) continue;
      const arrival = { call, text: activityText(call) };
      const filed = this.byConversation.get(call.conversationId) ?? [];
      filed.push(arrival);
      this.byConversation.set(call.conversationId, filed);
      for (const waiter of this.waiters) {
        if (waiter.conversationId === call.conversationId && filed.length - 1 >= waiter.from && waiter.matches(arrival)) {
          this.waiters.delete(waiter);
          waiter.resolve(filed.length - 1);
        }
      }
    }
  }
}
const OPS_CARD = /Transfer request (NTR-\d+)/;

/** Every POST to /api/messages, by kind, with the time it took to answer. */
class Timings {
  readonly turns: number[] = [];
  /** Turn times by step of the form (the text or card step sent), to see which turn waits. */
  readonly byStep = new Map<string, number[]>();
  readonly invokes: number[] = [];
  readonly failures: string[] = [];
  /**
   * Each requester's first turn (issue 23's target: p95 under 1 s): adding the bot, answered with the welcome, or with
   * --without-install their first "new transfer". One a chat, whichever instance took it.
   */
  readonly firstTurns: number[] = [];
}

/** Teams' envelope around a message or an Action.Execute from one of the run's people. */
class LoadClient {
  private readonly client: TeamsClient;
  /** Chats that have had their first turn (Timings.firstTurns). */
  private readonly started = new Set<string>();
  constructor(
    connectorUrl: string,
    private readonly timings: Timings,
  ) {
    this.client = new TeamsClient(connectorUrl);
  }

  async message(endpoint: string, from: Person, chatId: string, content: string | Record<string, unknown>): Promise<Sent> {
    const sent = await this.client.post(endpoint, {
      type: 'message',
      ...(typeof content === 'string' ? { text: content } : { value: content }),
      from,
      conversation: { id: chatId, conversationType: 'personal', tenantId: DEMO.tenantId },
      channelData: { tenant: { id: DEMO.tenantId } },
    });
    this.timings.turns.push(sent.ms);
    this.firstTurn(chatId, sent.ms);
    const step = typeof content === 'string' ? (content.length > 20 ? 'reason' : content) : `card: ${String(content.step)}`;
    this.timings.byStep.set(step, [...(this.timings.byStep.get(step) ?? []), sent.ms]);
    if (sent.status !== 200) this.timings.failures.push(`a turn was answered ${sent.status}`);
    return sent;
  }

  /**
   * What Teams posts when someone adds the bot in their personal scope: a conversationUpdate whose
   * membersAdded holds the bot, in the new personal chat, before the person can type
   * (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events,
   * "Members added": the bot is in membersAdded when it is added, personal scope included). Timed as its own step.
   */
  async installed(endpoint: string, from: Person, chatId: string): Promise<Sent> {
    const sent = await this.client.post(endpoint, {
      type: 'conversationUpdate',
      membersAdded: [{ id: '28:nas-transfer-bot', name: 'NAS Transfer Bot' }],
      from,
      conversation: { id: chatId, conversationType: 'personal', tenantId: DEMO.tenantId },
      channelData: { tenant: { id: DEMO.tenantId } },
    });
    this.timings.turns.push(sent.ms);
    this.firstTurn(chatId, sent.ms);
    this.timings.byStep.set('install', [...(this.timings.byStep.get('install') ?? []), sent.ms]);
    if (sent.status !== 200) this.timings.failures.push(`the install was answered ${sent.status}`);
    return sent;
  }

  private firstTurn(chatId: string, ms: number): void {
    if (this.started.has(chatId)) return;
    this.started.add(chatId);
    this.timings.firstTurns.push(ms);
  }

  async invoke(endpoint: string, from: Person, verb: string, data: Record<string, unknown>, trigger: Trigger): Promise<Sent> {
    const sent = await this.client.post(endpoint, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      from,
      conversation: { id: `${DEMO.opsChannelId};messageid=1`, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true },
      channelData: { tenant: { id: DEMO.tenantId }, channel: { id: DEMO.opsChannelId } },
      value: { action: { type: 'Action.Execute', verb, data }, trigger },
    });
    this.timings.invokes.push(sent.ms);
    const body = sent.body as { statusCode?: number; value?: { message?: string } } | undefined;
    if (sent.status !== 200 || (body?.statusCode !== undefined && body.statusCode !== 200)) {
      this.timings.failures.push(`${verb} was answered ${sent.status}/${body?.statusCode}: ${body?.value?.message ?? ''}`.slice(0, 200));
    }
    return sent;
  }
}

/**
 * The requester's whole form, each turn to the next instance in turn, up to the reference;
 * returns it and the chat. Each turn is answered before the next is sent, as a person reads
 * the bot's answer before typing the next one: the messages it posts in reply must be the
 * ones that step brings, and anything else (a refusal, "try again", a question asked again)
 * ends the journey there, with the bot's words, rather than the next answers going to a form
 * that is not where the requester thinks it is.
 */
async function requesterJourney(
  requester: Requester,
  bots: BotProcess[],
  client: LoadClient,
  arrivals: Arrivals,
  deadline: number,
): Promise<{ chatId: string; reference: string }> {
  const chatId = `a:load-${requester.index}-${randomUUID()}`;
  let turn = requester.index;
  /** How far into the chat the requester has read. */
  let read = 0;
  /** Sends one answer; resolves with the message that says `awaited`, once every fragment named has come, in any order. */
  const answer = async (step: string, content: string | Record<string, unknown>, awaited: string, ...alsoSaid: string[]): Promise<ConnectorCall> => {
    const instance = turn++ % bots.length;
    const sent = await client.message(bots[instance]!.endpoint, requester, chatId, content);
    const by = `instance ${'ab'[instance]}`;
    if (sent.status !== 200) throw new Error(`"${step}" was answered HTTP ${sent.status} by ${by}`);
    const due = new Set([awaited, ...alsoSaid]);
    let found: ConnectorCall | undefined;
    while (due.size > 0) {
      const index = await arrivals.nextMessage(chatId, read, Math.max(1000, deadline - Date.now())).catch((error: unknown) => {
        throw new Error(`"${step}" (to ${by}): ${(error as Error).message} (waiting for "${[...due].join('", "')}")`);
      });
      read = index + 1;
      const { call, text } = arrivals.in(chatId)[index]!;
      const fragment = [...due].find((candidate) => text.includes(candidate));
      if (!fragment) throw new Error(`"${step}" was answered by ${by} ${JSON.stringify(text.trim().slice(0, 160))}, not "${[...due].join('", "')}"`);
      due.delete(fragment);
      if (fragment === awaited) found = call;
    }
    return found!;
  };
  // The requester adds the bot, reads its welcome, then starts the form (WITHOUT_INSTALL: the chat's first activity is "new transfer").
  if (!WITHOUT_INSTALL) {
    const instance = turn++ % bots.length;
    const sent = await client.installed(bots[instance]!.endpoint, requester, chatId);
    if (sent.status !== 200) throw new Error(`the install was answered HTTP ${sent.status} by instance ${'ab'[instance]}`);
    read = (await arrivals.nextMessage(chatId, read, Math.max(1000, deadline - Date.now()))) + 1;
  }
  await answer('new transfer', 'new transfer', 'Are the accounts transferring from this organisation?');
  await answer('yes', 'yes', 'Why are these accounts being transferred to NAS?');
  const accountsCard = cardIn(await answer('reason', 'Our sponsorship of these sites ends in March.', 'Accounts to transfer'));
  // The list is screened off the turn: the turn says so, the results card follows from the outbox.
  const checking = `Checking ${ACCOUNTS_EACH} accounts against the transfer policy`;
  const results = cardIn(
    await answer('accounts', submitPressed(accountsCard, 'Continue', { accounts: requester.accounts.join('\n') }), 'Screening results', checking),
  );
  const confirmations = cardIn(await answer('results', submitPressed(results, /^Continue with \d+ accounts?$/), 'Before you submit'));
  const submitted = await answer('confirmations', submitPressed(confirmations, /^Submit \d+ accounts? to NAS$/, ALL_TICKED), 'Your reference is');
  const reference = /NTR-\d+/.exec(activityText(submitted))![0];
  return { chatId, reference };
}

/**
 * One member of NAS Operations with a card in front of them: approve all eligible, then each
 * account left by hand (approve one, reject the next with a reason), paging on when the rows
 * left are on another page. Presses only what the card shows; each press to the next instance.
 */
async function decide(member: Person, card: Card, bots: BotProcess[], client: LoadClient, turn: number): Promise<number> {
  let presses = 0;
  const user = new CardUser<Sent>(
    member.name,
    (verb, data, trigger) => client.invoke(bots[(turn + presses++) % bots.length]!.endpoint, member, verb, data, trigger),
    (sent) => {
      const body = sent.body as { type?: string; value?: Card } | undefined;
      return sent.status === 200 && body?.type === 'application/vnd.microsoft.card.adaptive' ? body.value : undefined;
    },
  ).sees(card);
  let rejectNext = false;
  for (let step = 0; step < 40; step++) {
    const offered = offeredActions(user.card);
    const has = (test: (action: OfferedAction) => boolean) => offered.find(test);
    const bulk = has((action) => action.verb === 'approveEligible');
    const row = has((action) => action.verb === 'decideAccount' && (action.data.decision === 'rejected') === rejectNext);
    const nextPage = has((action) => action.verb === 'showPage' && action.title === 'Next accounts');
    if (bulk) await user.press({ verb: 'approveEligible' });
    else if (row) {
      await user.press(
        { verb: 'decideAccount', title: row.title, row: row.row },
        rejectNext ? { decisionReason: 'Not eligible for NAS at this site (load run).' } : {},
      );
      rejectNext = !rejectNext;
    } else if (nextPage) await user.press({ verb: 'showPage', title: 'Next accounts' });
    else return presses;
  }
  throw new Error(`${member.name} was still deciding a card after 40 presses`);
}

/** pg_stat_activity for the run's connections (application_name nas-load-*), every SAMPLE_EVERY_MS. */
function sampleConnections(url: string) {
  const stats = {
    samples: 0,
    maxTotal: 0,
    maxActive: 0,
    maxLockWaits: 0,
    samplesWithLockWaits: 0,
    maxByInstance: new Map<string, number>(),
    /** Statement (its first words) to how many samples found a session waiting on a lock with it: where the contention is. */
    waitingStatements: new Map<string, number>(),
    /** Statement to how many samples found it running: where the database time goes. */
    activeStatements: new Map<string, number>(),
  };
  let running = true;
  const client = new pg.Client({ connectionString: url, application_name: 'nas-load-sampler' });
  const loop = (async () => {
    await client.connect();
    while (running) {
      const rows = (
        await client.query<{ application_name: string; connections: number; active: number; lock_waits: number }>(
          `SELECT application_name, count(*)::int AS connections, count(*) FILTER (WHERE state <> 'idle')::int AS active,
                  count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS lock_waits
             FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'nas-load-bot-%' GROUP BY application_name`,
        )
      ).rows;
      stats.samples++;
      const sum = (key: 'connections' | 'active' | 'lock_waits') => rows.reduce((total, row) => total + row[key], 0);
      stats.maxTotal = Math.max(stats.maxTotal, sum('connections'));
      stats.maxActive = Math.max(stats.maxActive, sum('active'));
      stats.maxLockWaits = Math.max(stats.maxLockWaits, sum('lock_waits'));
      if (sum('lock_waits') > 0) stats.samplesWithLockWaits++;
      for (const row of rows) stats.maxByInstance.set(row.application_name, Math.max(stats.maxByInstance.get(row.application_name) ?? 0, row.connections));
      const busy = (
        await client.query<{ statement: string; waiting: boolean }>(
          `SELECT regexp_replace(left(query, 90), '\\s+', ' ', 'g') AS statement, wait_event_type = 'Lock' AS waiting
             FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'nas-load-bot-%' AND state = 'active'`,
        )
      ).rows;
      for (const { statement, waiting } of busy) {
        const tally = waiting ? stats.waitingStatements : stats.activeStatements;
        tally.set(statement, (tally.get(statement) ?? 0) + 1);
      }
      await pause(SAMPLE_EVERY_MS);
    }
    await client.end();
  })();
  return {
    stats,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** CPU time (user + system) a process has used, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the pid and command are cut off; in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The Node options the production image runs the bundle with (the Dockerfile's ENV NODE_OPTIONS): the bench runs what production runs. */
function productionNodeOptions(): string {
  const dockerfile = readFileSync(path.join(__dirname, '..', 'Dockerfile'), 'utf8');
  const options = /^\s*NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('The Dockerfile sets no NODE_OPTIONS for the bench to run the bundle with.');
  return options;
}

/** The resident set now (VmRSS) of a process, in MiB. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** The peak resident set (VmHWM) of a process, in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return kib / 1024;
}

const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(58)} ${value}\n`);
const latency = (values: number[]) =>
  values.length
    ? `p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(1).padStart(7)} ms   (n=${values.length})`
    : '(none)';

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>(sql)).rows[0]?.count);
  } finally {
    await client.end();
  }
}

async function text(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return String(Object.values((await client.query<Record<string, unknown>>(sql)).rows[0] ?? {})[0] ?? '');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'nas-load-'));
  const bots: BotProcess[] = [];
  // The hard limit: whatever is stuck, the children die and the run fails, saying so.
  const hardStop = setTimeout(() => {
    process.stderr.write(`The load run passed its hard limit of ${HARD_LIMIT_MS / 1000} s and was stopped.\n`);
    for (const bot of bots) {
      try {
        process.kill(bot.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(2);
  }, HARD_LIMIT_MS);
  hardStop.unref();

  process.stdout.write(
    `Load: ${REQUESTERS} requesters x ${ACCOUNTS_EACH} accounts, ${OPS_MEMBERS} NAS Operations members, 2 bot instances on Node ${process.version} (${BUNDLE ? `the production bundle, dist/index.js, NODE_OPTIONS="${productionNodeOptions()}" as in the Dockerfile` : 'index.ts through tsx'}) on one PostgreSQL, sandbox Graph answering after ${GRAPH_LATENCY_MS} ms${QUICK ? ' (--quick)' : ''}\n`,
  );
  if (BUNDLE) execFileSync('bash', [path.join(__dirname, '..', 'infra', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The baseline first, on a quiet machine: the bare botbuilder bot, as bench/turns.ts measures it.
  const bare = await bareBotTurnCost();

  const { directory, requesters, ops } = loadDirectory();
  const directoryFile = path.join(dir, 'directory.json');
  await writeFile(directoryFile, JSON.stringify(directory));
  const graph: SandboxGraph = await startSandboxGraph(await loadSandboxDirectory(directoryFile));
  graph.respondAfter(GRAPH_LATENCY_MS);
  // One sandbox ODS for both instances, in this process, as production reaches one ODS API: the bundle
  // cannot start one (dev/ is not in it), and one started inside each instance would count in its memory.
  const ods = await startSandboxOds(await loadSandboxOds(path.join(__dirname, '..', 'dev', 'demo-ods.json')));
  const snapshots = HEAP_SNAPSHOT ? await mkdtemp(path.join(tmpdir(), 'nas-load-heap-')) : undefined;
  const profiles = CPU_PROFILE ? await mkdtemp(path.join(tmpdir(), 'nas-load-cpu-')) : undefined;
  const sitesFile = await sitesRegister(dir);
  const connector = await startFakeConnector();
  const timings = new Timings();
  const client = new LoadClient(connector.url, timings);
  const schema = await freshPostgresSchema();
  const schemaName = /search_path=(\w+)/.exec(decodeURIComponent(schema.url))![1]!;
  let sampler: ReturnType<typeof sampleConnections> | undefined;
  try {
    const instanceUrl = (name: string) => {
      const url = new URL(schema.url);
      url.searchParams.set('application_name', `nas-load-bot-${name}`);
      return url.toString();
    };
    const env = (name: string, port: number) => ({
      PORT: String(port),
      DATABASE_URL: instanceUrl(name),
      GRAPH_BASE_URL: graph.url,
      ODS_FHIR_BASE_URL: ods.fhirUrl,
      NAS_SITES_CSV: sitesFile,
      // The bundle resolves its default registers beside itself (dist/), where the development sample is not.
      DSPT_REGISTER_CSV: path.join(__dirname, '..', 'dev', 'dspt-register.csv'),
      // LOAD_INSTANCE_ENV="NAME=value; NAME=value": more environment for the instances only (a Node or allocator setting to compare).
      ...Object.fromEntries(
        (process.env.LOAD_INSTANCE_ENV ?? '')
          .split(';')
          .map((pair) => pair.trim())
          .filter(Boolean)
          .map((pair) => [pair.split('=')[0]!, pair.slice(pair.indexOf('=') + 1)]),
      ),
      ...(BUNDLE || snapshots || profiles
        ? {
            NODE_OPTIONS: [
              process.env.NODE_OPTIONS ?? '',
              BUNDLE ? productionNodeOptions() : '',
              snapshots ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` : '',
              profiles ? `--cpu-prof --cpu-prof-dir=${profiles}` : '',
            ]
              .join(' ')
              .trim(),
          }
        : {}),
      LOG_LEVEL: process.env.LOAD_LOG_LEVEL ?? 'warn',
      APP_ENV: 'development',
      MicrosoftAppId: '',
    });
    // One first, so the migrations run once; then the second on a migrated database.
    // A loaded machine can take the bot past startBotProcess's 30 s to its first health check: one more try each.
    const start = async (name: string) =>
      startBotProcess(env(name, await freePort()), { bundle: BUNDLE }).catch(async () => startBotProcess(env(name, await freePort()), { bundle: BUNDLE }));
    bots.push(await start('a'));
    bots.push(await start('b'));
    const installed = await new TeamsClient(connector.url).opsChannelInstalled(bots[0]!.endpoint);
    if (installed.status !== 200) throw new Error(`installing in the ops channel was answered ${installed.status}`);
    connector.calls.splice(0);
    const arrivals = new Arrivals(connector);
    const benchCpuBefore = process.cpuUsage();

    sampler = sampleConnections(schema.url);
    const cpuBefore = await Promise.all(bots.map((bot) => cpuSeconds(bot.pid)));
    const loadStarted = performance.now();
    const deadline = Date.now() + LOAD_LIMIT_MS;

    // NAS Operations: each posted card goes to the next free member, as it arrives.
    const queue: Array<{ reference: string; card: Card }> = [];
    const seen = new Set<string>();
    let scanned = 0;
    let journeysDone = false;
    const decided: string[] = [];
    const opsErrors: Array<{ who: string; what: string }> = [];
    const submitted: Array<{ chatId: string; reference: string }> = [];
    const journeyErrors: Array<{ who: string; what: string }> = [];
    const watch = (async () => {
      while (!journeysDone || scanned < arrivals.in(DEMO.opsChannelId).length) {
        const opsCalls = arrivals.in(DEMO.opsChannelId);
        for (; scanned < opsCalls.length; scanned++) {
          const { call, text } = opsCalls[scanned]!;
          const reference = OPS_CARD.exec(text)?.[1];
          if (call.method !== 'POST' || !reference || seen.has(reference)) continue;
          seen.add(reference);
          queue.push({ reference, card: cardIn(call)! });
        }
        await pause(50);
      }
    })();
    let pressCount = 0;
    const members = ops.map(async (member, memberIndex) => {
      let turn = memberIndex;
      while (Date.now() < deadline) {
        const next = queue.shift();
        if (!next) {
          if (journeysDone && seen.size >= submitted.length && queue.length === 0) return;
          await pause(50);
          continue;
        }
        try {
          const presses = await decide(member, next.card, bots, client, turn++);
          pressCount += presses;
          decided.push(next.reference);
        } catch (error) {
          opsErrors.push({ who: next.reference, what: (error as Error).message.split('\n')[0]! });
        }
      }
    });

    await Promise.all(
      requesters.map((requester) =>
        requesterJourney(requester, bots, client, arrivals, deadline).then(
          (done) => submitted.push(done),
          (error: unknown) => journeyErrors.push({ who: `requester ${requester.index}`, what: (error as Error).message.split('\n')[0]! }),
        ),
      ),
    );
    const formsDoneMs = performance.now() - loadStarted;
    const rssAtForms = await Promise.all(bots.map((bot) => rssMiB(bot.pid)));
    if (snapshots) for (const bot of bots) process.kill(bot.pid, 'SIGUSR2');
    // Every reference given must reach the channel before the members can stop.
    await Promise.all(
      submitted.map(({ reference }) =>
        arrivals.waitFor(DEMO.opsChannelId, `Transfer request ${reference}`, Math.max(1000, deadline - Date.now())).catch(() => undefined),
      ),
    );
    journeysDone = true;
    await watch;
    await Promise.all(members);
    const decisionsDoneMs = performance.now() - loadStarted;
    const outcomes = await Promise.all(
      submitted.map(({ chatId, reference }) =>
        arrivals.waitFor(chatId, `Transfer request ${reference} has been decided`, Math.max(1000, deadline - Date.now())).then(
          () => true,
          () => false,
        ),
      ),
    );
    const outcomesDoneMs = performance.now() - loadStarted;
    // Late duplicates (an outbox row delivered twice) would come within a few worker ticks.
    await pause(3000);
    await sampler.stop();
    arrivals.stop();
    const rss = await Promise.all(bots.map((bot) => peakRssMiB(bot.pid)));
    const cpu = (await Promise.all(bots.map((bot) => cpuSeconds(bot.pid)))).map((after, index) => after - cpuBefore[index]!);

    // The counts: nothing lost, nothing done twice.
    const url = schema.url;
    const stored = await count(url, 'SELECT count(*) FROM transfer_requests');
    const references = new Set(submitted.map(({ reference }) => reference));
    // The card itself (a post with the card attached), not a message in its thread.
    const opsPosts = connector.calls.filter(
      (call) =>
        call.method === 'POST' && call.conversationId === DEMO.opsChannelId && call.status === 200 && OPS_CARD.test(JSON.stringify(cardIn(call)?.body ?? '')),
    );
    const postsPerReference = new Map<string, number>();
    for (const call of opsPosts) {
      const reference = OPS_CARD.exec(activityText(call))![1]!;
      postsPerReference.set(reference, (postsPerReference.get(reference) ?? 0) + 1);
    }
    const postedOnce = [...references].filter((reference) => postsPerReference.get(reference) === 1).length;
    const postedTwice = [...postsPerReference.values()].filter((posts) => posts > 1).length;
    const forDecision = await count(url, "SELECT count(*) FROM request_accounts WHERE verdict <> 'ineligible'");
    const undecided = await count(url, "SELECT count(*) FROM request_accounts WHERE verdict <> 'ineligible' AND decision IS NULL");
    const decisionAudits = await count(
      url,
      "SELECT count(*) FROM audit_events WHERE account_id IS NOT NULL AND (action LIKE 'account.%' OR action = 'request.approved_eligible')",
    );
    const decidedTwice = await count(
      url,
      "SELECT count(*) FROM (SELECT account_id FROM audit_events WHERE account_id IS NOT NULL AND (action LIKE 'account.%' OR action = 'request.approved_eligible') GROUP BY account_id HAVING count(*) > 1) twice",
    );
    const outcomeCounts = submitted.map(({ chatId, reference }) => arrivals.count(chatId, `Transfer request ${reference} has been decided`));
    const resultsCounts = submitted.map(({ chatId }) => arrivals.count(chatId, 'Screening results'));
    const tableStats = await tableScans(schemaName);

    process.stdout.write(`\nCounts\n`);
    const check = (label: string, ok: boolean, value: string) => line(label, `${value}${ok ? '' : '   <-- WRONG'}`);
    check('requesters who got a reference', submitted.length === REQUESTERS, `${submitted.length} of ${REQUESTERS}`);
    line(
      'accounts screened, by verdict',
      await text(
        url,
        "SELECT string_agg(n || ' ' || verdict, ', ' ORDER BY verdict) FROM (SELECT verdict, count(*) AS n FROM request_accounts GROUP BY verdict) v",
      ),
    );
    check(
      'requests stored = submitted',
      stored === references.size && references.size === submitted.length,
      `${stored} stored, ${references.size} references given`,
    );
    check(
      'ops cards posted once each',
      postedOnce === references.size && postedTwice === 0,
      `${postedOnce} once, ${postedTwice} more than once, ${references.size - postsPerReference.size} never`,
    );
    check(
      'one decision per account',
      undecided === 0 && decidedTwice === 0 && decisionAudits === forDecision,
      `${forDecision} accounts for decision, ${decisionAudits} decisions audited, ${undecided} undecided, ${decidedTwice} decided twice`,
    );
    check(
      'outcomes delivered once each',
      outcomeCounts.every((n) => n === 1) && outcomes.every(Boolean),
      `${outcomeCounts.filter((n) => n === 1).length} once, ${outcomeCounts.filter((n) => n > 1).length} more than once, ${outcomeCounts.filter((n) => n === 0).length} never`,
    );
    check(
      'screening results posted once each',
      resultsCounts.every((n) => n === 1),
      `${resultsCounts.filter((n) => n === 1).length} once, ${resultsCounts.filter((n) => n > 1).length} more than once`,
    );
    check(
      'turns and invokes not answered 200',
      timings.failures.length === 0,
      `${timings.failures.length}${timings.failures.length ? ` (first: ${timings.failures[0]})` : ''}`,
    );

    process.stdout.write(`\nTimes (from the first turn)\n`);
    line('every form submitted', `${(formsDoneMs / 1000).toFixed(1)} s`);
    line('every card decided', `${(decisionsDoneMs / 1000).toFixed(1)} s (${pressCount} presses)`);
    line('every outcome delivered', `${(outcomesDoneMs / 1000).toFixed(1)} s`);

    process.stdout.write(`\nLatency\n`);
    line('baseline: bare botbuilder bot turn ("help", one at a time)', latency(bare));
    line(`FIRST TURN: ${WITHOUT_INSTALL ? '"new transfer"' : 'adding the bot, its welcome'} (target p95 < 1 s)`, latency(timings.firstTurns));
    if (!WITHOUT_INSTALL) {
      // The welcome (each chat's first message) waits for the directory at most WELCOME_DIRECTORY_MS; one sent without its
      // answer says "In NAS Operations? …".
      const unplaced = submitted.filter(({ chatId }) => arrivals.in(chatId)[0]?.text.includes('In NAS Operations? Type')).length;
      line('  welcomes sent before the directory answered', `${unplaced} of ${submitted.length} (waited ${WELCOME_DIRECTORY_MS} ms for it)`);
    }
    line(`turn: POST /api/messages, ${REQUESTERS} requesters at once`, latency(timings.turns));
    for (const [step, times] of timings.byStep) line(`  turn "${step}"`, latency(times));
    line('invoke: Action.Execute on the ops card', latency(timings.invokes));
    line('turn p50: ours under load / bare bot', `${(percentile(timings.turns, 50) / percentile(bare, 50)).toFixed(1)}x`);

    process.stdout.write(`\nResources\n`);
    bots.forEach((_bot, index) =>
      line(`peak RSS (VmHWM), instance ${'ab'[index]}`, `${rss[index]!.toFixed(0)} MiB (${rssAtForms[index]!.toFixed(0)} MiB when every form was in)`),
    );
    if (snapshots) line('heap snapshots (taken when every form was in)', snapshots);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    line('CPU used in the load, this process (clients, connector, Graph)', `${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s`);
    bots.forEach((_bot, index) =>
      line(`CPU used in the load, instance ${'ab'[index]}`, `${cpu[index]!.toFixed(1)} s (${((cpu[index]! * 1000) / outcomesDoneMs).toFixed(2)} of a core)`),
    );
    line(
      'database connections (max sampled, both instances)',
      `${sampler.stats.maxTotal} (busy at once: ${sampler.stats.maxActive}; per instance: ${[...sampler.stats.maxByInstance.entries()].map(([name, max]) => `${name.replace('nas-load-bot-', '')} ${max}`).join(', ')}; ${sampler.stats.samples} samples)`,
    );
    line(
      'sessions waiting on a lock',
      `max ${sampler.stats.maxLockWaits} at once, in ${sampler.stats.samplesWithLockWaits} of ${sampler.stats.samples} samples`,
    );
    line('sandbox Graph requests', `${graph.requests.length}`);
    const top = (tally: Map<string, number>) => [...tally.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    if (sampler.stats.waitingStatements.size) {
      process.stdout.write(`\nStatements found waiting on a lock (samples)\n`);
      for (const [statement, samples] of top(sampler.stats.waitingStatements)) line(String(samples), statement);
    }
    process.stdout.write(`\nStatements found running (samples)\n`);
    for (const [statement, samples] of top(sampler.stats.activeStatements)) line(String(samples), statement);
    process.stdout.write(`\nTable reads and writes in the run (pg_stat_user_tables), busiest first\n`);
    for (const row of tableStats.slice(0, 8))
      line(row.relname, `${row.scans} scans (${row.seq_scan} sequential), ${row.tup_read} rows read, ${row.writes} rows written`);

    const problems = [...journeyErrors, ...opsErrors];
    if (problems.length) {
      // The same failure for many requesters is one line, with who it happened to.
      const byWhat = new Map<string, string[]>();
      for (const { who, what } of problems) byWhat.set(what, [...(byWhat.get(what) ?? []), who]);
      process.stdout.write(`\nWhat went wrong (${problems.length}):\n`);
      for (const [what, who] of [...byWhat.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, 10))
        process.stdout.write(`  ${who.length} x ${what}\n      (${who.slice(0, 12).join(', ')}${who.length > 12 ? ', …' : ''})\n`);
    }
    const allRight =
      submitted.length === REQUESTERS &&
      stored === references.size &&
      postedOnce === references.size &&
      postedTwice === 0 &&
      undecided === 0 &&
      decidedTwice === 0 &&
      outcomeCounts.every((n) => n === 1) &&
      problems.length === 0;
    process.stdout.write(`\nLoad run ${allRight ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    if (!allRight || process.argv.includes('--keep-logs')) {
      if (!allRight) process.exitCode = 1;
      // The whole logs outlive the run's temporary folder: a failure is read from them afterwards.
      const logs = await mkdtemp(path.join(tmpdir(), 'nas-load-logs-'));
      for (const [index, bot] of bots.entries()) {
        await writeFile(path.join(logs, `instance-${'ab'[index]}.log`), bot.output());
        if (!allRight) process.stderr.write(`instance ${'ab'[index]}'s log, last 15 lines:\n${bot.output().split('\n').slice(-15).join('\n')}\n`);
      }
      process.stderr.write(`the instances' whole logs are in ${logs}\n`);
    }
  } finally {
    await sampler?.stop().catch(() => undefined);
    // A CPU profile is written as the process exits: given the time it takes, not killed after stop()'s 5 s.
    if (profiles) {
      await Promise.all(bots.map((bot) => bot.terminate()));
      process.stdout.write(`(CPU profiles of the instances: ${profiles})\n`);
    }
    await Promise.all(bots.map((bot) => bot.stop()));
    await connector.close();
    await graph.close();
    await ods.close();
    // --keep-database: the run's schema stays, for EXPLAIN and a look at the rows.
    if (process.argv.includes('--keep-database')) process.stdout.write(`(the run's database is kept: ${schema.url})\n`);
    else await schema.drop();
    await rm(dir, { recursive: true, force: true });
    clearTimeout(hardStop);
  }
}

/** Scans and row traffic per table of the run's schema: the shape of the queries (an N+1 shows as scans per request). */
async function tableScans(schemaName: string) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    // The statistics collector flushes within a second of a transaction's end.
    await pause(1200);
    const rows = (
      await client.query<{
        relname: string;
        seq_scan: string;
        idx_scan: string | null;
        seq_tup_read: string;
        idx_tup_fetch: string | null;
        n_tup_ins: string;
        n_tup_upd: string;
        n_tup_del: string;
      }>('SELECT relname, seq_scan, idx_scan, seq_tup_read, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables WHERE schemaname = $1', [
        schemaName,
      ])
    ).rows;
    return rows
      .map((row) => ({
        relname: row.relname,
        seq_scan: Number(row.seq_scan),
        scans: Number(row.seq_scan) + Number(row.idx_scan ?? 0),
        tup_read: Number(row.seq_tup_read) + Number(row.idx_tup_fetch ?? 0),
        writes: Number(row.n_tup_ins) + Number(row.n_tup_upd) + Number(row.n_tup_del),
      }))
      .sort((a, b) => b.scans - a.scans);
  } finally {
    await client.end();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

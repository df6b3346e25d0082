import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/nas-transfer';
import { ConversationReferences } from '../../bot/state/conversation-references';
import { ConversationReferenceRecords } from '../../services/store/conversation-references';
import { SqlStorage } from '../../services/store/bot-state';
import type { SqlDatabase } from '../../services/store/database';
import { openPostgres } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { OpsMembersSeen } from '../../services/store/ops-members';
import { ScreeningJobs } from '../../services/store/screening-jobs';
import { findSubjectData, parseSubject, SUBJECT_ACCESS_COVERAGE, type SubjectAccessReport } from '../../services/store/subject-access';
import { WITHHELD } from '../../services/store/subject-view';
import { describeOnEachDatabase, freshPostgresSchema, requirePostgres } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const PRIYA = { id: '6e6d7300-0000-4000-8000-000000000128', name: 'Priya Okafor' };
const TOM = { id: '6e6d7300-0000-4000-8000-000000000201', name: 'Tom Ashdown' };
const AMARA = 'amara.mensah@nhsmail.example';
/** Contains AMARA as a substring: a search for Amara must not return it. */
const NEAR_MISS = 'tamara.mensah@nhsmail.example';
const OTHER = 'wren.hadley@nhsmail.example';

/** Column types that can hold text about a person. */
const TEXT_TYPES = ['text', 'jsonb', 'json', 'character varying', 'character', 'xml', 'ARRAY', 'USER-DEFINED'];

async function schemaColumns(db: SqlDatabase): Promise<{ tables: string[]; textColumns: Array<{ table: string; column: string; type: string }> }> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const columns = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND data_type = ANY($1::text[]) ORDER BY table_name, ordinal_position`,
    [TEXT_TYPES],
  );
  return {
    tables: tables.map((row) => row.table_name),
    textColumns: columns.map((row) => ({ table: row.table_name, column: row.column_name, type: row.data_type })),
  };
}

/**
 * A store in which Amara's address, and Priya's and Tom's object ids, are in every place the
 * product puts them: a request with her account beside others, decisions with reasons naming
 * her, a question and answer about her, owed messages, a screening job, a half-filled
 * conversation, conversation references and the ops members seen.
 */
async function seedStore(db: SqlDatabase): Promise<{ reference: string }> {
  const requests = transferRequests(db);
  const { request } = await requests.submit({
    ...requestDetails(PRIYA),
    reason: `Sponsorship ends; ${AMARA} moves to the pharmacy`,
    draftId: randomUUID(),
    accounts: [
      {
        ...screenedAccount(1, AMARA, 'eligible'),
        specialism: 'pharmacy',
        evidence: { directoryFound: true, displayName: 'Amara Mensah', jobTitle: 'Pharmacist', siteOds: 'ZZ9101' },
      },
      screenedAccount(2, NEAR_MISS, 'review'),
      screenedAccount(3, OTHER, 'review'),
    ],
  });
  const [amara, nearMiss, other] = request.accounts;
  await requests.claim(request.id, TOM);
  const questionId = await requests.ask(request.id, TOM, `Is ${AMARA} still at ZZ9101?`);
  assert.ok(questionId);
  await requests.answer(request.id, PRIYA, 'Yes, until March.');
  await requests.decideAccount(request.id, amara!.id, 'approved', TOM);
  await requests.decideAccount(request.id, nearMiss!.id, 'rejected', TOM, 'A locum, not at this site');
  await requests.decideAccount(request.id, other!.id, 'rejected', TOM, `The same person as ${AMARA.toUpperCase()}`);
  await requests.markTransferred(request.id, TOM, amara!.id, `Moved ${AMARA} to NAS`);

  await new ScreeningJobs(db).create({
    id: randomUUID(),
    ownerId: PRIYA.id,
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor',
    entries: [{ position: 1, email: AMARA }],
  });
  await new ScreeningJobs(db).create({
    id: randomUUID(),
    ownerId: 'someone-else-oid',
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor',
    entries: [{ position: 1, email: OTHER }],
  });
  await new SqlStorage(db).write({ 'msteams/conversations/a:priya-chat': { eTag: '*', dialogState: { accountsText: `${AMARA}, ZZ9101\n${OTHER}` } } });
  await new SqlStorage(db).write({ 'msteams/conversations/a:other-chat': { eTag: '*', dialogState: { accountsText: NEAR_MISS } } });
  await new ConversationReferences(new ConversationReferenceRecords(db)).save(ConversationReferences.forUser(PRIYA.id), {
    user: { id: '29:priya-mri', name: PRIYA.name, aadObjectId: PRIYA.id },
    conversation: { id: 'a:priya-chat', isGroup: false, conversationType: 'personal' },
  } as never);
  await new OpsMembersSeen(db).record('29:tom-mri', TOM.id);
  return { reference: request.reference };
}

/** Every row of every table in which `term` appears anywhere in a text or JSON column, found without the subject-access code. */
async function rowsMentioning(db: SqlDatabase, term: string): Promise<Map<string, Set<string>>> {
  const { textColumns } = await schemaColumns(db);
  const found = new Map<string, Set<string>>();
  for (const table of new Set(textColumns.map((column) => column.table))) {
    const columns = textColumns.filter((column) => column.table === table).map((column) => `strpos(lower("${column.column}"::text), $1) > 0`);
    const rows = await db.query<Record<string, unknown>>(`SELECT * FROM "${table}" WHERE ${columns.join(' OR ')}`, [term.toLowerCase()]);
    found.set(table, new Set(rows.map((row) => JSON.stringify(row))));
  }
  return found;
}

/** A row's identity: its first column (the query orders by it), since the report's rows have other people withheld. */
function rowKey(row: Record<string, unknown>): string {
  return String(Object.values(row)[0]);
}

function reportRows(report: SubjectAccessReport, table: string): Set<string> {
  return new Set((report.tables[table] ?? []).map(rowKey));
}

function keysOf(rows: Set<string>): string[] {
  return [...rows].map((row) => rowKey(JSON.parse(row) as Record<string, unknown>));
}

describe('subject access search', function () {
  // PGlite starts a WebAssembly PostgreSQL and migrates it for each test: slow on a busy machine.
  this.timeout(60_000);

  describeOnEachDatabase('subject access', (db) => {
    it('every table and every text or JSON column after migrations is searched, returned with its row, or declared as holding no personal data', async () => {
      const { tables, textColumns } = await schemaColumns(db());
      assert.ok(tables.includes('request_accounts') && tables.includes('audit_events'), 'the migrated schema is the one read');
      const undeclaredTables = tables.filter((table) => !(table in SUBJECT_ACCESS_COVERAGE));
      assert.deepEqual(undeclaredTables, [], 'a table the subject-access search does not know: add it to SUBJECT_ACCESS_COVERAGE');
      const undeclaredColumns = textColumns
        .filter(({ table, column }) => SUBJECT_ACCESS_COVERAGE[table]?.[column] === undefined)
        .map(({ table, column, type }) => `${table}.${column} (${type})`);
      assert.deepEqual(undeclaredColumns, [], 'text or JSON columns the subject-access search neither covers nor declares as holding no personal data');
      const stale = Object.entries(SUBJECT_ACCESS_COVERAGE).flatMap(([table, columns]) =>
        Object.keys(columns)
          .filter((column) => !textColumns.some((actual) => actual.table === table && actual.column === column))
          .map((column) => `${table}.${column}`),
      );
      assert.deepEqual(stale, [], 'declared columns that the schema no longer has (or that are not text)');
      for (const [table, columns] of Object.entries(SUBJECT_ACCESS_COVERAGE)) {
        for (const [column, coverage] of Object.entries(columns)) {
          if (!('returnedWithRowFoundBy' in coverage)) continue;
          const by = columns[coverage.returnedWithRowFoundBy];
          assert.ok(by && 'search' in by, `${table}.${column} is returned with a row found by ${coverage.returnedWithRowFoundBy}, which is not searched`);
        }
      }
    });

    it('finds every row that holds the address anywhere, and nothing of a different address that contains it', async () => {
      const { reference } = await seedStore(db());
      const report = await findSubjectData(db(), parseSubject({ address: 'Amara.Mensah@NHSmail.example' }));
      const everywhere = await rowsMentioning(db(), AMARA);
      for (const [table, rows] of everywhere) {
        const found = reportRows(report, table);
        const missed = [...rows].filter((row) => !found.has(keysOf(new Set([row]))[0]!) && !row.includes(NEAR_MISS.toLowerCase()));
        assert.deepEqual(missed, [], `${table}: rows holding the address that subject access did not find`);
      }
      assert.deepEqual(
        report.tables.request_accounts?.map((row) => row.email),
        [AMARA, WITHHELD],
        "her own account row, and the one whose decision reason names her (that holder's address withheld); not tamara.mensah",
      );
      const account = report.tables.request_accounts[0]!;
      assert.equal(account.decision, 'approved');
      assert.equal(account.transfer_note, `Moved ${AMARA} to NAS`);
      assert.equal((account.evidence as { displayName?: string }).displayName, 'Amara Mensah');
      assert.deepEqual(
        report.requestsOfTheirAccounts.map((row) => row.reference),
        [reference],
      );
      assert.deepEqual(
        report.tables.request_questions?.map((row) => row.question),
        [`Is ${AMARA} still at ZZ9101?`],
      );
      assert.equal(report.tables.transfer_requests?.length, 1, 'the request whose reason names her');
      assert.equal(report.tables.screening_jobs?.length, 1, "the job that screened her, not the other person's");
      assert.equal(report.tables.bot_state?.length, 1, 'the half-filled conversation that lists her');
      // What happened to her account, from the audit by account id: decided, then transferred.
      const actions = report.tables.audit_events!.filter((row) => row.account_id === account.id).map((row) => row.action);
      assert.ok(actions.length >= 2, `the decision and the transfer on her account are in the audit (found ${actions.join(', ')})`);
      assert.ok(
        report.tables.request_accounts.every((row) => row.email !== NEAR_MISS) && !JSON.stringify(report.tables.bot_state).includes(NEAR_MISS),
        'nothing found only because another address contains hers',
      );
      assert.equal(
        report.rowCount,
        Object.values(report.tables).reduce((sum, rows) => sum + rows.length, 0),
      );
    });

    it("finds what a requester and a NAS Operations member did by their Entra object id: requests, decisions, questions, owed messages, the chat's reference, the audit", async () => {
      await seedStore(db());
      const priya = await findSubjectData(db(), parseSubject({ address: 'priya.okafor@nhsmail.example', directoryObjectId: PRIYA.id }));
      assert.deepEqual(
        priya.tables.transfer_requests?.map((row) => row.requester_name),
        [PRIYA.name],
      );
      assert.equal(priya.tables.screening_jobs?.length, 1);
      assert.equal(priya.tables.conversation_references?.length, 1);
      assert.ok(
        (priya.tables.outbox ?? []).some((row) => row.recipient === PRIYA.id),
        'a message owed to her chat',
      );
      assert.ok(priya.tables.audit_events!.some((row) => row.actor_id === PRIYA.id && row.action === 'request.submitted'));
      const everywhere = await rowsMentioning(db(), PRIYA.id);
      for (const [table, rows] of everywhere) {
        const found = reportRows(priya, table);
        assert.deepEqual(
          keysOf(rows).filter((key) => !found.has(key)),
          [],
          `${table}: rows holding her object id that subject access did not find`,
        );
      }

      const tom = await findSubjectData(db(), parseSubject({ address: 'tom.ashdown@nhsmail.example', directoryObjectId: TOM.id.toUpperCase() }));
      assert.equal(tom.tables.request_accounts?.length, 3, 'every account he decided');
      assert.equal(tom.tables.request_questions?.length, 1);
      assert.deepEqual(
        tom.tables.ops_members_seen?.map((row) => row.teams_user_id),
        ['29:tom-mri'],
      );
      assert.deepEqual(
        tom.tables.transfer_requests?.map((row) => row.claimed_by_name),
        [TOM.name],
      );
    });

    it('gives one of several account holders in one list their own data only: the others appear as counts, without their addresses, names, job titles or departments', async () => {
      const others = [
        { email: OTHER, displayName: 'Wren Hadley', jobTitle: 'Locum Dispensing Optician', department: 'Eye Casualty Outreach' },
        { email: 'kofi.boateng@nhsmail.example', displayName: 'Kofi Boateng', jobTitle: 'Community Podiatrist', department: 'Foot Health Northmoor' },
      ];
      const holders = [{ email: AMARA, displayName: 'Amara Mensah', jobTitle: 'Pharmacist', department: 'Dispensary' }, ...others];
      const screened = holders.map((holder, index) => ({
        ...screenedAccount(index + 1, holder.email, 'review'),
        evidence: { directoryFound: true, displayName: holder.displayName, jobTitle: holder.jobTitle, department: holder.department, siteOds: 'ZZ9103' },
      }));
      const jobs = new ScreeningJobs(db());
      const job = await jobs.create({
        id: randomUUID(),
        ownerId: PRIYA.id,
        organisationOds: 'ZZ9001',
        organisationName: 'Northmoor',
        entries: holders.map((holder, index) => ({ position: index + 1, email: holder.email })),
      });
      await jobs.claimNext(60);
      await jobs.complete({ ...job, attempts: 1 }, { policyVersion: 'test', accounts: screened });
      await new SqlStorage(db()).write({
        'msteams/conversations/a:priya-chat': {
          eTag: '*',
          dialogState: { accountsText: holders.map((holder) => holder.email).join('\n'), screened },
        },
      });
      const { request } = await transferRequests(db()).submit({
        ...requestDetails(PRIYA),
        reason: 'Three dispensary staff move to NAS',
        draftId: randomUUID(),
        accounts: screened,
      });
      await transferRequests(db()).decideAccount(request.id, request.accounts[1]!.id, 'rejected', TOM, `Not the same post as ${AMARA}; ${OTHER} is a locum`);

      const report = await findSubjectData(db(), parseSubject({ address: AMARA }));
      const file = JSON.stringify(report);
      for (const other of others) {
        for (const [field, value] of Object.entries(other)) {
          assert.ok(!file.toLowerCase().includes(value.toLowerCase()), `another holder's ${field} (${value}) is in the subject access file`);
        }
      }
      // Her own data is all there.
      for (const value of Object.values(holders[0]!)) assert.ok(file.includes(value), `her own ${value} is in the file`);
      // The others as counts: the list keeps its length, each other entry withheld whole.
      const [jobRow] = report.tables.screening_jobs!;
      const entries = jobRow!.entries as Array<Record<string, unknown>>;
      assert.equal(entries.length, 3);
      assert.deepEqual(entries.filter((entry) => entry.withheld === 'another account holder').length, 2);
      // What screening found, in the job's result chunks (migration 022): the chunk that holds her, the others withheld whole.
      assert.equal(report.tables.screening_job_results?.length, 1);
      const results = report.tables.screening_job_results![0]!.accounts as Array<Record<string, unknown>>;
      assert.deepEqual(
        results.map((account) => account.email ?? account.withheld),
        [AMARA, 'another account holder', 'another account holder'],
      );
      // The other account's row found because its decision reason names her: the decision stays, the holder does not.
      const otherRow = report.tables.request_accounts!.find((row) => row.id === request.accounts[1]!.id)!;
      assert.equal(otherRow.email, WITHHELD);
      assert.equal(otherRow.evidence, WITHHELD);
      assert.equal(otherRow.decision, 'rejected');
      assert.equal(otherRow.decision_reason, `Not the same post as ${AMARA}; [another person] is a locum`);
      assert.equal(report.tables.bot_state?.length, 1);
    });

    it('finds nothing for an address the store does not hold, and refuses a search that would find other people', async () => {
      await seedStore(db());
      const report = await findSubjectData(db(), parseSubject({ address: 'nobody.here@nhsmail.example' }));
      assert.equal(report.rowCount, 0);
      assert.equal(report.requestsOfTheirAccounts.length, 0);
      for (const bad of ['', 'amara', '%@%', "a'); DROP TABLE audit_events; --@x.example"]) {
        assert.throws(() => parseSubject({ address: bad }), /address of an NHSmail account/);
      }
      assert.throws(() => parseSubject({ address: AMARA, directoryObjectId: '6e' }), /Entra object id/);
      assert.throws(() => parseSubject({ address: AMARA, directoryObjectId: '.*' }), /Entra object id/);
    });
  });
});

describe('nas-transfer subject-access (command line, PostgreSQL)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nas-sar-'));
  let schema: { url: string; drop(): Promise<void> } | undefined;

  async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    });
    return { code, stdout, stderr };
  }

  before(async function () {
    await requirePostgres.call(this);
    schema = await freshPostgresSchema();
    const db = await openPostgres(schema.url);
    try {
      await migrate(db);
      await seedStore(db);
    } finally {
      await db.close();
    }
  });

  after(() => schema?.drop());

  it('writes everything held about one address to an owner-only JSON file (an existing file made owner-only too) and records the search in the audit without the address', async () => {
    const out = path.join(dir, 'amara.json');
    writeFileSync(out, 'an older file anyone could read', { mode: 0o644 });
    const { code, stdout, stderr } = await cli(['subject-access', AMARA, '--out', out], { DATABASE_URL: schema!.url });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Wrote \d+ rows about amara\.mensah@nhsmail\.example to /);
    if (process.platform !== 'win32') assert.equal(statSync(out).mode & 0o777, 0o600);
    const report = JSON.parse(readFileSync(out, 'utf8')) as SubjectAccessReport;
    assert.equal(report.subject.address, AMARA);
    assert.deepEqual(
      report.tables.request_accounts?.map((row) => row.email),
      [AMARA, WITHHELD],
    );
    assert.ok(!readFileSync(out, 'utf8').includes(OTHER), "the file does not hold the other account holder's address");
    assert.ok(report.notSearched.transfer_requests?.reference, 'the file says which columns it did not search, and why');
    const db = await openPostgres(schema!.url);
    try {
      const audited = await db.query<{ actor_id: string; request_id: number | null; detail: Record<string, unknown> }>(
        `SELECT actor_id, request_id, detail FROM audit_events WHERE action = 'subject.accessed'`,
      );
      assert.equal(audited.length, 1);
      assert.match(audited[0]!.actor_id, /^cli:/);
      assert.equal(audited[0]!.request_id, null);
      assert.equal(audited[0]!.detail.rows, report.rowCount);
      assert.doesNotMatch(JSON.stringify(audited[0]), /amara/i, 'the audit row does not hold the address searched for');
    } finally {
      await db.close();
    }
  });

  it('with --id, also finds what the person did', async () => {
    const out = path.join(dir, 'tom.json');
    const { code, stderr } = await cli(['subject-access', 'tom.ashdown@nhsmail.example', '--id', TOM.id, '--out', out], { DATABASE_URL: schema!.url });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as SubjectAccessReport;
    assert.equal(report.tables.request_accounts?.length, 3);
  });

  for (const [name, args, env, message] of [
    ['no DATABASE_URL', ['subject-access', AMARA, '--out', 'never.json'], { DATABASE_URL: '' }, /Set DATABASE_URL/],
    ['not an address', ['subject-access', 'amara', '--out', 'never.json'], {}, /address of an NHSmail account/],
    ['no address', ['subject-access', '--out', 'never.json'], {}, /subject-access takes one address/],
    ['no --out', ['subject-access', AMARA], {}, /--out <file\.json> is required/],
  ] as const) {
    it(`exits 2 with a clear message for ${name}, writing nothing`, async () => {
      const { code, stdout, stderr } = await cli(
        args.map((arg) => (arg === 'never.json' ? path.join(dir, arg) : arg)),
        { DATABASE_URL: schema!.url, ...env },
      );
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(path.join(dir, 'never.json')), false);
    });
  }
});

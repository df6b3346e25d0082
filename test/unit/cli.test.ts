import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dsptRegisterSource } from '../../services/reference/registers';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { startSandboxOds } from '../../dev/sandbox/ods-server';
import { loadSandboxOds, startSandboxOrd } from '../../dev/sandbox/ord-server';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/nas-transfer';
import { RULE_IDS } from '../../services/eligibility/types';
import { openPostgres } from '../../services/store/database';
import { migrate } from '../../services/store/migrate';
import { freshPostgresSchema, requirePostgres } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const BIN = path.join(__dirname, '..', '..', 'bin', 'nas-transfer.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'nas-cli-'));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};

/**
 * The command line in this process: runCli with the arguments and environment bin/nas-transfer.js
 * would pass, and what it writes to stdout and stderr. One test below spawns the real binary.
 */
async function screen(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
  });
  return { code, stdout, stderr };
}

describe('nas-transfer screen (command line)', function () {
  this.timeout(60_000);

  it('bin/nas-transfer.js, spawned as a person runs it: one JSON document on stdout, exit code 0', () => {
    const input = file('spawned.txt', 'wren.hadley@nhsmail.example\n');
    const result = spawnSync(process.execPath, [BIN, 'screen', '--org', 'ZZ9001', '--input', input, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const document = JSON.parse(result.stdout) as { accounts: Array<{ email: string; verdict: string }> };
    assert.deepEqual(
      document.accounts.map((account) => [account.email, account.verdict]),
      [['wren.hadley@nhsmail.example', 'eligible']],
    );
  });

  it('prints exactly one JSON document with verdicts in input order', async () => {
    const input = file(
      'list.csv',
      'email,site_ods_code,specialism\nkezia.morrow@nhsmail.example,,\namara.mensah@nhsmail.example,ZZ9101,pharmacy\nAMARA.MENSAH@nhsmail.example,ZZ9101,\n',
    );
    const { code, stdout, stderr } = await screen(['screen', '--org', 'ZZ9001', '--input', input, '--json']);
    assert.equal(code, 0, stderr);
    const document = JSON.parse(stdout) as {
      policyVersion: string;
      accounts: Array<{ email: string; verdict: string; reasons: Array<{ rule: string; message: string }> }>;
    };
    assert.match(document.policyVersion, /^\d{4}\.\d{2}-\d+$/);
    assert.deepEqual(
      document.accounts.map((account) => [account.email, account.verdict, account.reasons.map((reason) => reason.rule)]),
      [
        ['kezia.morrow@nhsmail.example', 'ineligible', ['MARKED_AS_LEAVER']],
        ['amara.mensah@nhsmail.example', 'eligible', []],
        ['amara.mensah@nhsmail.example', 'ineligible', ['DUPLICATE_IN_REQUEST']],
      ],
    );
    // Each reason carries its own next step beside its message (issue 21), as the requester is told it.
    assert.deepEqual(Object.keys(document.accounts[0]!.reasons[0]!), ['rule', 'message', 'nextStep']);
    assert.match((document.accounts[0]!.reasons[0] as { nextStep?: string }).nextStep ?? '', /\w/);
    for (const account of document.accounts) for (const reason of account.reasons) assert.ok((RULE_IDS as readonly string[]).includes(reason.rule));
  });

  it('reports a repeated row in --json (row numbers as in the file) instead of dropping it without a trace', async () => {
    const input = file('repeats.csv', 'email\nwren.hadley@nhsmail.example\nnadia.quinn@nhsmail.example\nWren.Hadley@nhsmail.example\n');
    const { code, stdout, stderr } = await screen(['screen', '--org', 'ZZ9001', '--input', input, '--json']);
    assert.equal(code, 0, stderr);
    const document = JSON.parse(stdout) as {
      repeats: Array<{ row: number; sameAsRow: number; message: string }>;
      accounts: Array<{ row: number; email: string }>;
    };
    assert.deepEqual(document.repeats, [{ row: 4, sameAsRow: 2, message: 'Row 4: listed twice (also row 2): counted once.' }]);
    assert.deepEqual(
      document.accounts.map((account) => [account.row, account.email]),
      [
        [2, 'wren.hadley@nhsmail.example'],
        [3, 'nadia.quinn@nhsmail.example'],
      ],
    );
    const table = await screen(['screen', '--org', 'ZZ9001', '--input', input]);
    assert.match(table.stderr, /Row 4: listed twice \(also row 2\): counted once\./);
  });

  it('prints a readable table without --json, from a plain list of addresses', async () => {
    const { code, stdout } = await screen([
      'screen',
      '--org',
      'zz9001',
      '--input',
      file('plain.txt', 'nadia.quinn@nhsmail.example\nwren.hadley@nhsmail.example\n'),
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /^Policy \d{4}\.\d{2}-\d+/);
    assert.match(stdout, /1\s+nadia\.quinn@nhsmail\.example\s+ineligible\s+NO_UK_MOBILE/);
    assert.match(stdout, /2\s+wren\.hadley@nhsmail\.example\s+eligible\s+-/);
  });

  interface FailureCase {
    name: string;
    args: string[];
    env?: Record<string, string>;
    stderr: RegExp;
  }
  const FAILURES: FailureCase[] = [
    {
      name: 'a bad line',
      args: ['--org', 'ZZ9001', '--input', file('bad.csv', 'ok@nhsmail.example\nnot an address\n')],
      stderr: /line 2: "not an address" is not an email address/,
    },
    {
      name: 'an organisation ODS does not know',
      args: ['--org', 'ZZ0000', '--input', file('known.txt', 'amara.mensah@nhsmail.example')],
      stderr: /ODS has no organisation with the code ZZ0000/,
    },
    { name: 'a missing file', args: ['--org', 'ZZ9001', '--input', path.join(dir, 'nope.csv')], stderr: /could not be read/ },
    { name: 'a bad ODS code', args: ['--org', 'Z!', '--input', file('one.txt', 'a@nhsmail.example')], stderr: /--org "Z!" is not an ODS code/ },
    { name: 'missing arguments', args: [], stderr: /--org and --input are required/ },
    {
      name: 'an unreachable directory',
      args: ['--org', 'ZZ9001', '--input', file('two.txt', 'a@nhsmail.example')],
      env: { GRAPH_BASE_URL: 'http://127.0.0.1:9' },
      stderr: /The NHSmail directory could not be reached/,
    },
  ];
  it('never echoes control characters from a bad file, and caps the problem list with a count of the rest', async () => {
    const lines = ['\u001b[2Jevil\u0007@x', ...Array.from({ length: 30 }, (_, index) => `bad address ${index}`)];
    const { code, stderr } = await screen(['screen', '--org', 'ZZ9001', '--input', file('hostile.csv', lines.join('\n'))]);
    assert.equal(code, 2);
    assert.doesNotMatch(stderr, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no control characters but newlines');
    assert.match(stderr, /line 1: "\uFFFD\[2Jevil\uFFFD@x" is not an email address/);
    assert.equal(stderr.match(/^ {2}line \d+:/gm)?.length, 20);
    assert.match(stderr, /\.\.\. and 11 more problems\./);
  });

  it('screens an attached-style XLSX file with a header row', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Accounts');
    sheet.addRow(['Site ODS code', 'Email']);
    sheet.addRow(['ZZ9101', 'amara.mensah@nhsmail.example']);
    sheet.addRow(['', 'ines.harlow@nhsmail.example']);
    const target = path.join(dir, 'list.xlsx');
    writeFileSync(target, Buffer.from(await workbook.xlsx.writeBuffer()));
    const { code, stdout, stderr } = await screen(['screen', '--org', 'ZZ9001', '--input', target, '--json']);
    assert.equal(code, 0, stderr);
    const document = JSON.parse(stdout) as { accounts: Array<{ email: string; verdict: string; reasons: Array<{ rule: string }> }> };
    assert.deepEqual(
      document.accounts.map((account) => [account.email, account.verdict, account.reasons.map((reason) => reason.rule)]),
      [
        ['amara.mensah@nhsmail.example', 'eligible', []],
        ['ines.harlow@nhsmail.example', 'ineligible', ['NOT_DIRECT_PATIENT_CARE']],
      ],
    );
  });

  it('refresh-roles writes a dated snapshot from ODS_BASE_URL/roles and says what changed', async () => {
    const ord = await startSandboxOrd(await loadSandboxOds(path.join(__dirname, '..', '..', 'dev', 'demo-ods.json')));
    try {
      const output = path.join(dir, 'ord-roles-test.json');
      const { code, stdout, stderr } = await screen(['refresh-roles', '--output', output], { ODS_BASE_URL: ord.url });
      assert.equal(code, 0, stderr);
      const snapshot = JSON.parse(readFileSync(output, 'utf8')) as {
        snapshotDate: string;
        source: string;
        roles: Array<{ id: string; displayName: string; primaryRole: boolean }>;
      };
      assert.match(snapshot.snapshotDate, /^\d{4}-\d{2}-\d{2}$/);
      assert.match(snapshot.source, /\/ORD\/2-0-0\/roles/);
      assert.deepEqual(
        snapshot.roles.find((role) => role.id === 'RO166'),
        { id: 'RO166', code: '166', displayName: 'OPTICAL HEADQUARTERS', primaryRole: true },
      );
      assert.match(stdout, /Wrote \d+ roles/);
      assert.match(stdout, /removed RO\d+/, 'the sandbox serves fewer roles than the committed snapshot');
    } finally {
      await ord.close();
    }
  });

  it('screens with ODS_FHIR_BASE_URL, ODS_API_KEY and a DSPT export set (ODS_BASE_URL unset); a bad register row is reported by line, and its site is review, not "not in the register"', async () => {
    const ods = await startSandboxOds(await loadSandboxOds(path.join(__dirname, '..', '..', 'dev', 'demo-ods.json')), { apiKey: 'cli-key' });
    try {
      // Under the name the DSPT organisation search gives its download, which dates it (today, in the test).
      const stamp = new Date()
        .toLocaleString('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23' })
        .replace(/(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)/, '$1_$2_$3 $4_$5_$6');
      const register = file(
        `DSPT search results ${stamp}.csv`,
        [
          'Code,Organisation Name,Status,Date Of Publication,Primary Sector,ICB',
          'ZZ9101,HARBOUR LANE PHARMACY,25/26 Standards Met,28/06/2026,Pharmacy,NHS DEMO ICB',
          'ZZ9103,MILLBROOK DENTAL PRACTICE,25/26 Approaching Standards,29/06/2026,Dentistry,NHS DEMO ICB',
          'ZZ9104,QUAYSIDE CARE HOME,25/26 Approaching Standards,2026-06-30,Social Care,NHS DEMO ICB',
          // Enough readable rows that one bad row is under the share that holds a file back.
          ...Array.from({ length: 30 }, (_, index) => `F${index + 1000},FILLER,25/26 Standards Met,28/06/2026,Pharmacy,NHS DEMO ICB`),
        ].join('\n'),
      );
      const input = file('fhir.csv', 'email\namara.mensah@nhsmail.example\nesme.flint@nhsmail.example\nada.voss@nhsmail.example\n');
      const { code, stdout, stderr } = await screen(['screen', '--org', 'ZZ9001', '--input', input, '--json'], {
        ODS_FHIR_BASE_URL: ods.fhirUrl,
        ODS_API_KEY: 'cli-key',
        ODS_BASE_URL: '',
        DSPT_REGISTER_CSV: register,
      });
      assert.equal(code, 0, stderr);
      assert.match(stderr, /DSPT register DSPT search results [\d_ ]+\.csv: skipped line 4: Date Of Publication "2026-06-30" is not a dd\/mm\/yyyy date/);
      const document = JSON.parse(stdout) as { accounts: Array<{ email: string; verdict: string; reasons: Array<{ rule: string; message: string }> }> };
      assert.deepEqual(
        document.accounts.map((account) => [account.verdict, account.reasons.map((reason) => reason.rule)]),
        [
          ['eligible', []],
          ['review', ['SITE_NOT_DSPT_COMPLIANT']],
          ['review', ['SITE_NOT_DSPT_COMPLIANT']],
        ],
      );
      // Its row was there but could not be read: never the definite "not in the DSPT register" (issue 20).
      assert.match(
        document.accounts[2]!.reasons[0]!.message,
        /site ZZ9104's row in the DSPT register \(DSPT search results [\d_ ]+\.csv, line 4\) could not be read/,
      );
      // Each DSPT outcome with its own next step: approaching standards at a dental site is for NAS to judge; a row that could not be read is for NAS to check.
      const steps = document.accounts.map((account) => (account.reasons[0] as { nextStep?: string } | undefined)?.nextStep);
      assert.match(steps[1] ?? '', /^Nothing to publish for now: NAS Operations will judge whether Approaching Standards is enough/);
      assert.match(
        steps[2] ?? '',
        /^Nothing for the requester to do: NAS Operations will check the site’s DSPT status, and have the DSPT register file corrected/,
      );
      assert.ok(ods.requests.every((request) => request.path.startsWith('/organisation-data-terminology-api/fhir/') && request.headers.apikey === 'cli-key'));
    } finally {
      await ods.close();
    }
  });

  it('refresh-roles without ODS_FHIR_BASE_URL or ODS_BASE_URL exits 2 and says what to set', async () => {
    const { code, stderr } = await screen(['refresh-roles', '--output', path.join(dir, 'never.json')], { ODS_BASE_URL: '', ODS_FHIR_BASE_URL: '' });
    assert.equal(code, 2);
    assert.match(stderr, /Set ODS_FHIR_BASE_URL and ODS_API_KEY .* or ODS_BASE_URL/);
  });

  it('refresh-roles reads the ODSOrganisationRole CodeSystem from the FHIR API when ODS_FHIR_BASE_URL is set (issue 22)', async () => {
    const ods = await startSandboxOds(await loadSandboxOds(path.join(__dirname, '..', '..', 'dev', 'demo-ods.json')), {
      apiKey: 'cli-key',
      rolesVersion: '2026-12-02',
    });
    try {
      const output = path.join(dir, 'ods-roles-test.json');
      const { code, stdout, stderr } = await screen(['refresh-roles', '--output', output], {
        ODS_FHIR_BASE_URL: ods.fhirUrl,
        ODS_API_KEY: 'cli-key',
        ODS_BASE_URL: '',
      });
      assert.equal(code, 0, stderr);
      const snapshot = JSON.parse(readFileSync(output, 'utf8')) as { codeSystem: string; source: string; roles: Array<{ id: string; primaryRole: boolean }> };
      assert.match(snapshot.codeSystem, /ODSOrganisationRole .*version 2026-12-02/);
      assert.match(
        snapshot.source,
        /\/CodeSystem\?system=https:\/\/digital\.nhs\.uk\/services\/organisation-data-service\/CodeSystem\/ODSOrganisationRole&_summary=false/,
      );
      assert.doesNotMatch(JSON.stringify(snapshot), /cli-key/);
      assert.deepEqual(
        snapshot.roles.find((role) => role.id === 'RO166'),
        { id: 'RO166', code: '166', displayName: 'OPTICAL HEADQUARTERS', primaryRole: true },
      );
      assert.match(stdout, /Wrote \d+ roles/);
      assert.ok(ods.requests.every((request) => request.path.endsWith('/CodeSystem') && request.headers.apikey === 'cli-key'));
    } finally {
      await ods.close();
    }
  });

  for (const failure of FAILURES) {
    it(`exits 2 with a clear message for ${failure.name}`, async () => {
      const { code, stdout, stderr } = await screen(['screen', ...failure.args], failure.env);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, failure.stderr);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('nas-transfer export (command line)', function () {
  this.timeout(60_000);
  let schema: { url: string; drop(): Promise<void> } | undefined;
  let reference = '';

  before(async function () {
    await requirePostgres.call(this);
    schema = await freshPostgresSchema();
    const db = await openPostgres(schema.url);
    try {
      await migrate(db);
      const { request } = await transferRequests(db).submit({
        ...requestDetails({ id: 'priya-oid', name: 'Priya Okafor' }),
        reason: '=cmd|calc, sponsorship ends',
        draftId: randomUUID(),
        accounts: [screenedAccount(1, 'amara.mensah@nhsmail.example', 'eligible'), screenedAccount(2, 'wren.hadley@nhsmail.example', 'review')],
      });
      reference = request.reference;
    } finally {
      await db.close();
    }
  });

  after(() => schema?.drop());

  it('writes the same CSV as the Teams export, owner-only, and records the export in the audit', async () => {
    const out = path.join(dir, 'export.csv');
    // A file already there, readable by everyone, is made owner-only before the personal data goes in.
    writeFileSync(out, 'old', { mode: 0o644 });
    chmodSync(out, 0o644);
    const { code, stdout, stderr } = await screen(['export', reference.toLowerCase(), '--out', out], { DATABASE_URL: schema!.url });
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`Wrote ${reference} \\(2 accounts\\) to `));
    const bytes = readFileSync(out);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark for Excel');
    const rows = parse(bytes.subarray(3).toString('utf8')) as string[][];
    assert.deepEqual(rows.find((row) => row[1] === 'Reference')?.slice(0, 3), ['Request', 'Reference', reference]);
    assert.equal(rows.find((row) => row[1] === 'Reason for transfer')?.[2], "'=cmd|calc, sponsorship ends");
    assert.deepEqual(
      rows.filter((row) => row[0] === 'Account').map((row) => [row[1], row[2], row[5]]),
      [
        ['1', 'amara.mensah@nhsmail.example', 'eligible'],
        ['2', 'wren.hadley@nhsmail.example', 'review'],
      ],
    );
    assert.deepEqual(
      rows.filter((row) => row[0] === 'Audit').map((row) => row[2]),
      ['request.submitted'],
    );
    if (process.platform !== 'win32') assert.equal(statSync(out).mode & 0o777, 0o600);
    const db = await openPostgres(schema!.url);
    try {
      const exported = await db.query<{ actor_id: string }>(`SELECT actor_id FROM audit_events WHERE action = 'request.exported'`);
      assert.equal(exported.length, 1);
      assert.match(exported[0]!.actor_id, /^cli:/);
    } finally {
      await db.close();
    }
  });

  it('exits 2 for a reference the store does not have, writing nothing', async () => {
    const out = path.join(dir, 'missing.csv');
    const { code, stdout, stderr } = await screen(['export', 'NTR-999999', '--out', out], { DATABASE_URL: schema!.url });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /No transfer request has that reference/);
    assert.equal(existsSync(out), false);
  });
});

describe('nas-transfer export without what it needs', () => {
  it('exits 2 and says to set DATABASE_URL when there is none', async () => {
    const { code, stdout, stderr } = await screen(['export', 'NTR-100001', '--out', path.join(dir, 'never.csv')], { DATABASE_URL: '' });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /Set DATABASE_URL/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  for (const [name, args, message] of [
    ['no reference', ['export', '--out', 'x.csv'], /export takes one reference/],
    ['a malformed reference', ['export', 'DROP TABLE', '--out', 'x.csv'], /export takes one reference/],
    ['no --out', ['export', 'NTR-100001'], /--out <file.csv> is required/],
  ] as const) {
    it(`exits 2 with the usage for ${name}`, async () => {
      const { code, stderr } = await screen([...args], { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' });
      assert.equal(code, 2);
      assert.match(stderr, message);
      assert.match(stderr, /nas-transfer export <NTR-reference> --out <file.csv>/);
    });
  }
});

describe('nas-transfer confirm-register (command line)', () => {
  it('confirms a held-back register file: its fingerprint goes into <file>.confirm and the bot then uses it', async () => {
    const header = 'Code,Organisation Name,Status,Date Of Publication,Primary Sector';
    const rows = (bad: number) =>
      Array.from(
        { length: 10 },
        (_, index) => `ZZ${9600 + index},Site ${index},25/26 Standards Met,${index < 10 - bad ? '28/06/2026' : '31/02/2026'},Pharmacy`,
      );
    const register = file('held.csv', [header, ...rows(0)].join('\r\n'));
    const source = dsptRegisterSource(register);
    await source.current();
    writeFileSync(register, [header, ...rows(9)].join('\r\n'));
    utimesSync(register, new Date(), new Date(Date.now() + 5000));
    assert.equal((await source.current()).snapshot.rows, 10, 'held back');

    const { code, stdout } = await screen(['confirm-register', register]);
    assert.equal(code, 0);
    assert.match(stdout, /^Confirmed held\.csv \(fingerprint [0-9a-f]{12}: 1 usable rows, 9 skipped\)/);
    assert.equal((await source.current()).snapshot.rows, 1, 'in use once confirmed');
  });

  it('a file that is not there is a clear error, exit 2', async () => {
    const { code, stderr } = await screen(['confirm-register', path.join(dir, 'absent.csv')]);
    assert.equal(code, 2);
    assert.match(stderr, /could not be read/);
  });
});

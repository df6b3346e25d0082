import { chmod, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { AppError, isAppError } from '../core/errors';
import { createLogger } from '../core/log';
import { startMissingSandboxes } from '../dev/sandbox/sandbox-defaults';
import { parseAccountFile } from '../services/account-file';
import { ODS_CODE_PATTERN, shown, type LineProblem, type RepeatedLine } from '../services/account-list';
import { openDataSources } from '../services/data-sources';
import type { ScreeningResult } from '../services/eligibility/types';
import { REQUEST_REFERENCE_PATTERN } from '../services/model';
import { fetchOrdRoles, latestRolesSnapshotFile, loadRolesSnapshot, rolesSnapshotFileName, type OrdRolesSnapshot } from '../services/reference/ord-roles';
import { csvFileBytes, requestCsv } from '../services/export/request-csv';
import { fetchFhirRoles, ODS_ROLE_CODE_SYSTEM } from '../services/reference/ods-role-codesystem';
import { describeProblems, DSPT_FORMAT, NAS_SITES_FORMAT, readRegisterFile } from '../services/reference/registers';
import { ScreeningService, type ScreeningHistory } from '../services/screening';
import { AuditLog } from '../services/store/audit';
import { RequestRepository } from '../services/store/requests';
import { openDatabase } from '../services/store/open-database';
import { RegisterContents } from '../services/store/register-contents';
import { SqlScreeningHistory } from '../services/store/screening-history';
import { findSubjectData, parseSubject, subjectAccessFile } from '../services/store/subject-access';

const USAGE = `Usage: nas-transfer screen --org <ODS code> --input <file> [--json]
       nas-transfer refresh-roles [--output <file>]
       nas-transfer export <NTR-reference> --out <file.csv>
       nas-transfer subject-access <address> [--id <Entra object id>] --out <file.json>
       nas-transfer confirm-register <register file> [--nas-sites]

screen         Screens a list of NHSmail accounts against the NAS transfer policy, with the
               same engine and data sources as the bot (configured by the same environment
               variables: ODS_FHIR_BASE_URL and ODS_API_KEY, or ODS_BASE_URL; DSPT_REGISTER_CSV
               as downloaded from the DSPT organisation search; NAS_SITES_CSV).
  --org        ODS code of the organisation that administers the accounts
  --input      a CSV or Excel (.xlsx) file with a header row naming the email, site ODS code
               and specialism columns, or one address per line
  --json       print one JSON document instead of a table

refresh-roles  Reads the ODS roles code system and writes a dated snapshot (policy/ods-roles-
               YYYY-MM-DD.json unless --output says otherwise), then lists what changed since
               the newest snapshot there. Reads the ODSOrganisationRole CodeSystem from the ODS
               FHIR R4 API (ODS_FHIR_BASE_URL, ODS_API_KEY), or ORD's /roles (ODS_BASE_URL).
               The bot reads the CodeSystem itself; the snapshot is its offline fallback.

export         Writes one transfer request as CSV (answers, accounts, verdicts with evidence,
               decisions, questions, audit history): the file NAS Operations get in Teams
               with "export NTR-…". Reads the bot's PostgreSQL database (DATABASE_URL); the
               export is recorded in the request's audit history.
  --out        the CSV file to write (created readable by its owner only: it holds personal data)

subject-access Writes everything the bot's store holds about one person (UK GDPR Article 15):
               their accounts in requests with verdicts, evidence and decisions, questions,
               messages owed, conversation state and the audit rows naming them, as one JSON
               document. Reads DATABASE_URL; the search is recorded in the audit (who ran it,
               when, rows found; not the address).
  --id         also the person's Entra object id, which is how the store records what
               requesters and NAS Operations did
  --out        the JSON file to write (created readable by its owner only)

confirm-register
               Confirms a register file the bot held back as looking incomplete (far fewer
               rows than the copy in use, or many rows skipped): reads it, prints its counts
               and writes its fingerprint into <register file>.confirm beside it, which the
               bot reads within a minute and then uses the file. Same as writing the
               fingerprint from the ops channel message into that file by hand.
  --nas-sites  the file is the NAS site register (default: the DSPT export)

Exit status: 0 when the command did its work (whatever the verdicts), 2 for bad input or
unreachable data sources.`;

/** Enough problems to fix a file by; the rest are counted, not listed. */
export const MAX_PROBLEMS_SHOWN = 20;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Today's date (YYYY-MM-DD), for snapshot names; injectable for tests. */
  today?: () => string;
}

type Command =
  | { name: 'help' }
  | { name: 'screen'; org: string; input: string; json: boolean }
  | { name: 'refresh-roles'; output?: string }
  | { name: 'export'; reference: string; out: string }
  | { name: 'subject-access'; address: string; id?: string; out: string }
  | { name: 'confirm-register'; file: string; nasSites: boolean };

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.name === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    if (command.name === 'export') return await exportRequest(command, io);
    if (command.name === 'subject-access') return await subjectAccess(command, io);
    if (command.name === 'confirm-register') return await confirmRegister(command, io);
    return command.name === 'screen' ? await screen(command, io) : await refreshRoles(command, io);
  } catch (error) {
    io.stderr(isAppError(error) ? `${error.userMessage}\n` : 'The command failed: a data source could not be used.\n');
    return 2;
  }
}

async function screen({ org: rawOrg, input, json }: Extract<Command, { name: 'screen' }>, io: CliIo): Promise<number> {
  const closers: Array<() => Promise<void>> = [];
  try {
    const org = rawOrg.toUpperCase();
    if (!ODS_CODE_PATTERN.test(org)) throw new AppError('INVALID_INPUT', `--org ${shown(rawOrg)} is not an ODS code (3 to 10 letters and digits).`);
    const content = await readFile(input).catch(() => {
      throw new AppError('INVALID_INPUT', `The input file ${shown(input)} could not be read.`);
    });
    const { entries, problems, repeats } = await parseAccountFile({ content, name: path.basename(input) });
    if (problems.length > 0) throw new AppError('INVALID_INPUT', `\n${formatProblems(problems)}`);
    if (entries.length === 0) throw new AppError('INVALID_INPUT', 'The input file lists no accounts.');
    const config = loadConfig(io.env);
    if (entries.length > config.maxAccountsPerRequest) {
      throw new AppError('TOO_MANY_ACCOUNTS', `The file lists ${entries.length}; the limit is ${config.maxAccountsPerRequest} (MAX_ACCOUNTS_PER_REQUEST).`);
    }
    // The command line is an entry point: with no service URLs set it screens against the local sandboxes.
    const sandboxed = await startMissingSandboxes(config, createLogger('silent'));
    closers.push(() => sandboxed.close());
    // Other requests live in the bot's store; an embedded PGlite folder belongs to the running bot, so only a server database is shared.
    // The store also dates a DSPT export whose name is gone (when the bot first saw that content).
    let history: ScreeningHistory | undefined;
    let registerLedger: RegisterContents | undefined;
    if (config.database.kind === 'postgres') {
      const db = await openDatabase(config.database);
      closers.push(() => db.close());
      history = new SqlScreeningHistory(db);
      registerLedger = new RegisterContents(db);
    }
    const dataSources = await openDataSources(sandboxed.config, registerLedger ? { registerLedger } : {});
    closers.push(async () => dataSources.close());
    // Rows a register skipped are worth knowing about; they go to stderr so --json stays one document.
    for (const register of [dataSources.dspt, dataSources.nasSites]) {
      const copy = await register.current();
      if (copy.problems.length > 0) io.stderr(`${register.label} ${copy.snapshot.file}: skipped ${describeProblems(copy.problems)}\n`);
    }
    if ((await dataSources.organisations.getOrganisation(org)) === null) {
      throw new AppError('INVALID_INPUT', `ODS has no organisation with the code ${org}: check --org.`);
    }
    const result = await new ScreeningService({ ...dataSources, history }).screen(org, entries);
    // A repeated row is screened once; the output says so rather than dropping it without a trace (stderr for the table, so stdout stays the table).
    if (!json) for (const repeat of repeats) io.stderr(`${repeatWords(repeat)}\n`);
    io.stdout(json ? `${JSON.stringify(toJson(result, repeats), null, 2)}\n` : formatTable(result));
    return 0;
  } finally {
    await Promise.all(closers.map((close) => close()));
  }
}

/**
 * The same CSV as the Teams export, from the store. Only a server database: an embedded PGlite
 * folder belongs to the running bot, and a second process opening it would corrupt it.
 */
async function exportRequest({ reference, out }: Extract<Command, { name: 'export' }>, io: CliIo): Promise<number> {
  if (!io.env.DATABASE_URL?.trim()) {
    throw new AppError(
      'INVALID_INPUT',
      "Set DATABASE_URL to the bot's PostgreSQL database to export a request (the embedded PGlite store can only be read by the running bot: use export in Teams).",
    );
  }
  const config = loadConfig(io.env);
  if (config.database.kind !== 'postgres') throw new AppError('INVALID_INPUT', 'Set DATABASE_URL to export a request.');
  const db = await openDatabase(config.database);
  try {
    const request = await new RequestRepository(db).getByReference(reference);
    if (!request) throw new AppError('REQUEST_NOT_FOUND', `Check the reference ${shown(reference)}.`);
    const audit = new AuditLog(db);
    const csv = requestCsv(request, await audit.forRequest(request.id));
    await writeOwnerOnly(out, csvFileBytes(csv));
    // Who exported personal data is part of the record, as it is for an export in Teams.
    await audit.record({ id: `cli:${os.userInfo().username}`, name: 'nas-transfer command line' }, 'request.exported', request.id, {});
    io.stdout(`Wrote ${request.reference} (${request.accounts.length} accounts) to ${out}.\n`);
    return 0;
  } finally {
    await db.close();
  }
}

/**
 * Personal data goes to a file only its owner can read. `mode` applies only to a new file:
 * chmod makes an existing one owner-only too, before anything is written to it.
 */
async function writeOwnerOnly(out: string, content: string | Uint8Array): Promise<void> {
  await writeFile(out, '', { mode: 0o600 })
    .then(() => chmod(out, 0o600))
    .then(() => writeFile(out, content))
    .catch(() => {
      throw new AppError('INVALID_INPUT', `The file ${shown(out)} could not be written.`);
    });
}

/** Everything held about one person, from the store, as a file only its owner can read; audited like an export. */
async function subjectAccess({ address, id, out }: Extract<Command, { name: 'subject-access' }>, io: CliIo): Promise<number> {
  const subject = parseSubject({ address, ...(id === undefined ? {} : { directoryObjectId: id }) });
  if (!io.env.DATABASE_URL?.trim()) {
    throw new AppError('INVALID_INPUT', "Set DATABASE_URL to the bot's PostgreSQL database (the embedded PGlite store can only be read by the running bot).");
  }
  const config = loadConfig(io.env);
  if (config.database.kind !== 'postgres') throw new AppError('INVALID_INPUT', 'Set DATABASE_URL to search for a person.');
  const db = await openDatabase(config.database);
  try {
    const report = await findSubjectData(db, subject);
    await writeOwnerOnly(out, subjectAccessFile(report));
    // Who read a person's data, and how much, is part of the record; whose it was belongs in the IG team's case log, not in an append-only table.
    await new AuditLog(db).record({ id: `cli:${os.userInfo().username}`, name: 'nas-transfer command line' }, 'subject.accessed', null, {
      rows: report.rowCount,
      byObjectId: id !== undefined,
    });
    io.stdout(`Wrote ${report.rowCount} rows about ${subject.address} to ${out}.\n`);
    return 0;
  } finally {
    await db.close();
  }
}

/** Writes the fingerprint of a held-back register file into <file>.confirm, where the bot looks for it. */
async function confirmRegister({ file, nasSites }: Extract<Command, { name: 'confirm-register' }>, io: CliIo): Promise<number> {
  const read = await (nasSites ? readRegisterFile(file, NAS_SITES_FORMAT) : readRegisterFile(file, DSPT_FORMAT)).catch((error: unknown) => {
    throw isAppError(error) ? error : new AppError('INVALID_INPUT', `The register file ${shown(file)} could not be read.`);
  });
  const fingerprint = read.sha256.slice(0, 12);
  await writeFile(`${file}.confirm`, `${fingerprint}\n`).catch(() => {
    throw new AppError('INVALID_INPUT', `The file ${shown(`${file}.confirm`)} could not be written.`);
  });
  io.stdout(
    `Confirmed ${path.basename(file)} (fingerprint ${fingerprint}: ${read.entries.size} usable rows, ${read.problems.length} skipped). ` +
      'The bot uses it at its next look (within a minute) and says so in the ops channel.\n',
  );
  return 0;
}

/** At most MAX_PROBLEMS_SHOWN lines, then a count of the rest. Values in messages are already made printable. */
export function formatProblems(problems: readonly LineProblem[]): string {
  const listed = problems.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => `  line ${problem.line}: ${problem.message}`);
  const rest = problems.length - listed.length;
  return [...listed, ...(rest > 0 ? [`  ... and ${rest} more ${rest === 1 ? 'problem' : 'problems'}.`] : [])].join('\n');
}

/**
 * Reads the roles code system and writes a dated snapshot: from the ODS FHIR R4 API's
 * ODSOrganisationRole CodeSystem when ODS_FHIR_BASE_URL is set (the source the bot itself reads),
 * else from the ORD API's /roles. The snapshot is the bot's offline fallback only.
 */
async function refreshRoles({ output }: Extract<Command, { name: 'refresh-roles' }>, io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const fhirUrl = config.ods.fhirBaseUrl;
  const ordUrl = config.ods.baseUrl;
  if (!fhirUrl && !ordUrl) {
    throw new AppError(
      'INVALID_INPUT',
      'Set ODS_FHIR_BASE_URL and ODS_API_KEY (the ODS FHIR R4 API, for example https://api.service.nhs.uk/organisation-data-terminology-api/fhir), or ODS_BASE_URL (the ORD API), to refresh the roles.',
    );
  }
  const date = io.today?.() ?? new Date().toISOString().slice(0, 10);
  const policyFolder = path.dirname(config.policyFile);
  const previous = await latestRolesSnapshotFile(policyFolder)
    .then(loadRolesSnapshot)
    .catch(() => undefined);
  let snapshot: OrdRolesSnapshot;
  if (fhirUrl) {
    const fhir = await fetchFhirRoles(fhirUrl, config.ods.apiKey);
    snapshot = {
      codeSystem: `ODSOrganisationRole (ODS FHIR R4 API CodeSystem ${ODS_ROLE_CODE_SYSTEM}, version ${fhir.version})`,
      snapshotDate: date,
      source: `GET ${fhirUrl.replace(/\/+$/, '')}/CodeSystem?system=${ODS_ROLE_CODE_SYSTEM}&_summary=false on ${date} (CodeSystem version ${fhir.version}, dated ${fhir.dataDate}), written by nas-transfer refresh-roles.`,
      roles: fhir.roles,
    };
  } else {
    const base = (ordUrl as string).replace(/\/+$/, '');
    snapshot = {
      codeSystem: 'ODS OrganisationRole (ORD API 2-0-0 GET /roles)',
      snapshotDate: date,
      source: `GET ${base}/roles on ${date}, written by nas-transfer refresh-roles.`,
      roles: await fetchOrdRoles(base),
    };
  }
  const target = output ?? path.join(policyFolder, rolesSnapshotFileName(date));
  await writeFile(target, `${JSON.stringify(snapshot, null, 1)}\n`);
  io.stdout(`Wrote ${snapshot.roles.length} roles to ${target}.\n${previous ? describeChanges(previous, snapshot) : ''}`);
  return 0;
}

function describeChanges(previous: OrdRolesSnapshot, next: OrdRolesSnapshot): string {
  const before = new Map(previous.roles.map((role) => [role.id, role.displayName]));
  const after = new Map(next.roles.map((role) => [role.id, role.displayName]));
  const added = [...after].filter(([id]) => !before.has(id)).map(([id, name]) => `  added   ${id} ${name}`);
  const removed = [...before].filter(([id]) => !after.has(id)).map(([id, name]) => `  removed ${id} ${name}`);
  const renamed = [...after]
    .filter(([id, name]) => before.has(id) && before.get(id) !== name)
    .map(([id, name]) => `  renamed ${id} ${before.get(id)} -> ${name}`);
  const changes = [...added, ...removed, ...renamed];
  return changes.length === 0
    ? `No change since the ${previous.snapshotDate} snapshot.\n`
    : `Since the ${previous.snapshotDate} snapshot:\n${changes.join('\n')}\nCheck the policy's odsRoleSectors against these before using the new snapshot.\n`;
}

function parseCommandLine(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      org: { type: 'string' },
      input: { type: 'string' },
      output: { type: 'string' },
      out: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean', default: false },
      'nas-sites': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { name: 'help' };
  const [name, ...rest] = positionals;
  if (name === 'export') {
    const [reference, ...extra] = rest;
    if (!reference || extra.length > 0 || !REQUEST_REFERENCE_PATTERN.test(reference)) throw new Error('export takes one reference, like NTR-100001.');
    if (!values.out) throw new Error('--out <file.csv> is required.');
    return { name, reference: reference.toUpperCase(), out: values.out };
  }
  if (name === 'subject-access') {
    const [address, ...extra] = rest;
    if (!address || extra.length > 0) throw new Error('subject-access takes one address, like name@nhs.net.');
    if (!values.out) throw new Error('--out <file.json> is required.');
    return { name, address, ...(values.id === undefined ? {} : { id: values.id }), out: values.out };
  }
  if (name === 'confirm-register') {
    const [file, ...extra] = rest;
    if (!file || extra.length > 0) throw new Error('confirm-register takes one register file.');
    return { name, file, nasSites: values['nas-sites'] ?? false };
  }
  if (rest.length > 0 || (name !== 'screen' && name !== 'refresh-roles'))
    throw new Error('The commands are "screen", "refresh-roles", "export", "subject-access" and "confirm-register".');
  if (name === 'refresh-roles') return { name, ...(values.output ? { output: values.output } : {}) };
  if (!values.org || !values.input) throw new Error('--org and --input are required.');
  return { name, org: values.org, input: values.input, json: values.json ?? false };
}

/** The public JSON contract: policy version, then accounts in input order with rule ids and messages. */
/** "Row 5: listed twice (also row 1): counted once." */
function repeatWords(repeat: RepeatedLine): string {
  return `Row ${repeat.line}: listed twice (also row ${repeat.repeats}): counted once.`;
}

function toJson(result: ScreeningResult, repeats: readonly RepeatedLine[] = []) {
  return {
    policyVersion: result.policyVersion,
    /** Rows of the input that list an account already listed: screened once, under the first row. */
    repeats: repeats.map((repeat) => ({ row: repeat.line, sameAsRow: repeat.repeats, message: repeatWords(repeat) })),
    accounts: result.accounts.map((account) => ({
      row: account.position,
      email: account.email,
      verdict: account.verdict,
      // Each reason with its own next step, so scripts and NAS read what to do as the requester is told it.
      reasons: account.reasons.map((reason) => ({ rule: reason.rule, message: reason.message, nextStep: reason.remedy })),
    })),
  };
}

function formatTable(result: ScreeningResult): string {
  const rows = result.accounts.map((account) => [
    String(account.position),
    account.email,
    account.verdict,
    account.reasons.map((reason) => reason.rule).join(', ') || '-',
  ]);
  const header = ['#', 'email', 'verdict', 'reasons'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] as number))
      .join('  ')
      .trimEnd();
  return [`Policy ${result.policyVersion}`, line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line), ''].join('\n');
}

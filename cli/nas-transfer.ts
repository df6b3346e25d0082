import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { parseAccountList, ODS_CODE_PATTERN } from '../services/account-list';
import { startMissingSandboxes } from '../dev/sandbox/sandbox-defaults';
import { openDataSources } from '../services/data-sources';
import type { ScreeningResult } from '../services/eligibility/types';
import { AppError, isAppError } from '../core/errors';
import { createLogger } from '../core/log';
import { ScreeningService } from '../services/screening';
import { openDatabase } from '../services/store/open-database';
import { RequestStore } from '../services/store/request-store';

const USAGE = `Usage: nas-transfer screen --org <ODS code> --input <file> [--json]

Screens a list of NHSmail accounts against the NAS transfer policy, with the same engine
and data sources as the bot (configured by the same environment variables).

  --org     ODS code of the organisation that administers the accounts
  --input   a CSV with the header email,site_ods_code,specialism, or one address per line
  --json    print one JSON document instead of a table

Exit status: 0 when the list was screened (whatever the verdicts), 2 for bad input or
unreachable data sources.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const closers: Array<() => Promise<void>> = [];
  try {
    const { input, json } = args;
    const org = args.org.toUpperCase();
    if (!ODS_CODE_PATTERN.test(org)) throw new AppError('INVALID_INPUT', `--org "${org}" is not an ODS code (3 to 10 letters and digits).`);
    const text = await readFile(input, 'utf8').catch(() => {
      throw new AppError('INVALID_INPUT', `The input file ${input} could not be read.`);
    });
    const { entries, problems } = parseAccountList(text);
    if (problems.length > 0) throw new AppError('INVALID_INPUT', `\n${problems.map((problem) => `  line ${problem.line}: ${problem.message}`).join('\n')}`);
    if (entries.length === 0) throw new AppError('INVALID_INPUT', 'The input file lists no accounts.');
    const config = loadConfig(io.env);
    if (entries.length > config.maxAccountsPerRequest) {
      throw new AppError('TOO_MANY_ACCOUNTS', `The file lists ${entries.length}; the limit is ${config.maxAccountsPerRequest} (MAX_ACCOUNTS_PER_REQUEST).`);
    }
    // The command line is an entry point: with no service URLs set it screens against the local sandboxes.
    const sandboxed = await startMissingSandboxes(config, createLogger('silent'));
    closers.push(() => sandboxed.close());
    const dataSources = await openDataSources(sandboxed.config);
    // Open requests live in the bot's store; an embedded PGlite folder belongs to the running bot, so only a server database is shared.
    let openRequests: RequestStore | undefined;
    if (config.database.kind === 'postgres') {
      const db = await openDatabase(config.database);
      closers.push(() => db.close());
      openRequests = new RequestStore(db);
    }
    const result = await new ScreeningService({ ...dataSources, openRequests }).screen(org, entries);
    io.stdout(json ? `${JSON.stringify(toJson(result), null, 2)}\n` : formatTable(result));
    return 0;
  } catch (error) {
    io.stderr(isAppError(error) ? `${error.userMessage}\n` : 'Screening failed: a data source could not be used.\n');
    return 2;
  } finally {
    await Promise.all(closers.map((close) => close()));
  }
}

function parseCommandLine(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { org: { type: 'string' }, input: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return { help: true, org: '', input: '', json: false };
  if (positionals[0] !== 'screen' || positionals.length !== 1) throw new Error('The only command is "screen".');
  if (!values.org || !values.input) throw new Error('--org and --input are required.');
  return { help: false, org: values.org, input: values.input, json: values.json ?? false };
}

/** The public JSON contract: policy version, then accounts in input order with rule ids and messages. */
function toJson(result: ScreeningResult) {
  return {
    policyVersion: result.policyVersion,
    accounts: result.accounts.map((account) => ({
      email: account.email,
      verdict: account.verdict,
      reasons: account.reasons.map((reason) => ({ rule: reason.rule, message: reason.message })),
    })),
  };
}

function formatTable(result: ScreeningResult): string {
  const rows = result.accounts.map((account) => [String(account.position), account.email, account.verdict, account.reasons.map((reason) => reason.rule).join(', ') || '-']);
  const header = ['#', 'email', 'verdict', 'reasons'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd();
  return [`Policy ${result.policyVersion}`, line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line), ''].join('\n');
}

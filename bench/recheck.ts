import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../core/log';
import { startSandboxGraph, type SandboxDirectory } from '../dev/sandbox/graph-server';
import { startSandboxOds } from '../dev/sandbox/ods-server';
import { loadSandboxOds } from '../dev/sandbox/ord-server';
import { createGraphClient } from '../services/directory/graph-client';
import { GraphDirectory } from '../services/directory/graph-directory';
import { loadPolicy } from '../services/eligibility/policy';
import type { ScreenedAccount } from '../services/eligibility/types';
import { OdsFhirClient } from '../services/reference/ods-fhir-client';
import { loadDsptRegister, loadNasSitesRegister } from '../services/reference/registers';
import { RequestRechecks } from '../services/requests/recheck';
import { TransferRequests } from '../services/requests/transfer-requests';
import { ScreeningService } from '../services/screening';
import { openPglite } from '../services/store/database';
import { migrate } from '../services/store/migrate';
import { SqlScreeningHistory } from '../services/store/screening-history';

/**
 * `npm run bench` (re-check): 1,000 accounts in 20 open requests of 50, screened again in the
 * background as the daily round does, against the sandbox Graph answering 50 ms late and the
 * ODS FHIR sandbox, on PGlite. Printed: the time, the Graph requests (batches of at most 20
 * look-ups) against one per account, and the peak memory. Then the transfer check of the same
 * accounts once approved (directory only).
 */
const REQUESTS = 20;
const ACCOUNTS_EACH = 50;
const LATENCY_MS = 50;
const ROOT = path.join(__dirname, '..');
/** The sites of the synthetic accounts, in turn (demo ODS and register data). */
export const SITES = ['ZZ9101', 'ZZ9102', 'ZZ9103', 'ZZ9104', 'ZZ9108', 'ZZ9109', 'ZZ9110'];
const TOM = { id: 'bench-ops', name: 'Bench Reviewer' };

/**
 * `count` directory users `<prefix>.<n>@nhsmail.example` of ZZ9001, pharmacists with UK mobiles at the SITES in turn,
 * every 50th (from the 8th) marked as a leaver. Lent to bench/busy.ts.
 */
export function syntheticUsers(count: number, prefix = 'recheck', idBlock = 9100): SandboxDirectory['users'] {
  return Array.from({ length: count }, (_, index) => ({
    id: `6e6d7300-0000-4000-${idBlock}-${String(index).padStart(12, '0')}`,
    userPrincipalName: `${prefix}.${index}@nhsmail.example`,
    displayName: `Recheck ${index}`,
    givenName: 'Recheck',
    surname: `Number${index}`,
    accountEnabled: true,
    mobilePhone: `07400 ${String(100000 + index).padStart(6, '0')}`,
    jobTitle: 'Pharmacist',
    otherMails: [],
    proxyAddresses: [`SMTP:${prefix}.${index}@nhsmail.example`],
    // A few changed since submission: marked as leavers.
    onPremisesExtensionAttributes: {
      extensionAttribute1: 'ZZ9001',
      extensionAttribute2: SITES[index % SITES.length],
      ...(index % 50 === 7 ? { extensionAttribute3: 'Leaver' } : {}),
    },
  }));
}

function directory(count: number): SandboxDirectory {
  return { groups: [], users: syntheticUsers(count) };
}

/** Account `index` of syntheticUsers as submitted: eligible, found in the directory. */
export function submitted(index: number): ScreenedAccount {
  return {
    position: (index % ACCOUNTS_EACH) + 1,
    email: `recheck.${index}@nhsmail.example`,
    verdict: 'eligible',
    reasons: [],
    evidence: { directoryFound: true },
  };
}

async function main(): Promise<void> {
  const total = REQUESTS * ACCOUNTS_EACH;
  const policy = await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json'));
  const graph = await startSandboxGraph(directory(total));
  graph.respondAfter(LATENCY_MS);
  const ods = await startSandboxOds(await loadSandboxOds(path.join(ROOT, 'dev', 'demo-ods.json')), { apiKey: 'bench-key' });
  const db = await openPglite();
  try {
    await migrate(db);
    const attributes = {
      organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
      site: 'onPremisesExtensionAttributes.extensionAttribute2',
      leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
      leaverValue: 'Leaver',
    };
    const graphDirectory = new GraphDirectory(createGraphClient(graph.url), attributes);
    const screening = new ScreeningService({
      directory: graphDirectory,
      organisations: new OdsFhirClient(ods.fhirUrl, 'bench-key'),
      dspt: await loadDsptRegister(path.join(ROOT, 'dev', 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(ROOT, 'dev', 'nas-sites.csv')),
      policy,
      history: new SqlScreeningHistory(db),
    });
    const requests = new TransferRequests(db, { workQueued() {} }, silentLogger);
    const ids: number[] = [];
    for (let r = 0; r < REQUESTS; r++) {
      const accounts = Array.from({ length: ACCOUNTS_EACH }, (_, i) => submitted(r * ACCOUNTS_EACH + i));
      const { request } = await requests.submit({
        organisationOds: 'ZZ9001',
        organisationName: 'Northmoor Community Care Partnership',
        requester: { id: 'bench-requester', name: 'Bench Requester' },
        reason: 'Bench.',
        attestations: { usersInformed: true, residualDataRemoved: true, notMarkedAsLeavers: true, resolutionForIneligible: true },
        policyVersion: policy.version,
        draftId: randomUUID(),
        accounts,
      });
      ids.push(request.id);
    }
    const rechecks = new RequestRechecks(
      db,
      screening,
      graphDirectory,
      { nasOrganisations: new Set(['NAS']), transferCheckMinutes: 180, transferChaseWorkingDays: 5, holidays: new Set() },
      { workQueued() {} },
      silentLogger,
    );

    const measure = async (label: string, baseline: number) => {
      graph.requests.length = 0;
      ods.requests.length = 0;
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const before = process.memoryUsage().rss;
      const started = performance.now();
      while (await rechecks.runDue()) {
        /* until nothing is due */
      }
      const ms = performance.now() - started;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const lookups = graph.requests.filter((request) => request.path.endsWith('/$batch')).length;
      process.stdout.write(
        `  ${label}: ${(ms / 1000).toFixed(2)} s, ${graph.requests.length} Graph requests (${lookups} $batch; one GET per account would be ${baseline}), ` +
          `${ods.requests.length} ODS requests, peak RSS ${(peak / 1e6).toFixed(0)} MB (+${((peak - before) / 1e6).toFixed(0)} MB)\n`,
      );
    };

    process.stdout.write(`\nRe-check of ${total} accounts in ${REQUESTS} open requests, sandbox Graph with ${LATENCY_MS} ms latency, PGlite\n`);
    // Each request assigned to a reviewer owes its re-check now (the daily round skips weekends and bank holidays).
    for (const id of ids) await requests.claim(id, TOM);
    await measure('re-check (screened again, changes recorded and audited)', total);
    const [changed] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM request_accounts WHERE change_summary IS NOT NULL`);
    process.stdout.write(`  changed since submission: ${changed?.count ?? 0} accounts\n`);

    // Approved and decided: the transfer check reads the same accounts in the directory only.
    await db.query(`UPDATE request_accounts SET decision = 'approved', decided_by_id = $1, decided_by_name = $2, decided_at = now()`, [TOM.id, TOM.name]);
    await db.query(`UPDATE transfer_requests SET status = 'decided', decided_at = now()`);
    await db.query(`DELETE FROM request_checks`);
    await rechecks.sweep();
    process.stdout.write(`\nTransfer check of ${total} approved accounts (none moved yet)\n`);
    await measure('transfer check (directory only)', total);
  } finally {
    await db.close();
    await graph.close();
    await ods.close();
  }
}

// Run as a script (npm run bench); imported (bench/busy.ts), it only lends its directory and accounts.
if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

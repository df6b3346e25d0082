import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderScreeningResultsCard } from '../cards/screening-results';
import { startSandboxGraph, type SandboxDirectory } from '../dev/sandbox/graph-server';
import { startSandboxOds } from '../dev/sandbox/ods-server';
import { loadSandboxOds } from '../dev/sandbox/ord-server';
import type { AccountEntry } from '../services/account-list';
import { createGraphClient } from '../services/directory/graph-client';
import { BATCHES_IN_FLIGHT, GRAPH_BATCH_LIMIT, GraphDirectory } from '../services/directory/graph-directory';
import { screenAccounts } from '../services/eligibility/engine';
import { loadPolicy } from '../services/eligibility/policy';
import type { AccountFacts } from '../services/eligibility/types';
import { OdsFhirClient } from '../services/reference/ods-fhir-client';
import { loadDsptRegister, loadNasSitesRegister, splitDsptStatus } from '../services/reference/registers';
import { ScreeningService } from '../services/screening';

/**
 * `npm run bench`: every figure beside a baseline measured in the same run on the same
 * machine, so the ratios compare across machines and loads.
 *
 * Screening runs against the sandbox Graph and ODS FHIR R4 servers, each behind a loopback proxy
 * that adds LATENCY_MS to every request, beside (a) the naive approach, one GET /users/{upn} per account
 * in sequence, and (b) the batch bound: batches of 20, BATCHES_IN_FLIGHT at a time, each
 * round costing the latency. The naive approach is linear by construction, so it is timed on
 * NAIVE_SAMPLE accounts and scaled; pass --full-naive to time it on every account (slow).
 */
const ROOT = path.join(__dirname, '..');
const LATENCY_MS = 50;
const SIZES = [1000, 5000];
const NAIVE_SAMPLE = 200;
const ENGINE_ACCOUNTS = 500;
const SITES = ['ZZ9101', 'ZZ9102', 'ZZ9103', 'ZZ9104', 'ZZ9105', 'ZZ9107', 'ZZ9108', 'ZZ9109', 'ZZ9110'];
const fullNaive = process.argv.includes('--full-naive');

async function timeIt(label: string, runs: number, work: () => unknown, warmUp = true): Promise<number> {
  if (warmUp) await work();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  process.stdout.write(`  ${label.padEnd(66)} ${median.toFixed(1).padStart(10)} ms (median of ${runs})\n`);
  return median;
}

/** A loopback proxy that holds every request LATENCY_MS before passing it on: a WAN round trip, here. */
async function withLatency(target: string, latencyMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const forward = http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.writeHead(502).end());
        forward.end(Buffer.concat(chunks));
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname === '/' ? '' : upstream.pathname}`,
    close: () => {
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Synthetic people spread over the demo sites: no real names or numbers. */
function syntheticDirectory(count: number): SandboxDirectory {
  return {
    groups: [],
    users: Array.from({ length: count }, (_, index) => ({
      id: `6e6d7300-0000-4000-9000-${String(index).padStart(12, '0')}`,
      userPrincipalName: `person.${index}@nhsmail.example`,
      displayName: `Person ${index}`,
      givenName: 'Person',
      surname: `Number${index}`,
      accountEnabled: index % 17 !== 0,
      mobilePhone: index % 11 === 0 ? null : `07400 ${String(100000 + (index % 900000)).padStart(6, '0')}`,
      jobTitle: index % 19 === 0 ? 'Payroll Officer' : 'Pharmacist',
      department: null,
      otherMails: index % 23 === 0 ? [`person.${index}@example.gov.uk`] : [],
      proxyAddresses: [`SMTP:person.${index}@nhsmail.example`],
      onPremisesExtensionAttributes: { extensionAttribute1: 'ZZ9001', extensionAttribute2: SITES[index % SITES.length] },
    })),
  };
}

function engineFacts(count: number): AccountFacts[] {
  return Array.from({ length: count }, (_, index) => ({
    position: index + 1,
    email: `person.${index}@nhsmail.example`,
    directory: {
      id: `id-${index}`,
      userPrincipalName: `person.${index}@nhsmail.example`,
      displayName: `Person ${index}`,
      givenName: 'Person',
      surname: `Number${index}`,
      accountEnabled: index % 17 !== 0,
      mobilePhone: index % 11 === 0 ? undefined : '07400 123456',
      jobTitle: index % 19 === 0 ? 'Payroll Officer' : 'Pharmacist',
      otherMails: [],
      proxyAddresses: [`SMTP:person.${index}@nhsmail.example`],
      organisationOds: 'ZZ9001',
      siteOds: 'ZZ9101',
      markedAsLeaver: index % 23 === 0,
    },
    site: {
      odsCode: 'ZZ9101',
      source: 'directory',
      ods: { odsCode: 'ZZ9101', name: 'SITE', active: index % 13 !== 0, roleIds: ['RO182'], links: [] },
      parents: [],
      dspt: {
        odsCode: 'ZZ9101',
        ...(index % 7 === 0
          ? { status: '25/26 Approaching Standards', ...splitDsptStatus('25/26 Approaching Standards') }
          : { status: '25/26 Standards Met', ...splitDsptStatus('25/26 Standards Met') }),
      },
      nasSite: { odsCode: 'ZZ9101', allowedAccounts: 600, nasAccounts: 2 },
      accountsInOtherRequests: 0,
    },
  }));
}

async function main(): Promise<void> {
  const policy = await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json'));
  const ratios: Array<[string, number, string]> = [];

  process.stdout.write(`Eligibility engine, ${ENGINE_ACCOUNTS} accounts (all fifteen rules)\n`);
  const input = engineFacts(ENGINE_ACCOUNTS);
  const context = { requestingOrgOds: 'ZZ9001', policy, today: '2026-11-29' };
  const copyBaseline = await timeIt('baseline: structuredClone of the same facts', 30, () => structuredClone(input));
  const engine = await timeIt('screenAccounts', 30, () => screenAccounts(input, context));
  ratios.push(['engine / clone of its input', engine / copyBaseline, '']);
  const result = screenAccounts(input, context);
  const stringifyBaseline = await timeIt('baseline: JSON.stringify of the screening result', 30, () => JSON.stringify(result));
  const card = await timeIt('renderScreeningResultsCard (template expansion + size fit)', 30, () => renderScreeningResultsCard('Northmoor', result));
  ratios.push(['card page / stringify of the result', card / stringifyBaseline, '']);

  const largest = Math.max(...SIZES);
  const graph = await startSandboxGraph(syntheticDirectory(largest));
  const ods = await startSandboxOds(await loadSandboxOds(path.join(ROOT, 'dev', 'demo-ods.json')), { apiKey: 'bench-key' });
  const slowGraph = await withLatency(graph.url, LATENCY_MS);
  const slowOds = await withLatency(ods.fhirUrl, LATENCY_MS);
  const organisations = new OdsFhirClient(slowOds.url, 'bench-key');
  try {
    const client = createGraphClient(slowGraph.url);
    const service = new ScreeningService({
      directory: new GraphDirectory(client, {
        organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
        site: 'onPremisesExtensionAttributes.extensionAttribute2',
        leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
        leaverValue: 'Leaver',
      }),
      organisations,
      dspt: await loadDsptRegister(path.join(ROOT, 'dev', 'dspt-register.csv')),
      nasSites: await loadNasSitesRegister(path.join(ROOT, 'dev', 'nas-sites.csv')),
      policy,
    });
    const naiveLookup = async (emails: readonly string[]) => {
      for (const email of emails)
        await client
          .api(`/users/${encodeURIComponent(email)}`)
          .get()
          .catch(() => undefined);
    };
    for (const size of SIZES) {
      process.stdout.write(`\nScreening ${size} accounts, sandbox Graph and ODS FHIR R4 API with ${LATENCY_MS} ms injected latency\n`);
      const entries: AccountEntry[] = Array.from({ length: size }, (_, index) => ({ position: index + 1, email: `person.${index}@nhsmail.example` }));
      graph.requests.length = 0;
      ods.requests.length = 0;
      const screening = await timeIt('ScreeningService.screen (directory, ODS, registers, rules)', 3, () => service.screen('ZZ9001', entries));
      const requestsPerRun = graph.requests.length / 4;
      const odsPerRun = ods.requests.length / 4;
      const organisationReads = ods.requests.filter((request) => request.path.includes('/Organization/')).length / 4;
      const relationshipSearches = ods.requests.filter((request) => request.path.endsWith('/OrganizationAffiliation')).length / 4;
      const distinctSites = new Set(Array.from({ length: size }, (_, index) => SITES[index % SITES.length])).size;
      process.stdout.write(
        `  ODS requests per screening: ${odsPerRun} = ${organisationReads} Organization reads (${distinctSites} distinct site codes + ${organisationReads - distinctSites} optical headquarters) + ${relationshipSearches} OrganizationAffiliation searches (optical sites only); none per account\n`,
      );
      const rounds = Math.ceil(Math.ceil(size / GRAPH_BATCH_LIMIT) / BATCHES_IN_FLIGHT);
      const bound = rounds * LATENCY_MS;
      process.stdout.write(
        `  ${`batch bound: ${rounds} rounds of ${BATCHES_IN_FLIGHT} batches of ${GRAPH_BATCH_LIMIT}, x ${LATENCY_MS} ms`.padEnd(66)} ${bound.toFixed(1).padStart(10)} ms\n`,
      );
      process.stdout.write(
        `  Graph requests per screening: ${requestsPerRun} (${Math.ceil(size / GRAPH_BATCH_LIMIT)} batches of at most ${GRAPH_BATCH_LIMIT}; none per account)\n`,
      );
      const sample = fullNaive ? size : Math.min(NAIVE_SAMPLE, size);
      const naiveSample = await timeIt(
        `baseline: naive, one GET per account in sequence (${sample} accounts)`,
        1,
        () => naiveLookup(entries.slice(0, sample).map((entry) => entry.email)),
        false,
      );
      const naive = (naiveSample * size) / sample;
      if (sample < size)
        process.stdout.write(`  ${`  naive scaled to ${size} accounts (linear: one round trip each)`.padEnd(66)} ${naive.toFixed(1).padStart(10)} ms\n`);
      ratios.push([`${size}: naive / screening`, naive / screening, 'target >= 30']);
      ratios.push([`${size}: screening / batch bound`, screening / bound, 'target <= 1.3']);
    }
  } finally {
    await Promise.all([slowGraph.close(), slowOds.close()]);
    await Promise.all([graph.close(), ods.close()]);
  }

  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write('\nRatios (baselines measured in this run)\n');
  for (const [label, ratio, target] of ratios) process.stdout.write(`  ${label.padEnd(44)} ${ratio.toFixed(2).padStart(8)}  ${target}\n`);
  process.stdout.write(`  ${'peak RSS of this process (sandboxes included)'.padEnd(44)} ${peakRssMb.toFixed(0).padStart(8)} MB  target < 300\n`);
}

void main();

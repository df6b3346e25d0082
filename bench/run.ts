import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderScreeningResultsCard } from '../cards/screening-results';
import { loadSandboxDirectory, startSandboxGraph } from '../dev/sandbox/graph-server';
import { createGraphClient } from '../services/directory/graph-client';
import { GraphDirectory } from '../services/directory/graph-directory';
import { screenAccounts } from '../services/eligibility/engine';
import { loadPolicy } from '../services/eligibility/policy';
import type { AccountFacts } from '../services/eligibility/types';

/**
 * `npm run bench`: each measurement is printed as a ratio to a baseline measured in the same
 * run on the same machine, so the figures compare across machines and loads.
 */
const ROOT = path.join(__dirname, '..');
const ACCOUNTS = 500;

async function timeIt(label: string, runs: number, work: () => unknown | Promise<unknown>): Promise<number> {
  await work(); // warm-up
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  process.stdout.write(`  ${label.padEnd(58)} ${median.toFixed(3).padStart(9)} ms (median of ${runs})\n`);
  return median;
}

function facts(count: number): AccountFacts[] {
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
      mobilePhone: index % 11 === 0 ? undefined : '07700 900001',
      organisationOds: 'ZZ9001',
      siteOds: `ZZ91${String(index % 9).padStart(2, '0')}`,
      markedAsLeaver: index % 23 === 0,
    },
    site: {
      odsCode: `ZZ91${String(index % 9).padStart(2, '0')}`,
      source: 'directory',
      ods: { odsCode: 'ZZ9101', name: 'SITE', active: index % 13 !== 0, roleIds: ['RO182'] },
      dspt: { odsCode: 'ZZ9101', status: index % 7 === 0 ? 'Approaching Standards' : 'Standards Met' },
      nasSite: { odsCode: 'ZZ9101', allowedAccounts: 60, nasAccounts: 2 },
    },
  }));
}

async function main(): Promise<void> {
  const policy = await loadPolicy(path.join(ROOT, 'policy', 'nas-transfer-policy.json'));
  const input = facts(ACCOUNTS);
  const context = { requestingOrgOds: 'ZZ9001', policy };
  const ratios: Array<[string, number]> = [];

  process.stdout.write(`Eligibility engine, ${ACCOUNTS} accounts\n`);
  const copyBaseline = await timeIt('baseline: structuredClone of the same facts', 50, () => structuredClone(input));
  const engine = await timeIt('screenAccounts', 50, () => screenAccounts(input, context));
  ratios.push(['engine / clone of its input', engine / copyBaseline]);

  process.stdout.write(`Results card page (25 accounts)\n`);
  const result = screenAccounts(input, context);
  const stringifyBaseline = await timeIt('baseline: JSON.stringify of the screening result', 50, () => JSON.stringify(result));
  const card = await timeIt('renderScreeningResultsCard (template expansion + size fit)', 50, () => renderScreeningResultsCard('Northmoor', result));
  ratios.push(['card page / stringify of the result', card / stringifyBaseline]);

  process.stdout.write(`Directory look-ups of ${ACCOUNTS} accounts over loopback HTTP (sandbox Graph)\n`);
  const directoryData = await loadSandboxDirectory(path.join(ROOT, 'dev', 'demo-directory.json'));
  const graph = await startSandboxGraph(directoryData);
  try {
    const client = createGraphClient(graph.url);
    const directory = new GraphDirectory(client, {
      organisation: 'onPremisesExtensionAttributes.extensionAttribute1',
      site: 'onPremisesExtensionAttributes.extensionAttribute2',
      leaver: 'onPremisesExtensionAttributes.extensionAttribute3',
      leaverValue: 'Leaver',
    });
    const emails = directoryData.users.map((user) => user.userPrincipalName);
    const many = Array.from({ length: ACCOUNTS }, (_, index) => emails[index % emails.length]!.replace('@', `+${index}@`));
    const oneByOne = await timeIt('baseline: one GET /users/{upn} per account', 5, async () => {
      for (const email of many) await client.api(`/users/${encodeURIComponent(email)}`).get().catch(() => undefined);
    });
    const batched = await timeIt('GraphDirectory.lookupAccounts ($batch of 20, 4 in flight)', 5, () => directory.lookupAccounts(many));
    ratios.push(['batched look-ups / one request per account', batched / oneByOne]);
  } finally {
    await graph.close();
  }

  process.stdout.write(`Memory\n`);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const retained = Array.from({ length: 10 }, () => screenAccounts(input, context));
  const perRequest = (process.memoryUsage().heapUsed - before) / retained.length;
  const inputBytes = Buffer.byteLength(JSON.stringify(input));
  process.stdout.write(`  heap per screened request of ${ACCOUNTS}: ${(perRequest / 1024).toFixed(0)} KiB (input as JSON: ${(inputBytes / 1024).toFixed(0)} KiB)\n`);
  ratios.push(['heap per screening / input JSON size', perRequest / inputBytes]);

  process.stdout.write('\nRatios (lower is better; baselines measured in this run)\n');
  for (const [label, ratio] of ratios) process.stdout.write(`  ${label.padEnd(48)} ${ratio.toFixed(2)}\n`);
}

void main();

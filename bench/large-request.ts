import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { renderOpsRequestCard } from '../cards/ops-request';
import { requestJson } from '../bot/workspace/workspace-api';
import { silentLogger } from '../core/log';
import type { StoredRequest } from '../services/model';
import { TransferRequests } from '../services/requests/transfer-requests';
import { AuditLog } from '../services/store/audit';
import type { SqlDatabase } from '../services/store/database';
import { QueueRepository } from '../services/store/queue';
import { loadBankHolidays } from '../services/working-days';
import { WorkspaceAudit } from '../services/workspace-audit';
import { WorkspaceQueue } from '../services/workspace-queue';
import { requestDetails, screenedAccount } from '../test/support/fixtures';

/**
 * `npm run bench` (workspace, large requests; issue 23 "Also"): a request of 500 accounts (the
 * form's limit) against one of 20, in the same run on the same database: the ops card as the
 * outbox renders it (read the request, render the card), the workspace's request view (read,
 * audit trail, the JSON the page gets), and approve-all (approve every eligible account, one
 * transaction). Each printed as the 500-account median over the 20-account one; the accounts
 * grow 25 times, so a ratio near 25 means the work grows with the list, near 1 that it does not.
 */
const SIZES = [20, 500] as const;
const RUNS = 15;
const REVIEWER = { id: '6e6d7300-0000-4000-8000-000000000131', name: 'Tom Ashdown' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(runs: number, work: (run: number) => Promise<unknown>): Promise<number> {
  await work(-1);
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await work(run);
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function measureLargeRequests(db: SqlDatabase): Promise<void> {
  const requests = new TransferRequests(db, { workQueued: () => undefined, checksQueued: () => undefined }, silentLogger);
  const audit = new WorkspaceAudit(new AuditLog(db));
  const queue = new WorkspaceQueue(new QueueRepository(db), loadBankHolidays(), { overdueAfterWorkingDays: 3 });
  const submit = async (size: number, tag: string): Promise<number> => {
    const requester = { id: randomUUID(), name: 'Bench Requester' };
    const { request } = await requests.submit({
      ...requestDetails(requester),
      draftId: randomUUID(),
      accounts: Array.from({ length: size }, (_, index) =>
        screenedAccount(index + 1, `large.${tag}.${index + 1}@nhsmail.example`, index % 5 === 4 ? 'review' : 'eligible'),
      ),
    });
    // Under review, as approve-all needs it.
    await requests.claim(request.id, REVIEWER);
    return request.id;
  };

  process.stdout.write(`\nLarge requests: ${SIZES[1]} accounts against ${SIZES[0]}, same run, median of ${RUNS}\n`);
  const figures = new Map<string, number[]>();
  for (const size of SIZES) {
    const viewed = await submit(size, `view${size}`);
    // Approve-all changes the request: one fresh request per run (and one to warm up).
    const toApprove: number[] = [];
    for (let run = 0; run <= RUNS; run++) toApprove.push(await submit(size, `approve${size}.${run}`));
    const card = await timed(RUNS, async () => renderOpsRequestCard((await requests.get(viewed)) as StoredRequest));
    const view = await timed(RUNS, async () =>
      JSON.stringify(await requestJson((await requests.get(viewed)) as StoredRequest, REVIEWER, { audit, queue, tenantId: 'bench' })),
    );
    const approve = await timed(RUNS, async (run) => requests.approveEligible(toApprove[run + 1]!, REVIEWER));
    for (const [label, ms] of [
      ['ops card (read and render)', card],
      ['workspace request view (read, audit, JSON)', view],
      ['approve-all (every eligible account)', approve],
    ] as const)
      figures.set(label, [...(figures.get(label) ?? []), ms]);
  }
  for (const [label, [small, large]] of figures)
    process.stdout.write(
      `  ${label.padEnd(46)} ${SIZES[0]}: ${small!.toFixed(1).padStart(7)} ms   ${SIZES[1]}: ${large!.toFixed(1).padStart(7)} ms   ratio ${(large! / small!).toFixed(2)}\n`,
    );
}

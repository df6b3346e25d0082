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
/** Runs of each size before the timed ones: the first renders and statements warm the JIT and the plan cache, for whichever size went first. */
const WARM_UP = 3;
const REVIEWER = { id: '6e6d7300-0000-4000-8000-000000000131', name: 'Tom Ashdown' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The median time of `work` on each size, the two sizes taking turns run by run (which goes
 * first alternating too), after WARM_UP runs of each: timed one size after the other, the first
 * size paid for the warm-up and the second had the machine as the other helpers left it, and the
 * ratio said more about that than about the size (the ops card once measured 0.5x).
 */
async function timedBySize(work: (size: number, run: number) => Promise<unknown>): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let run = 0; run < WARM_UP + RUNS; run++) {
    const order = run % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const started = performance.now();
      await work(SIZES[which]!, run);
      if (run >= WARM_UP) times[which]!.push(performance.now() - started);
    }
  }
  return [median(times[0]), median(times[1])];
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
  const viewed = new Map<number, number>();
  // Approve-all changes the request: one fresh request per run, warm-up runs included.
  const toApprove = new Map<number, number[]>();
  for (const size of SIZES) {
    viewed.set(size, await submit(size, `view${size}`));
    const fresh: number[] = [];
    for (let run = 0; run < WARM_UP + RUNS; run++) fresh.push(await submit(size, `approve${size}.${run}`));
    toApprove.set(size, fresh);
  }
  const figures = new Map<string, [number, number]>([
    ['ops card (read and render)', await timedBySize(async (size) => renderOpsRequestCard((await requests.get(viewed.get(size)!)) as StoredRequest))],
    [
      'workspace request view (read, audit, JSON)',
      await timedBySize(async (size) =>
        JSON.stringify(await requestJson((await requests.get(viewed.get(size)!)) as StoredRequest, REVIEWER, { audit, queue, tenantId: 'bench' })),
      ),
    ],
    ['approve-all (every eligible account)', await timedBySize(async (size, run) => requests.approveEligible(toApprove.get(size)![run]!, REVIEWER))],
  ]);
  for (const [label, [small, large]] of figures)
    process.stdout.write(
      `  ${label.padEnd(46)} ${SIZES[0]}: ${small.toFixed(1).padStart(7)} ms   ${SIZES[1]}: ${large.toFixed(1).padStart(7)} ms   ratio ${(large / small).toFixed(2)}\n`,
    );
}

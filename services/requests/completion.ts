import type { Actor } from '../model';
import { appendAudit } from '../store/audit';
import type { SqlExecutor } from '../store/database';
import { enqueue, owed } from '../store/outbox';
import { completeWhen } from '../store/request-checks';
import { meets, REQUEST_CONDITIONS, type LifecycleRequest } from './lifecycle';
import { requestSql } from './request-conditions';

const READY_TO_COMPLETE_SQL = requestSql(REQUEST_CONDITIONS.readyToComplete);

/**
 * The one way a request completes, inside the transaction of the change that may have made it
 * ready (a transfer marked, confirmed in the directory, or overridden): when it meets the
 * lifecycle's `readyToComplete` (at least one approved account, every approved one moved or
 * overridden) it completes, the completion is audited once and the requester is owed the news.
 * Their outcome card is rendered from the request as it is, so it owes its update too: left as
 * it was, it would go on showing a request still waiting for its transfers.
 * True for the call that completed it.
 */
export async function completeIfReady(tx: SqlExecutor, request: { id: number; requester: Pick<Actor, 'id'> }, actor: Actor): Promise<boolean> {
  if (!(await completeWhen(tx, request.id, READY_TO_COMPLETE_SQL))) return false;
  await appendAudit(tx, actor, 'request.completed', request.id, null, { before: { status: 'decided' }, after: { status: 'completed' } });
  await enqueue(tx, owed.completion(request.id, request.requester.id));
  await enqueue(tx, owed.outcomeUpdate(request.id, request.requester.id));
  return true;
}

/**
 * A change to a request whose outcome the requester is owed (told, or on its way) reaches them:
 * a message naming the change (its audit event `auditId`: what, by whom, why; of it, only
 * `accountIds` when given), and their outcome card brought up to date in place. Before the
 * outcome is owed nothing is needed: it is rendered from the request as it is when it goes.
 */
export async function tellRequesterOfChange(
  tx: SqlExecutor,
  request: LifecycleRequest & { id: number },
  auditId: number,
  accountIds?: readonly number[],
): Promise<boolean> {
  if (!meets(request, 'outcomeOwed')) return false;
  await enqueue(tx, owed.outcomeChanged(request.id, request.requester.id, auditId, accountIds));
  await enqueue(tx, owed.outcomeUpdate(request.id, request.requester.id));
  return true;
}

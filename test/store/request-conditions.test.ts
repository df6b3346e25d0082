import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Decision, RequestStatus } from '../../services/model';
import { REQUEST_CONDITIONS, type RequestConditionName } from '../../services/requests/lifecycle';
import { requestMeets, requestSql, type ConditionRequest } from '../../services/requests/request-conditions';
import { insertAccounts, insertRequest } from '../../services/store/requests';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount } from '../support/fixtures';

/**
 * The lifecycle's conditions are written once and read twice: in TypeScript and as SQL. On
 * generated request states, both readings pick the same requests, on PGlite and on PostgreSQL.
 */
interface GeneratedAccount {
  decision: Decision | null;
  transferred: boolean;
  confirmed: boolean;
  overridden: boolean;
}
const accountArbitrary = fc.record<GeneratedAccount>({
  decision: fc.constantFrom<Decision | null>(null, 'approved', 'rejected'),
  transferred: fc.boolean(),
  confirmed: fc.boolean(),
  overridden: fc.boolean(),
});
const requestArbitrary = fc.record({
  status: fc.constantFrom<RequestStatus>('submitted', 'in_review', 'decided', 'completed', 'withdrawn'),
  accounts: fc.array(accountArbitrary, { minLength: 0, maxLength: 4 }),
});

const asCondition = (generated: { status: RequestStatus; accounts: GeneratedAccount[] }): ConditionRequest => ({
  status: generated.status,
  accounts: generated.accounts.map((account) => ({
    decision: account.decision,
    transferredAt: account.transferred ? new Date() : null,
    transferConfirmedAt: account.confirmed ? new Date() : null,
    transferOverride: account.overridden ? { by: { id: 'x', name: 'X' }, at: new Date(), reason: 'r' } : null,
  })),
});

describeOnEachDatabase('request conditions: TypeScript and SQL agree', (db) => {
  it('on generated request states, for every condition', async function () {
    this.timeout(60_000);
    const states = fc.sample(requestArbitrary, { numRuns: 60, seed: 21 });
    // The cases that matter most are always among them: nothing approved, and every approved moved.
    states.push(
      { status: 'decided', accounts: [{ decision: 'rejected', transferred: false, confirmed: false, overridden: false }] },
      { status: 'decided', accounts: [] },
      { status: 'decided', accounts: [{ decision: 'approved', transferred: true, confirmed: false, overridden: true }] },
    );
    const ids: number[] = [];
    for (const state of states) {
      const { id } = await db().transaction(async (tx) => {
        const inserted = await insertRequest(tx, { ...requestDetails({ id: 'priya', name: 'Priya' }), draftId: randomUUID() });
        await insertAccounts(
          tx,
          inserted.id,
          state.accounts.map((_, index) => screenedAccount(index + 1, `c${inserted.id}.${index}@nhsmail.example`, 'review')),
        );
        await tx.query('UPDATE transfer_requests SET status = $2 WHERE id = $1', [inserted.id, state.status]);
        for (const [index, account] of state.accounts.entries()) {
          await tx.query(
            `UPDATE request_accounts SET decision = $3, decided_at = CASE WHEN $3::text IS NOT NULL THEN now() END,
               transferred_at = CASE WHEN $4 THEN now() END,
               transfer_confirmed_at = CASE WHEN $5 THEN now() END,
               transfer_overridden_at = CASE WHEN $6 THEN now() END, transfer_overridden_by_id = CASE WHEN $6 THEN 'x' END
             WHERE request_id = $1 AND position = $2`,
            [inserted.id, index + 1, account.decision, account.transferred, account.confirmed, account.overridden],
          );
        }
        return inserted;
      });
      ids.push(id);
    }
    for (const name of Object.keys(REQUEST_CONDITIONS) as RequestConditionName[]) {
      const rows = await db().query<{ id: number }>(`SELECT r.id FROM transfer_requests r WHERE ${requestSql(REQUEST_CONDITIONS[name])}`);
      const bySql = new Set(rows.map((row) => row.id));
      states.forEach((state, index) => {
        assert.equal(bySql.has(ids[index]!), requestMeets(asCondition(state), REQUEST_CONDITIONS[name]), `${name} on ${JSON.stringify(state)}`);
      });
    }
  });

  it('never completes a request with nothing approved (the definition itself)', () => {
    assert.equal(requestMeets(asCondition({ status: 'decided', accounts: [] }), REQUEST_CONDITIONS.readyToComplete), false);
    assert.equal(
      requestMeets(
        asCondition({ status: 'decided', accounts: [{ decision: 'rejected', transferred: false, confirmed: false, overridden: false }] }),
        REQUEST_CONDITIONS.readyToComplete,
      ),
      false,
    );
  });
});

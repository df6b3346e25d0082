import assert from 'node:assert/strict';
import { AuditLog, appendAccountAuditsEach, appendAudit } from '../../services/store/audit';
import { countingDatabase } from '../support/counting-database';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../core/log';
import { TransferRequests } from '../../services/requests/transfer-requests';
import { requestDetails, screenedAccount } from '../support/fixtures';
import { describeOnEachDatabase } from '../support/databases';

const ops = { id: 'ops-1', name: 'Olu Ops' };

/** The database error for a refused statement, or undefined when it was allowed. */
async function refusal(run: () => Promise<unknown>): Promise<{ code?: string; message: string } | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error as { code?: string; message: string };
  }
}

describeOnEachDatabase('audit_events is append-only', (db) => {
  beforeEach(async () => {
    await new AuditLog(db()).record(ops, 'request.exported', null, { reference: 'NTR-100001', note: 'personal words' });
  });

  const stored = () =>
    db().query<{ action: string; actor_name: string; detail: Record<string, unknown> }>('SELECT action, actor_name, detail FROM audit_events ORDER BY id');

  for (const [what, sql] of [
    ['an UPDATE', "UPDATE audit_events SET action = 'request.rewritten'"],
    ['a DELETE', 'DELETE FROM audit_events'],
    ['a TRUNCATE', 'TRUNCATE audit_events'],
    ['an UPDATE that only narrows detail, outside the purge', "UPDATE audit_events SET detail = detail - 'note'"],
  ] as const) {
    it(`refuses ${what} and leaves the row as it was`, async () => {
      const error = await refusal(() => db().query(sql));
      assert.ok(error, 'the statement must be refused');
      assert.equal(error.code, '42501');
      assert.match(error.message, /audit_events is append-only/);
      assert.deepEqual(await stored(), [{ action: 'request.exported', actor_name: 'Olu Ops', detail: { reference: 'NTR-100001', note: 'personal words' } }]);
    });
  }

  it('still accepts new events', async () => {
    await appendAudit(db(), ops, 'request.claimed', null, null, {});
    assert.deepEqual(
      (await stored()).map((row) => row.action),
      ['request.exported', 'request.claimed'],
    );
  });

  it('lets the purge path only take information away, and only inside its own transaction', async () => {
    const purge = (sql: string) =>
      db().transaction(async (tx) => {
        await tx.query("SELECT set_config('nas.audit_purge', 'on', true)");
        await tx.query(sql);
      });
    // Narrowing detail and blanking the actor's name: allowed.
    await purge("UPDATE audit_events SET detail = detail - 'note', actor_name = ''");
    assert.deepEqual(await stored(), [{ action: 'request.exported', actor_name: '', detail: { reference: 'NTR-100001' } }]);
    // Widening or rewriting detail, renaming the actor, or touching the skeleton: refused even on the purge path.
    for (const sql of [
      `UPDATE audit_events SET detail = '{"reference": "NTR-999999"}'`,
      `UPDATE audit_events SET detail = detail || '{"added": true}'`,
      "UPDATE audit_events SET actor_name = 'Someone Else'",
      "UPDATE audit_events SET action = 'request.rewritten'",
      "UPDATE audit_events SET actor_id = 'ops-2'",
      "UPDATE audit_events SET occurred_at = occurred_at - interval '1 day'",
      'DELETE FROM audit_events',
    ]) {
      const error = await refusal(() => purge(sql));
      assert.equal(error?.code, '42501', sql);
    }
    // The setting died with the transaction: the next plain statement is refused again.
    assert.equal((await refusal(() => db().query("UPDATE audit_events SET detail = '{}'")))?.code, '42501');
    assert.deepEqual(await stored(), [{ action: 'request.exported', actor_name: '', detail: { reference: 'NTR-100001' } }]);
  });
});

describeOnEachDatabase('one audit event per account, each with its own detail, in one statement', (db) => {
  it('writes each account’s event with its own detail, in the order given, in one round trip', async () => {
    const { request } = await new TransferRequests(db(), { workQueued: () => undefined, checksQueued: () => undefined }, silentLogger).submit({
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'one@nhsmail.example', 'eligible'), screenedAccount(2, 'two@nhsmail.example', 'eligible')],
    });
    const [first, second] = request.accounts.map((account) => account.id);
    const counting = countingDatabase(db());
    await appendAccountAuditsEach(counting.db, ops, 'account.transfer_confirmed', request.id, [
      { accountId: second!, detail: { state: 'marked', organisationOds: 'X26' } },
      { accountId: first!, detail: { state: 'approved', organisationOds: null } },
    ]);
    assert.equal(counting.statements.length, 1);
    assert.deepEqual(
      await db().query(`SELECT actor_name, request_id, account_id, detail FROM audit_events WHERE action = 'account.transfer_confirmed' ORDER BY id`),
      [
        { actor_name: 'Olu Ops', request_id: request.id, account_id: second, detail: { state: 'marked', organisationOds: 'X26' } },
        { actor_name: 'Olu Ops', request_id: request.id, account_id: first, detail: { state: 'approved', organisationOds: null } },
      ],
    );
  });
});

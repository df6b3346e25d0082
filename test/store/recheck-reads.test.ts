import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../core/log';
import type { ScreenedAccount } from '../../services/eligibility/types';
import { RequestRechecks } from '../../services/requests/recheck';
import { countingDatabase } from '../support/counting-database';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

const PRIYA = { id: '6e6d7300-0000-4000-8000-000000000128', name: 'Priya Okafor' };
const TOM = { id: '6e6d7300-0000-4000-8000-000000000201', name: 'Tom Ashdown' };
const POLICY = { nasOrganisations: new Set(['NAS']), transferCheckMinutes: 60, transferChaseWorkingDays: 10, holidays: new Set<string>() };

/**
 * A re-check holds the database as little as it can (issue 23: on PGlite every turn waits behind
 * it): the request and its accounts are read once to screen them and once under the request's
 * lock to record what was found, and not a third time to decide whether more re-checks are owed.
 */
describeOnEachDatabase('re-checks: reads of the request', (db) => {
  async function claimedRequest(accounts: number) {
    await db().query('DELETE FROM request_checks');
    const requests = transferRequests(db());
    const { request } = await requests.submit({
      ...requestDetails(PRIYA),
      draftId: randomUUID(),
      accounts: Array.from({ length: accounts }, (_, index) => screenedAccount(index + 1, `recheck.${randomUUID().slice(0, 8)}@nhsmail.example`, 'eligible')),
    });
    // Taken up: a re-check is owed now.
    await requests.claim(request.id, TOM);
    return { requests, request };
  }

  /** Screens every account as it was submitted; `during` runs while the screening is under way. */
  const screening = (during: () => Promise<void> = async () => {}) => ({
    screen: async (_org: string, entries: ReadonlyArray<{ position: number; email: string }>) => {
      await during();
      return { policyVersion: 'test', accounts: entries.map((entry): ScreenedAccount => screenedAccount(entry.position, entry.email, 'eligible')) };
    },
  });
  const directory = { lookupAccounts: () => Promise.reject(new Error('no transfer check here')) };

  it('reads the request twice, to screen it and under its lock, and owes the next daily re-check', async () => {
    const { request } = await claimedRequest(20);
    const counted = countingDatabase(db());
    const rechecks = new RequestRechecks(counted.db, screening(), directory, POLICY, { workQueued() {} }, silentLogger);
    await rechecks.runDue();
    const requestReads = counted.statements.filter((sql) => sql.startsWith('SELECT r.*'));
    assert.equal(requestReads.length, 2, `the request was read ${requestReads.length} times:\n${requestReads.map((sql) => sql.slice(0, 60)).join('\n')}`);
    const [recorded] = await db().query<{ rechecked: number }>(
      'SELECT count(*)::int AS rechecked FROM request_accounts WHERE request_id = $1 AND rechecked_at IS NOT NULL',
      [request.id],
    );
    assert.equal(recorded?.rechecked, 20, 'every account re-checked is recorded');
    const [next] = await db().query<{ in_hours: number }>(
      `SELECT extract(epoch FROM due_at - now()) / 3600 AS in_hours FROM request_checks WHERE request_id = $1 AND kind = 'recheck'`,
      [request.id],
    );
    assert.ok(next && next.in_hours > 23, 'still open: the next re-check is due in a day');
  });

  it('owes no more re-checks of a request withdrawn while its accounts were being screened, and keeps what was found', async () => {
    const { requests, request } = await claimedRequest(3);
    const rechecks = new RequestRechecks(
      db(),
      screening(() => requests.withdraw(request.id, PRIYA).catch(() => undefined)),
      directory,
      POLICY,
      { workQueued() {} },
      silentLogger,
    );
    await rechecks.runDue();
    assert.equal((await requests.get(request.id))?.status, 'withdrawn');
    assert.deepEqual(await db().query(`SELECT 1 FROM request_checks WHERE request_id = $1 AND kind = 'recheck'`, [request.id]), []);
    const [recorded] = await db().query<{ rechecked: number }>(
      'SELECT count(*)::int AS rechecked FROM request_accounts WHERE request_id = $1 AND rechecked_at IS NOT NULL',
      [request.id],
    );
    assert.equal(recorded?.rechecked, 3);
  });
});

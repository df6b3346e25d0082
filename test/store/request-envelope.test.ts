import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../core/log';
import { ChaseScheduler } from '../../services/chasing';
import { RequestRechecks } from '../../services/requests/recheck';
import { signalledDatabase } from '../../services/requests/request-envelope';
import { TransferRequests } from '../../services/requests/transfer-requests';
import { enqueue, Outbox, owed } from '../../services/store/outbox';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount } from '../support/fixtures';

const TOM = { id: 'ops-tom', name: 'Tom Ashdown' };
const PRIYA = { id: 'priya', name: 'Priya Okafor' };

/** Every change to a request goes through one envelope, whose after-commit hook wakes the workers for what was owed, and only that. */
describeOnEachDatabase('the request envelope: the workers are woken after the commit, for what was owed', (db) => {
  it('wakes the delivery worker for owed messages and the checks worker only for owed checks; nothing for a refused change', async () => {
    const woken: string[] = [];
    const requests = new TransferRequests(db(), { workQueued: () => woken.push('messages'), checksQueued: () => woken.push('checks') }, silentLogger);
    const { request } = await requests.submit({
      ...requestDetails(PRIYA),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'a@nhsmail.example', 'eligible')],
    });
    assert.deepEqual(woken.splice(0), ['messages'], 'the card is owed');

    await requests.claim(request.id, TOM);
    assert.deepEqual(woken.splice(0), ['messages', 'checks'], 'the card update, and the re-check the claim owes');

    await requests.ask(request.id, TOM, 'Which site?');
    assert.deepEqual(woken.splice(0), ['messages'], 'a question owes messages, no check');

    await assert.rejects(requests.claim(request.id, TOM), { code: 'INVALID_INPUT' });
    assert.deepEqual(woken, [], 'a refused change commits nothing and wakes nobody');
  });
});

/** The bot's own work (the daily check sweep, reminders, retention, register notices) wakes the workers through the same hook: app.ts wires one signal. */
describeOnEachDatabase('the after-commit hook for the bot’s own work', (db) => {
  const RECHECK_POLICY = { nasOrganisations: new Set(['NAS']), transferCheckMinutes: 60, transferChaseWorkingDays: 10, holidays: new Set<string>() };

  it('the daily sweep wakes the checks worker after its owed checks commit (old: woken by hand in app.ts)', async () => {
    await db().query('DELETE FROM request_checks');
    const woken: string[] = [];
    const signal = { workQueued: () => woken.push('messages'), checksQueued: () => woken.push('checks') };
    const requests = new TransferRequests(db(), { workQueued() {} }, silentLogger);
    await requests.submit({ ...requestDetails(PRIYA), draftId: randomUUID(), accounts: [screenedAccount(1, 'sweep@nhsmail.example', 'eligible')] });
    const rechecks = new RequestRechecks(
      db(),
      { screen: () => Promise.reject(new Error('not run')) },
      { lookupAccounts: () => Promise.reject(new Error('not run')) },
      RECHECK_POLICY,
      signal,
      silentLogger,
    );

    assert.ok((await rechecks.sweep()) > 0, 'the open request owes its daily re-check');
    assert.deepEqual(woken.splice(0), ['checks']);
    assert.equal(await rechecks.sweep(), 0);
    assert.deepEqual(woken.splice(0), ['checks'], 'the statement ran: the worker looks, finds nothing new (a spare look is harmless)');
  });

  it('reminders wake the delivery worker after the reminder is owed', async () => {
    const woken: string[] = [];
    const requests = new TransferRequests(db(), { workQueued() {} }, silentLogger);
    const { request } = await requests.submit({
      ...requestDetails(PRIYA),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'late@nhsmail.example', 'eligible')],
    });
    const chasing = new ChaseScheduler(db(), new Set(), { afterWorkingDays: 1 }, silentLogger, { workQueued: () => woken.push('messages') });
    assert.ok((await chasing.flagOverdue(new Date(Date.now() + 14 * 24 * 60 * 60 * 1000))) > 0);
    assert.ok(woken.includes('messages'));
    const owedChase = await db().query(`SELECT 1 FROM outbox WHERE request_id = $1 AND kind = 'ops.chase'`, [request.id]);
    assert.equal(owedChase.length, 1, 'the reminder is owed in the outbox');
  });

  it('a signalled database wakes after a single statement commits, and not for a transaction that rolled back', async () => {
    const woken: string[] = [];
    const signalled = signalledDatabase(db(), { workQueued: () => woken.push('messages'), checksQueued: () => woken.push('checks') });
    await new Outbox(signalled).enqueue(owed.sourceProblem({ register: 'dspt', file: 'dspt.csv', message: 'held back', keptPrevious: true }, new Date()));
    assert.deepEqual(woken.splice(0), ['messages']);
    await assert.rejects(
      signalled.transaction(async (tx) => {
        await enqueue(tx, owed.sourceProblem({ register: 'dspt', file: 'other.csv', message: 'held back', keptPrevious: true }, new Date()));
        throw new Error('rolled back');
      }),
    );
    assert.deepEqual(woken, [], 'nothing committed: nobody woken');
  });
});

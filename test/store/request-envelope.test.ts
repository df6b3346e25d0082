import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../core/log';
import { TransferRequests } from '../../services/requests/transfer-requests';
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

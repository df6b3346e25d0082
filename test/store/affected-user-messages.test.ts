import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Draft } from '../../services/duties/drafts';
import { AffectedUserMailStore } from '../../services/store/affected-user-messages';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

/**
 * A message to an affected user replaced while it was owed (the decision corrected, Send pressed
 * again) is settled only as the message it now is: the older round, sending or giving up the
 * earlier text, cannot mark the current one sent or superseded, so it is still owed and goes.
 */
describeOnEachDatabase('an affected user’s message replaced while owed', (db) => {
  const priya = { id: 'priya', name: 'Priya Okafor' };

  async function owedThenReplaced() {
    const { request } = await transferRequests(db()).submit({
      ...requestDetails(priya),
      draftId: randomUUID(),
      accounts: [screenedAccount(1, 'dev@x.example', 'review')],
    });
    const draft = (group: Draft['group'], body: string): Draft => ({
      accountId: request.accounts[0]!.id,
      to: 'dev@x.example',
      name: 'Dev Rao',
      group,
      subject: 'Your account',
      body,
    });
    const store = new AffectedUserMailStore(db());
    assert.equal((await store.queue(request.id, 'outcome', priya, [draft('keptLocally', 'It will not be moved.')])).queued, 1);
    const replaced = await store.queue(request.id, 'outcome', priya, [draft('transferring', 'It will be moved.')]);
    assert.deepEqual(replaced, { queued: 1, alreadySent: 0, alreadyQueued: 0, corrected: 0 });
    const [row] = await db().query<{ id: string | number; round: number }>('SELECT id, round FROM affected_user_messages WHERE request_id = $1', [request.id]);
    const owed = await db().query<{ dedupe_key: string }>(`SELECT dedupe_key FROM outbox WHERE kind = 'duties.mail' AND request_id = $1 ORDER BY id`, [
      request.id,
    ]);
    return { store, request, id: Number(row!.id), round: row!.round, owed: owed.map((each) => each.dedupe_key) };
  }

  it('owes the replacement in a new round, and the older round cannot mark it sent', async () => {
    const { store, id, round, owed } = await owedThenReplaced();
    assert.equal(round, 2);
    assert.deepEqual(owed, [`duties.mail:${id}:1`, `duties.mail:${id}:2`]);
    await db().transaction((tx) => AffectedUserMailStore.sent(id, 'keptLocally')(tx));
    const still = await store.message(id);
    assert.equal(still?.status, 'pending');
    assert.equal(still?.body, 'It will be moved.');
    await db().transaction((tx) => AffectedUserMailStore.sent(id, 'transferring')(tx));
    assert.equal((await store.message(id))?.status, 'sent');
  });

  it('the older round cannot give the replacement up as superseded', async () => {
    const { store, id } = await owedThenReplaced();
    await store.fail(id, 'SUPERSEDED', 'keptLocally');
    assert.equal((await store.message(id))?.status, 'pending');
    await store.fail(id, 'SUPERSEDED', 'transferring');
    const failed = await store.message(id);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.errorCode, 'SUPERSEDED');
  });
});

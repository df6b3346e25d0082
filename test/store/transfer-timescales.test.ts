import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TransferTimescaleHistory } from '../../services/store/transfer-timescales';
import { describeOnEachDatabase } from '../support/databases';
import { requestDetails, screenedAccount, transferRequests } from '../support/fixtures';

describeOnEachDatabase('the measured history of transfer timescales', (db) => {
  const NOW = new Date('2026-12-06T12:00:00Z');

  /** A request submitted at `created`, decided at `decided`, its approved accounts confirmed moved at `confirmed` (one per entry; null: not seen moved). */
  async function request(created: string, decided: string | null, confirmed: Array<string | null> = [], completed = false): Promise<number> {
    const requests = transferRequests(db());
    const accounts =
      confirmed.length === 0
        ? [screenedAccount(1, `a-${randomUUID()}@nhs.net`, 'eligible')]
        : confirmed.map((_, index) => screenedAccount(index + 1, `a${index}-${randomUUID()}@nhs.net`, 'eligible'));
    const { request: stored } = await requests.submit({ ...requestDetails({ id: 'priya', name: 'Priya Okafor' }), draftId: randomUUID(), accounts });
    await db().query('UPDATE transfer_requests SET created_at = $2, decided_at = $3, completed_at = $4 WHERE id = $1', [
      stored.id,
      created,
      decided,
      completed ? decided : null,
    ]);
    for (const [index, at] of confirmed.entries()) {
      await db().query(
        `UPDATE request_accounts SET decision = 'approved', decided_at = $3, decided_by_id = 'ops', decided_by_name = 'Ops', transfer_confirmed_at = $4
         WHERE request_id = $1 AND position = $2`,
        [stored.id, index + 1, decided, at],
      );
    }
    return stored.id;
  }

  it('counts requests decided in the last 90 days, from submission to decision', async () => {
    await request('2026-11-02T10:00:00Z', '2026-11-05T10:00:00Z');
    await request('2026-08-01T10:00:00Z', '2026-08-20T10:00:00Z'); // decided more than 90 days ago
    await request('2026-12-01T10:00:00Z', null); // not decided
    const samples = await new TransferTimescaleHistory(db()).decisions(NOW);
    assert.deepEqual(
      samples.map((sample) => [sample.from.toISOString(), sample.to.toISOString()]),
      [['2026-11-02T10:00:00.000Z', '2026-11-05T10:00:00.000Z']],
    );
  });

  it('counts a completed request from submission to its last account seen moved, and leaves out one completed on a claim', async () => {
    await request('2026-11-02T10:00:00Z', '2026-11-05T10:00:00Z', ['2026-11-09T10:00:00Z', '2026-11-12T10:00:00Z'], true);
    await request('2026-11-02T10:00:00Z', '2026-11-05T10:00:00Z', ['2026-11-09T10:00:00Z', null], true); // one account overridden
    await request('2026-11-02T10:00:00Z', '2026-11-05T10:00:00Z', ['2026-11-09T10:00:00Z'], false); // not complete
    const samples = await new TransferTimescaleHistory(db()).transfers(NOW);
    assert.deepEqual(
      samples.map((sample) => [sample.from.toISOString(), sample.to.toISOString()]),
      [['2026-11-02T10:00:00.000Z', '2026-11-12T10:00:00.000Z']],
    );
  });
});

import assert from 'node:assert/strict';
import { silentLogger } from '../../core/log';
import { DEFAULT_DELIVERY_POLICY, DeliveryEngine, DeliveryFailure, type DeliveryHandler, type DeliveryHandlers } from '../../services/outbox/delivery-engine';
import { owed, owedContent } from '../../services/outbox/owed-messages';
import type { SqlDatabase } from '../../services/store/database';
import { Outbox, type Delivery } from '../../services/store/outbox';
import { pgliteDatabase } from '../support/databases';

/**
 * The outbox as a worker whose timer fires early sees it: the first "next row due in n ms" it
 * answers is `earlyMs` short, so the engine wakes before the database's clock says the row is
 * due. Node does this by itself now and then, by a millisecond or two (a timer is measured from
 * the event loop's cached clock); here by more, so that it happens every time.
 */
class EarlyWakingOutbox extends Outbox {
  private early: boolean = true;

  constructor(
    db: SqlDatabase,
    private readonly earlyMs: number,
  ) {
    super(db);
  }

  override async nextDueInMs(withinMs: number): Promise<number | undefined> {
    const inMs = await super.nextDueInMs(withinMs);
    if (inMs === undefined || inMs === 0 || !this.early) return inMs;
    this.early = false;
    return Math.max(1, inMs - this.earlyMs);
  }
}

function everyKind(handler: DeliveryHandler<Delivery>): DeliveryHandlers {
  const kinds = owedContent.options.map((option) => option.shape.kind.value);
  return Object.fromEntries(kinds.map((kind) => [kind, handler])) as DeliveryHandlers;
}

describe('the delivery engine’s look-ahead (against the outbox on PGlite)', function () {
  this.timeout(60_000);
  let db: SqlDatabase;
  before(async () => {
    db = await pgliteDatabase().open();
  });
  after(() => db?.close());
  beforeEach(async () => {
    await db.query('DELETE FROM outbox');
  });

  const engineOver = (outbox: Outbox, sent: string[]) =>
    new DeliveryEngine(
      outbox,
      everyKind({
        deliver: async (delivery, call) => {
          await call(async () => sent.push(delivery.kind));
          return undefined;
        },
      }),
      (error) => (error instanceof DeliveryFailure ? error : new DeliveryFailure(undefined, undefined)),
      silentLogger,
      DEFAULT_DELIVERY_POLICY,
      () => 0,
    );
  const status = async () => (await db.query<{ status: string }>('SELECT status FROM outbox'))[0]?.status;

  it('delivers, in the same round, a row falling due within the look-ahead even when its timer fires before the row is due', async () => {
    const outbox = new EarlyWakingOutbox(db, 150);
    await outbox.enqueue(owed.screeningResults('paced', 1, 'u1'));
    // Paced: due in 400 ms, inside the 2 s look-ahead.
    await db.query(`UPDATE outbox SET due_at = clock_timestamp() + interval '400 milliseconds'`);
    const sent: string[] = [];
    const started = performance.now();
    assert.equal(await engineOver(outbox, sent).deliverDue(), true, 'the round reports it found work');
    assert.deepEqual(sent, ['screening.results']);
    assert.equal(await status(), 'delivered');
    assert.ok(performance.now() - started >= 390, 'not before it was due');
  });

  it('reports nothing to do, without waiting, when no row falls due within the look-ahead', async () => {
    const outbox = new EarlyWakingOutbox(db, 150);
    await outbox.enqueue(owed.screeningResults('later', 1, 'u1'));
    await db.query(`UPDATE outbox SET due_at = clock_timestamp() + interval '30 seconds'`);
    const sent: string[] = [];
    const started = performance.now();
    assert.equal(await engineOver(outbox, sent).deliverDue(), false);
    assert.deepEqual(sent, []);
    assert.equal(await status(), 'pending');
    assert.ok(performance.now() - started < 1000, 'it did not sleep for the row 30 s away');
  });
});

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dsptRegisterSource } from '../../services/reference/registers';
import { RegisterContents } from '../../services/store/register-contents';
import { describeOnEachDatabase } from '../support/databases';

const DAY_MS = 24 * 60 * 60 * 1000;
const EXPORT = [
  'Code,Organisation Name,Status,Date Of Publication,Primary Sector',
  'A1B2C,Harbour Lane Pharmacy,25/26 Standards Met,28/06/2026,Pharmacy',
  'D3E4F,Quayside Care Home,25/26 Approaching Standards,29/06/2026,Social Care',
].join('\r\n');

describeOnEachDatabase('register contents: a DSPT copy whose name is gone is dated by when the bot first saw its content (issue 22)', (db) => {
  it('a renamed copy with a new modified time keeps the age the content had when first seen; other instances agree', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'register-contents-'));
    const firstSeen = new Date('2026-11-01T09:00:00Z');
    const original = path.join(folder, 'dspt.csv');
    writeFileSync(original, EXPORT);
    const first = await dsptRegisterSource(original, { ledger: new RegisterContents(db()), now: () => firstSeen }).current();
    assert.equal(first.snapshot.fileDate, firstSeen.toISOString());
    assert.equal(first.snapshot.dateSource, 'first-seen');

    // A month later, the same content under another name, written now: another instance, after a restart.
    const renamed = path.join(folder, 'register-latest.csv');
    copyFileSync(original, renamed);
    utimesSync(renamed, new Date(), new Date());
    const later = new Date(firstSeen.getTime() + 30 * DAY_MS);
    const copy = await dsptRegisterSource(renamed, { ledger: new RegisterContents(db()), now: () => later }).current();
    assert.equal(copy.snapshot.fileDate, firstSeen.toISOString(), 'dated by the content, not by the copy');
    assert.equal(copy.snapshot.dateSource, 'first-seen');

    const rows = await db().query<{ register: string; usable_rows: number; skipped_rows: number }>(
      'SELECT register, usable_rows, skipped_rows FROM register_contents',
    );
    assert.deepEqual(rows, [{ register: 'DSPT register', usable_rows: 2, skipped_rows: 0 }], 'one content, recorded once, as in use');
  });

  it('a new file is told once across instances: the second instance to see it finds it already recorded', async () => {
    const contents = new RegisterContents(db());
    const sha = 'a'.repeat(64);
    const at = new Date('2026-11-01T09:00:00Z');
    assert.deepEqual(await contents.seen('DSPT register', sha, at), { firstSeenAt: at, isNew: true });
    assert.deepEqual(await contents.seen('DSPT register', sha, new Date(at.getTime() + DAY_MS)), { firstSeenAt: at, isNew: false });
    assert.equal(await contents.lastAccepted('DSPT register'), undefined);
    await contents.accepted('DSPT register', sha, { rows: 10, skipped: 0 }, at);
    assert.deepEqual(await contents.lastAccepted('DSPT register'), { sha256: sha, rows: 10 });
  });
});

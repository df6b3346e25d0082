import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dsptRegisterSource, nasSitesRegisterSource, parseDsptRegister, type RegisterEvent } from '../../services/reference/registers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nas-registers-'));
let fileNumber = 0;
/** A file with a given content and modification time (changing either is what a reload notices). */
function write(name: string, content: string, mtime = new Date(Date.now() - 1000 * ++fileNumber)): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  utimesSync(file, mtime, mtime);
  return file;
}

/** The header as the DSPT organisation search exports it, with an extra ICB column. */
const EXPORT = [
  'Code,Organisation Name,Status,Date Of Publication,Primary Sector,ICB',
  'A1B2C,Harbour Lane Pharmacy,25/26 Standards Met,28/06/2026,Pharmacy,NHS Somewhere ICB',
  'VXY12,"Quayside Care Home, Ltd",25/26 Approaching Standards,29/06/2026,Social Care,NHS Somewhere ICB',
  'not a code!,Broken Row,25/26 Standards Met,01/06/2026,Pharmacy,',
  'D3E4F,Westgate Home Care,Not Published,,Social Care,NHS Somewhere ICB',
  'G5H6J,Old Mill Pharmacy,24/25 Standards Met,31/02/2025,Pharmacy,',
  'K7L8M,Willowbank Care Agency,Standards Not Fully Met (Plan Agreed),15/07/2020,Social Care,',
].join('\r\n');

describe('DSPT register as exported', () => {
  it('reads the real header and formats: year prefix, dd/mm/yyyy dates, extra columns ignored; bad rows reported by line and skipped', () => {
    const { entries, problems } = parseDsptRegister(EXPORT);
    assert.deepEqual(entries.get('A1B2C'), {
      odsCode: 'A1B2C',
      status: '25/26 Standards Met',
      year: '25/26',
      statusWords: 'Standards Met',
      published: '2026-06-28',
      primarySector: 'Pharmacy',
    });
    assert.deepEqual(entries.get('VXY12')?.statusWords, 'Approaching Standards');
    assert.deepEqual(entries.get('D3E4F'), { odsCode: 'D3E4F', status: 'Not Published', statusWords: 'Not Published', primarySector: 'Social Care' });
    assert.deepEqual(entries.get('K7L8M')?.year, undefined);
    assert.deepEqual(problems, [
      { line: 4, message: 'Code "not a code!" is not an ODS code' },
      { line: 6, message: 'Date Of Publication "31/02/2025" is not a dd/mm/yyyy date' },
    ]);
    assert.equal(entries.size, 4);
  });

  it('matches header names without regard to case or spacing, in any column order', () => {
    const { entries } = parseDsptRegister(
      'primary sector,STATUS,date of publication,  code  ,organisation name\nPharmacy,25/26 Standards Exceeded,1/7/2026,a1b2c,X\n',
    );
    assert.deepEqual(entries.get('A1B2C'), {
      odsCode: 'A1B2C',
      status: '25/26 Standards Exceeded',
      year: '25/26',
      statusWords: 'Standards Exceeded',
      published: '2026-07-01',
      primarySector: 'Pharmacy',
    });
  });

  it('refuses a file without the columns it needs, naming them', () => {
    assert.throws(
      () => parseDsptRegister('ods_code,organisation_name,status,published\nA1B2C,X,Standards Met,2026-06-30\n'),
      /no "Code", "Date Of Publication" columns/,
    );
  });
});

describe('register sources: re-read when the file changes', () => {
  it('loads, reloads on change, keeps the previous copy when the new file cannot be used, and tells its listeners', async () => {
    const file = write('dspt.csv', EXPORT);
    const source = dsptRegisterSource(file);
    const events: RegisterEvent[] = [];
    source.onChange((event) => events.push(event));
    const first = await source.current();
    assert.equal(first.snapshot.rows, 4);
    assert.equal(first.snapshot.file, 'dspt.csv');
    assert.deepEqual(
      events.map((event) => [event.kind, event.kind === 'loaded' ? event.problems.map((problem) => problem.line) : []]),
      [['loaded', [4, 6]]],
    );
    assert.equal(await source.current(), first, 'an unchanged file is not read again');

    write('dspt.csv', 'this is,not,the export\n1,2,3\n');
    const kept = await source.current();
    assert.equal(kept, first, 'the previous copy stays in use');
    assert.equal(events.at(-1)?.kind, 'failed');
    const failed = events.at(-1);
    assert.match(failed?.kind === 'failed' ? failed.message : '', /no "Code".*previous copy is still in use/);
    await source.current();
    assert.equal(events.length, 2, 'the same failure is told once');
    const status = source.status();
    assert.equal(status.rows, 4);
    assert.match(status.lastError?.message ?? '', /no "Code"/);
    assert.equal(status.where, 'dspt.csv');

    write('dspt.csv', `${EXPORT}\r\nN9P8Q,New Site,25/26 Standards Met,01/07/2026,Pharmacy,`);
    const next = await source.current();
    assert.equal(next.snapshot.rows, 5);
    assert.equal(next.get('n9p8q')?.published, '2026-07-01');
    assert.equal(source.status().lastError, undefined);
  });

  it('a register that was never readable makes screening fail with REGISTER_UNAVAILABLE, not a verdict', async () => {
    const source = nasSitesRegisterSource(path.join(dir, 'missing.csv'));
    await assert.rejects(source.current(), { code: 'REGISTER_UNAVAILABLE' });
    assert.match(source.status().lastError?.message ?? '', /could not be found/);
  });

  it('the NAS site register keeps its format, with line-numbered bad rows', async () => {
    const file = write('sites.csv', 'ods_code,site_name,allowed_accounts,nas_accounts\nA1B2C,One,10,2\nD3E4F,Two,ten,0\n');
    const register = await nasSitesRegisterSource(file).current();
    assert.deepEqual(register.get('a1b2c'), { odsCode: 'A1B2C', allowedAccounts: 10, nasAccounts: 2 });
    assert.deepEqual(register.problems, [{ line: 3, message: 'allowed_accounts "ten" is not a whole number' }]);
  });
});

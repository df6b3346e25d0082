import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { parseAccountFile } from '../../services/account-file';

const csv = (text: string, name = 'accounts.csv') => ({ content: Buffer.from(text, 'utf8'), name, contentType: 'text/csv' });

async function xlsx(rows: unknown[][], name = 'accounts.xlsx'): Promise<{ content: Buffer; name: string }> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Accounts');
  for (const row of rows) sheet.addRow(row);
  return { content: Buffer.from(await workbook.xlsx.writeBuffer()), name };
}

describe('attached account files (CSV and XLSX)', () => {
  it('CSV: finds the header in any order and spelling, below a title row, and numbers rows as the file does', async () => {
    const parsed = await parseAccountFile(
      csv('Transfer list for Northmoor,,\nSpeciality,Site ODS Code,E-mail Address\npharmacy,zz9101,Jo.Bloggs@NHSmail.example\n,,sam.lee@nhsmail.example\n'),
    );
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries, [
      { position: 3, email: 'jo.bloggs@nhsmail.example', siteOds: 'ZZ9101', specialism: 'pharmacy' },
      { position: 4, email: 'sam.lee@nhsmail.example' },
    ]);
  });

  it('CSV without a header: email, site, specialism by position; extra values are a problem', async () => {
    const parsed = await parseAccountFile(csv('a@x.example,ZZ9101,Optician\nb@x.example,,,surprise\n', 'list.txt'));
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['a@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => problem.line),
      [2],
    );
  });

  it('CSV saved by Excel in Windows-1252 still reads', async () => {
    const parsed = await parseAccountFile({
      content: Buffer.concat([Buffer.from('email,specialism\na@x.example,Soci'), Buffer.from([0xe9]), Buffer.from('t'), Buffer.from([0xe9])]),
      name: 'l.csv',
    });
    assert.equal(parsed.entries[0]?.specialism, 'Soci\u00e9t\u00e9');
  });

  it('XLSX: header detection, hyperlinked addresses, numbers and per-row problems with spreadsheet row numbers', async () => {
    const file = await xlsx([
      ['NHSmail accounts to transfer'],
      [],
      ['Email address', 'ODS code', 'Specialism'],
      [{ text: 'Amara.Mensah@nhsmail.example', hyperlink: 'mailto:Amara.Mensah@nhsmail.example' }, 'ZZ9101', 'Pharmacy'],
      ['not an address', 'ZZ9101', ''],
      ['kezia.morrow@nhsmail.example', 'Z!', ''],
      ['wren.hadley@nhsmail.example', null, null],
    ]);
    const parsed = await parseAccountFile(file);
    assert.deepEqual(parsed.entries, [
      { position: 4, email: 'amara.mensah@nhsmail.example', siteOds: 'ZZ9101', specialism: 'Pharmacy' },
      { position: 7, email: 'wren.hadley@nhsmail.example' },
    ]);
    assert.deepEqual(
      parsed.problems.map((problem) => [problem.line, problem.message]),
      [
        [5, '"not an address" is not an email address.'],
        [6, '"Z!" is not an ODS code (3 to 10 letters and digits).'],
      ],
    );
  });

  it('never echoes control characters from a bad row, and cuts long values', async () => {
    const parsed = await parseAccountFile(csv(`email\n\u001b[31mevil\u0007@\u202ex.example\n${'y'.repeat(300)}\n`));
    for (const problem of parsed.problems) assert.doesNotMatch(problem.message, /[\u0000-\u001f\u007f\u202e]/);
    const text = parsed.problems.map((problem) => problem.message).join(' ');
    assert.match(text, /\uFFFD\[31mevil/);
    assert.ok(parsed.problems[1]!.message.length < 80);
  });

  interface RefusedCase {
    name: string;
    file: () => Promise<{ content: Buffer; name?: string; contentType?: string }> | { content: Buffer; name?: string; contentType?: string };
    limits?: { maxBytes: number; maxRows: number };
    message: RegExp;
  }
  const REFUSED: RefusedCase[] = [
    { name: 'an empty file', file: () => csv(''), message: /empty/ },
    { name: 'a file over the size cap', file: () => csv('a@x.example\n'.repeat(100)), limits: { maxBytes: 100, maxRows: 1000 }, message: /larger than/ },
    { name: 'a CSV over the row cap', file: () => csv('a@x.example\n'.repeat(20)), limits: { maxBytes: 10_000, maxRows: 10 }, message: /more than 10 rows/ },
    {
      name: 'an XLSX over the row cap',
      file: () => xlsx(Array.from({ length: 20 }, () => ['a@x.example'])),
      limits: { maxBytes: 1_000_000, maxRows: 10 },
      message: /more than 10 rows/,
    },
    {
      name: 'an old .xls workbook',
      file: () => ({ content: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 1, 2, 3]), name: 'old.xls' }),
      message: /\.xls files cannot be read/,
    },
    { name: 'a corrupt .xlsx', file: () => ({ content: Buffer.from('PK\u0003\u0004garbage'), name: 'bad.xlsx' }), message: /not a readable Excel workbook/ },
    { name: 'a PDF', file: () => ({ content: Buffer.from('%PDF-1.7'), name: 'list.pdf', contentType: 'application/pdf' }), message: /CSV or an Excel/ },
  ];
  for (const testCase of REFUSED) {
    it(`refuses ${testCase.name} with INVALID_INPUT`, async () => {
      await assert.rejects(parseAccountFile(await testCase.file(), testCase.limits), (error: { code?: string; userMessage?: string }) => {
        assert.equal(error.code, 'INVALID_INPUT');
        assert.match(error.userMessage ?? '', testCase.message);
        return true;
      });
    });
  }
});

describe('attached account files share the pasted list’s rules', () => {
  it('counts a repeated row once and names the row it repeats', async () => {
    const parsed = await parseAccountFile(csv('email,site\na@x.example,ZZ9101\nb@x.example,\na@x.example,ZZ9101\n'));
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['a@x.example', 'b@x.example'],
    );
    assert.deepEqual(parsed.repeats, [{ line: 4, repeats: 2 }]);
  });

  it('refuses an unknown specialism when given the policy’s vocabulary', async () => {
    const vocabulary = { aliases: { pharmacy: 'pharmacy' }, sectorNames: { pharmacy: 'Pharmacy' } };
    const parsed = await parseAccountFile(csv('email,specialism\na@x.example,astrology\nb@x.example,Pharmacy\n'), undefined, { specialisms: vocabulary });
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['b@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => problem.line),
      [2],
    );
    assert.match(parsed.problems[0]!.message, /"astrology" is not a specialism I understand\. Use one of: Pharmacy/);
  });
});

import assert from 'node:assert/strict';
import { parseAccountList } from '../../services/account-list';

describe('account list parsing', () => {
  it('reads one account per line with optional site and specialism, normalising case', () => {
    const parsed = parseAccountList('Jo.Bloggs@NHSmail.example, zz9101, Pharmacy\n\n# a comment\nsam.lee@nhsmail.example\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries, [
      { position: 1, email: 'jo.bloggs@nhsmail.example', siteOds: 'ZZ9101', specialism: 'Pharmacy' },
      { position: 2, email: 'sam.lee@nhsmail.example' },
    ]);
  });

  it('reads a CSV with the header row and quoted values', () => {
    const parsed = parseAccountList('\uFEFFemail,site_ods_code,specialism\r\na@x.example,ZZ9101,"care home, residential"\r\nb@x.example,,\r\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries.map((entry) => [entry.email, entry.siteOds, entry.specialism]), [
      ['a@x.example', 'ZZ9101', 'care home, residential'],
      ['b@x.example', undefined, undefined],
    ]);
  });

  it('reports every bad line by number and keeps the good ones', () => {
    const parsed = parseAccountList('good@x.example\nnot-an-address\nother@x.example, Z!\nthird@x.example, ZZ1, pharmacy, extra\nlast@x.example');
    assert.deepEqual(parsed.entries.map((entry) => entry.email), ['good@x.example', 'last@x.example']);
    assert.deepEqual(parsed.problems.map((problem) => problem.line), [2, 3, 4]);
    assert.match(parsed.problems[0]!.message, /not an email address/);
    assert.match(parsed.problems[1]!.message, /not an ODS code/);
    assert.match(parsed.problems[2]!.message, /more than three values/);
  });

  it('gives positions in list order, so duplicates and allowances can be explained by line', () => {
    const parsed = parseAccountList('a@x.example\na@x.example');
    assert.deepEqual(parsed.entries.map((entry) => entry.position), [1, 2]);
  });
});


import assert from 'node:assert/strict';
import { entryAsLine, parseAccountList, understoodSpecialisms } from '../../services/account-list';

describe('account list parsing', () => {
  it('reads one account per line with optional site and specialism, normalising case', () => {
    const parsed = parseAccountList('Jo.Bloggs@NHSmail.example, zz9101, Pharmacy\n\n# a comment\nsam.lee@nhsmail.example\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries, [
      { position: 1, email: 'jo.bloggs@nhsmail.example', siteOds: 'ZZ9101', specialism: 'Pharmacy' },
      { position: 4, email: 'sam.lee@nhsmail.example' },
    ]);
  });

  it('reads a CSV with the header row and quoted values', () => {
    const parsed = parseAccountList('\uFEFFemail,site_ods_code,specialism\r\na@x.example,ZZ9101,"care home, residential"\r\nb@x.example,,\r\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((entry) => [entry.email, entry.siteOds, entry.specialism]),
      [
        ['a@x.example', 'ZZ9101', 'care home, residential'],
        ['b@x.example', undefined, undefined],
      ],
    );
  });

  it('reports every bad line by number and keeps the good ones', () => {
    const parsed = parseAccountList('good@x.example\nnot-an-address\nother@x.example, Z!\nthird@x.example, ZZ1, pharmacy, extra\nlast@x.example');
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['good@x.example', 'last@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => problem.line),
      [2, 3, 4],
    );
    assert.match(parsed.problems[0]!.message, /not an email address/);
    assert.match(parsed.problems[1]!.message, /not an ODS code/);
    assert.match(parsed.problems[2]!.message, /more than three values/);
  });

  it('gives positions in list order, so allowances can be explained by line', () => {
    const parsed = parseAccountList('a@x.example\nb@x.example');
    assert.deepEqual(
      parsed.entries.map((entry) => entry.position),
      [1, 2],
    );
  });

  it("keeps the requester's own line numbers after a repeat, a blank line or a comment, so 'account 5' is the line they pasted as 5", () => {
    const parsed = parseAccountList('a@x.example\nA@x.example\n\n# the pharmacy\nb@x.example');
    assert.deepEqual(
      parsed.entries.map((entry) => [entry.position, entry.email]),
      [
        [1, 'a@x.example'],
        [5, 'b@x.example'],
      ],
    );
    assert.deepEqual(parsed.repeats, [{ line: 2, repeats: 1 }]);
  });

  it('tells a line separated with semicolons to use commas, not only that it is not an email address', () => {
    for (const line of ['a@x.example; ZZ9101; pharmacy', 'a@x.example;ZZ9101', 'a@x.example;b@x.example']) {
      const [problem] = parseAccountList(line).problems;
      assert.match(
        problem?.message ?? '',
        /is separated with semicolons: separate the values with commas \(email, site ODS code, specialism\), one account per line\./,
        line,
      );
    }
    assert.match(parseAccountList('not-an-address').problems[0]?.message ?? '', /is not an email address\.$/);
  });
});

describe('account list parsing: headers, repeats, display names, specialisms (issues 11, 12, 13)', () => {
  const VOCABULARY = {
    aliases: {
      pharmacy: 'pharmacy',
      'community pharmacy': 'pharmacy',
      'gp locum': 'gp-locum',
      locum: 'gp-locum',
      'social-care': 'social-care',
      'social care': 'social-care',
      'care home': 'social-care',
    },
    sectorNames: { pharmacy: 'Pharmacy', 'gp-locum': 'GP locum', 'social-care': 'Social care' },
  };

  it('reads a pasted header row in any column order, as files do', () => {
    const parsed = parseAccountList('specialism,email,site_ods_code\npharmacy,a@x.example,zz9101\n,b@x.example,\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries, [
      { position: 2, email: 'a@x.example', siteOds: 'ZZ9101', specialism: 'pharmacy' },
      { position: 3, email: 'b@x.example' },
    ]);
  });

  it('counts a line that repeats an earlier one exactly once, and says which line it repeats', () => {
    const parsed = parseAccountList('a@x.example, ZZ9101\nb@x.example\nc@x.example\nd@x.example\nA@x.example, zz9101');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((entry) => [entry.position, entry.email]),
      [
        [1, 'a@x.example'],
        [2, 'b@x.example'],
        [3, 'c@x.example'],
        [4, 'd@x.example'],
      ],
    );
    assert.deepEqual(parsed.repeats, [{ line: 5, repeats: 1 }]);
  });

  it('refuses the same account listed again with a different site, naming the first line', () => {
    assert.equal(parseAccountList('a@x.example, ZZ9101\na@x.example, ZZ9102').entries.length, 2, 'by default kept, for screening to mark DUPLICATE_IN_REQUEST');
    const parsed = parseAccountList('a@x.example, ZZ9101\na@x.example, ZZ9102', { conflictingRepeats: 'refuse' });
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['a@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => [problem.line, problem.message]),
      [[2, 'lists the same account as line 1 with a different site or specialism: keep one line for each account.']],
    );
  });

  it('takes the address from "Name" <address> and Name <address>, anywhere in the list, and keeps the good lines', () => {
    const parsed = parseAccountList(
      'esme.flint@nhsmail.example\n"Amelia Hart" <amelia.hart@nhsmail.example>\nKezia Morrow <kezia.morrow@nhsmail.example>, ZZ9101\n"Hart, Amelia" <amelia.h@nhsmail.example>, , pharmacy',
    );
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((entry) => [entry.email, entry.siteOds, entry.specialism]),
      [
        ['esme.flint@nhsmail.example', undefined, undefined],
        ['amelia.hart@nhsmail.example', undefined, undefined],
        ['kezia.morrow@nhsmail.example', 'ZZ9101', undefined],
        ['amelia.h@nhsmail.example', undefined, 'pharmacy'],
      ],
    );
  });

  it('takes the address from "Name" <address> in any column of a header-led list', () => {
    const parsed = parseAccountList('site,email\nZZ9101,"Hart, Amelia" <amelia.hart@nhsmail.example>');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.entries, [{ position: 2, email: 'amelia.hart@nhsmail.example', siteOds: 'ZZ9101' }]);
  });

  it('reads a long line of quotation marks in linear time', () => {
    const started = process.hrtime.bigint();
    parseAccountList(`"${'" "'.repeat(20_000)}`);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000, 'well under a second');
  });

  it('names the line a stray quote spoils, and keeps the rest', () => {
    const parsed = parseAccountList('a@x.example\nb@x.example, "ZZ9101\nc@x.example');
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['a@x.example', 'c@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => problem.line),
      [2],
    );
    assert.match(parsed.problems[0]!.message, /quotation marks/);
  });

  it('refuses a specialism the policy does not understand, listing those it does, properly cased', () => {
    const parsed = parseAccountList('a@x.example, ZZ9101, astrology\nb@x.example, , GP Locum\nc@x.example, , Care home', { specialisms: VOCABULARY });
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      ['b@x.example', 'c@x.example'],
    );
    assert.deepEqual(
      parsed.problems.map((problem) => [problem.line, problem.message]),
      [[1, '"astrology" is not a specialism I understand. Use one of: Pharmacy, GP locum, Social care (or a word listed on the card), or leave it out.']],
    );
    assert.deepEqual(understoodSpecialisms(VOCABULARY), [
      { name: 'Pharmacy', alsoAccepted: ['community pharmacy'] },
      { name: 'GP locum', alsoAccepted: ['locum'] },
      { name: 'Social care', alsoAccepted: ['care home'] },
    ]);
  });

  it('writes an entry back as a line that reads back the same, quoting a specialism with a comma (issue 13)', () => {
    const entries = [
      { position: 1, email: 'a@x.example', siteOds: 'ZZ9101', specialism: 'care home, residential' },
      { position: 2, email: 'b@x.example', specialism: 'say "hello"' },
      { position: 3, email: 'c@x.example' },
    ];
    const text = entries.map(entryAsLine).join('\n');
    assert.equal(text, 'a@x.example, ZZ9101, "care home, residential"\nb@x.example, , "say ""hello"""\nc@x.example');
    const back = parseAccountList(text);
    assert.deepEqual(back.problems, []);
    assert.deepEqual(back.entries, entries);
  });
});

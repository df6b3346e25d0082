import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RULE_IDS } from '../../services/eligibility/types';

const BIN = path.join(__dirname, '..', '..', 'bin', 'nas-transfer.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'nas-cli-'));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};

function screen(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('nas-transfer screen (command line)', function () {
  this.timeout(60_000);

  it('prints exactly one JSON document with verdicts in input order', () => {
    const input = file('list.csv', 'email,site_ods_code,specialism\nkezia.morrow@nhsmail.example,,\namara.mensah@nhsmail.example,ZZ9101,pharmacy\nAMARA.MENSAH@nhsmail.example,ZZ9101,\n');
    const { code, stdout, stderr } = screen(['screen', '--org', 'ZZ9001', '--input', input, '--json']);
    assert.equal(code, 0, stderr);
    const document = JSON.parse(stdout) as { policyVersion: string; accounts: Array<{ email: string; verdict: string; reasons: Array<{ rule: string; message: string }> }> };
    assert.equal(document.policyVersion, '2026.11-1');
    assert.deepEqual(document.accounts.map((account) => [account.email, account.verdict, account.reasons.map((reason) => reason.rule)]), [
      ['kezia.morrow@nhsmail.example', 'ineligible', ['MARKED_AS_LEAVER']],
      ['amara.mensah@nhsmail.example', 'eligible', []],
      ['amara.mensah@nhsmail.example', 'ineligible', ['DUPLICATE_IN_REQUEST']],
    ]);
    assert.deepEqual(Object.keys(document.accounts[0]!.reasons[0]!), ['rule', 'message']);
    for (const account of document.accounts) for (const reason of account.reasons) assert.ok((RULE_IDS as readonly string[]).includes(reason.rule));
  });

  it('prints a readable table without --json, from a plain list of addresses', () => {
    const { code, stdout } = screen(['screen', '--org', 'zz9001', '--input', file('plain.txt', 'nadia.quinn@nhsmail.example\nwren.hadley@nhsmail.example\n')]);
    assert.equal(code, 0);
    assert.match(stdout, /^Policy 2026\.11-1/);
    assert.match(stdout, /1\s+nadia\.quinn@nhsmail\.example\s+ineligible\s+NO_UK_MOBILE/);
    assert.match(stdout, /2\s+wren\.hadley@nhsmail\.example\s+eligible\s+-/);
  });

  interface FailureCase {
    name: string;
    args: string[];
    env?: Record<string, string>;
    stderr: RegExp;
  }
  const FAILURES: FailureCase[] = [
    { name: 'a bad line', args: ['--org', 'ZZ9001', '--input', file('bad.csv', 'ok@nhsmail.example\nnot an address\n')], stderr: /line 2: "not an address" is not an email address/ },
    { name: 'a missing file', args: ['--org', 'ZZ9001', '--input', path.join(dir, 'nope.csv')], stderr: /could not be read/ },
    { name: 'a bad ODS code', args: ['--org', 'Z!', '--input', file('one.txt', 'a@nhsmail.example')], stderr: /--org "Z!" is not an ODS code/ },
    { name: 'missing arguments', args: [], stderr: /--org and --input are required/ },
    {
      name: 'an unreachable directory',
      args: ['--org', 'ZZ9001', '--input', file('two.txt', 'a@nhsmail.example')],
      env: { GRAPH_BASE_URL: 'http://127.0.0.1:9' },
      stderr: /The NHSmail directory could not be reached/,
    },
  ];
  for (const failure of FAILURES) {
    it(`exits 2 with a clear message for ${failure.name}`, () => {
      const { code, stdout, stderr } = screen(['screen', ...failure.args], failure.env);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, failure.stderr);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

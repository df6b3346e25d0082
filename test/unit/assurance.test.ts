import { GraphMailSender } from '../../services/duties/graph-mail';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';
import { loadConfig } from '../../config';
import { loadSandboxDirectory, sandboxUserToken, startSandboxGraph, type SandboxGraph } from '../../dev/sandbox/graph-server';
import { createGraphClient } from '../../services/directory/graph-client';
import { GraphDirectory } from '../../services/directory/graph-directory';
import { RULE_IDS } from '../../services/eligibility/types';
import { SUBJECT_ACCESS_COVERAGE } from '../../services/store/subject-access';

/**
 * The assurance documents (docs/assurance/) state facts about the code: which Graph fields are
 * read, what is stored and for how long, which permissions the app asks for, which test shows
 * each control works. These tests read the code and the documents side by side, so a change
 * to either that leaves the other behind fails here.
 */

const ROOT = path.join(__dirname, '..', '..');
const ASSURANCE = path.join(ROOT, 'docs', 'assurance');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const doc = (name: string) => readFileSync(path.join(ASSURANCE, name), 'utf8');

/** The text of the section under `heading` (any level), up to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#{2,4} /.test(line) && line.replace(/^#+ /, '').trim() === heading);
  assert.ok(start >= 0, `the section "${heading}" is missing`);
  const level = (lines[start] as string).indexOf(' ');
  const end = lines.findIndex((line, index) => index > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** The code-formatted names in the first column of a Markdown table: `| \`name\` | ... |`. */
function firstColumnNames(markdown: string): string[] {
  return [...markdown.matchAll(/^\|\s*`([^`]+)`/gm)].map((match) => match[1] as string);
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('assurance documents: the data inventory matches the code', function () {
  this.timeout(30_000);
  const inventory = () => doc('data-inventory.md');
  let graph: SandboxGraph;

  before(async () => {
    graph = await startSandboxGraph(await loadSandboxDirectory(path.join(ROOT, 'dev', 'demo-directory.json')));
  });
  after(() => graph.close());

  it('lists exactly the Graph user fields the bot selects, as the directory client asks for them over HTTP', async () => {
    const directory = new GraphDirectory(createGraphClient(graph.url), loadConfig({}).directoryAttributes);
    graph.requests.length = 0;
    await directory.lookupAccounts(['amara.mensah@nhsmail.example']);
    await directory.lookUpPerson('priya.okafor@nhsmail.example', ['a-group-id']);
    // The one delegated call: a message to an affected user from the requester's own mailbox.
    await new GraphMailSender(graph.url).send(sandboxUserToken('priya.okafor@nhsmail.example'), {
      to: 'amara.mensah@nhsmail.example',
      subject: 's',
      body: 'b',
    });
    const selected = new Set<string>();
    const operations = new Set<string>();
    for (const request of graph.requests) {
      const inner =
        request.path === '/v1.0/$batch'
          ? (request.body as { requests: Array<{ method: string; url: string }> }).requests
          : [{ method: request.method, url: `${request.path}?${request.query.toString()}` }];
      if (request.path === '/v1.0/$batch') operations.add('POST /$batch');
      for (const call of inner) {
        const url = new URL(call.url, 'http://graph');
        for (const field of url.searchParams.get('$select')?.split(',') ?? []) selected.add(field);
        operations.add(`${call.method} ${url.pathname.replace(/^\/v1\.0/, '').replace(/\/users\/[^/]+/, '/users/{id}')}`);
      }
    }
    assert.ok(selected.size > 5, 'the look-ups were made');
    const listed = firstColumnNames(section(inventory(), 'Microsoft Graph: user fields read'));
    assert.deepEqual(sorted(listed), sorted(selected), 'a field selected that the inventory does not list, or listed and no longer selected');
    const listedOperations = [...section(inventory(), 'Microsoft Graph: calls made').matchAll(/^\|\s*`([A-Z]+ [^`]+)`/gm)].map((match) => match[1] as string);
    assert.deepEqual(sorted(listedOperations), sorted(operations), 'Graph calls the inventory does not list, or lists and the code no longer makes');
  });

  it('lists every field of a verdict’s stored evidence (services/eligibility/types.ts Evidence)', () => {
    const source = ts.createSourceFile('types.ts', read('services/eligibility/types.ts'), ts.ScriptTarget.Latest, true);
    const evidence = source.statements.find(
      (statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === 'Evidence',
    );
    assert.ok(evidence, 'the Evidence interface');
    const fields = evidence.members.filter(ts.isPropertySignature).map((member) => member.name.getText(source));
    assert.ok(fields.includes('directoryFound'));
    assert.deepEqual(sorted(firstColumnNames(section(inventory(), 'Evidence stored with each verdict'))), sorted(fields));
  });

  it('names every eligibility rule once, and only those (services/eligibility/types.ts RULE_IDS)', () => {
    assert.deepEqual(sorted(firstColumnNames(section(inventory(), 'The rules and the data each reads'))), sorted(RULE_IDS));
  });

  it('lists every list of the policy file (policy/nas-transfer-policy.json), with the rule that reads it', () => {
    const policy = JSON.parse(read('policy/nas-transfer-policy.json')) as Record<string, unknown>;
    const lists = Object.keys(policy).filter((key) => key !== 'version' && key !== 'notes');
    assert.deepEqual(sorted(firstColumnNames(section(inventory(), 'Policy data'))), sorted(lists));
  });

  it('lists every table the store has (the subject-access declaration, itself checked against the migrated schema)', () => {
    assert.deepEqual(sorted(firstColumnNames(section(inventory(), 'Where it is stored'))), sorted(Object.keys(SUBJECT_ACCESS_COVERAGE)));
  });

  it('says for every personal column what retention does to it, and a column said to be removed is one the purge names', () => {
    const personal = Object.entries(SUBJECT_ACCESS_COVERAGE).flatMap(([table, columns]) =>
      Object.entries(columns)
        .filter(([, coverage]) => !('notPersonal' in coverage))
        .map(([column]) => `${table}.${column}`),
    );
    const rows = [...section(inventory(), 'Retention of each personal column').matchAll(/^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|\s*([^|]+)\|/gm)].map((match) => ({
      column: match[1] as string,
      treatment: (match[2] as string).trim(),
    }));
    assert.deepEqual(
      sorted(rows.map((row) => row.column)),
      sorted(personal),
      'personal columns (services/store/subject-access.ts) without a retention line, or lines for columns that are not personal',
    );
    const purge = read('services/store/retention.ts');
    for (const row of rows) {
      assert.match(row.treatment, /^(removed|kept|cleared|emptied)\b/, `${row.column}: the treatment starts with removed, cleared, emptied or kept`);
      const [table, column] = row.column.split('.') as [string, string];
      if (/^(removed|cleared|emptied)/.test(row.treatment)) {
        assert.ok(
          purge.includes(table) && new RegExp(`\\b${column}\\b`).test(purge),
          `${row.column} is said to be removed, and services/store/retention.ts does not name it`,
        );
      }
    }
  });
});

describe('assurance documents: permissions match the manifest and the deployment guide', () => {
  const permissions = () => doc('permissions.md');

  it('lists exactly the Graph application permissions docs/deploy.md grants', () => {
    const granted = /for ROLE in ([^;]+);/.exec(read('docs/deploy.md'))?.[1]?.trim().split(/\s+/) ?? [];
    assert.ok(granted.length > 0, 'docs/deploy.md grants the roles in a loop');
    assert.deepEqual(sorted(firstColumnNames(section(permissions(), 'Microsoft Graph application permissions'))), sorted(granted));
  });

  it('lists every Teams app permission, resource-specific consent and SSO entry of manifest/manifest.json', () => {
    const manifest = JSON.parse(read('manifest/manifest.json')) as {
      permissions?: string[];
      authorization?: { permissions?: { resourceSpecific?: Array<{ name: string }> } };
      webApplicationInfo?: unknown;
      bots?: Array<{ supportsFiles?: boolean }>;
    };
    const entries = [
      ...(manifest.permissions ?? []),
      ...(manifest.authorization?.permissions?.resourceSpecific ?? []).map((permission) => permission.name),
      ...(manifest.webApplicationInfo ? ['webApplicationInfo'] : []),
      ...(manifest.bots?.some((bot) => bot.supportsFiles) ? ['supportsFiles'] : []),
    ];
    assert.deepEqual(sorted(firstColumnNames(section(permissions(), 'Teams app manifest'))), sorted(entries));
    const rsc = manifest.authorization?.permissions?.resourceSpecific ?? [];
    if (rsc.length === 0) assert.match(permissions(), /no resource-specific consent/i, 'the document says plainly that no RSC permission is asked for');
  });
});

/** `test/...test.ts` «title»: a test the documents cite as evidence. */
const CITATION = /`(test\/[\w./-]+\.test\.ts)`\s*«([^»]+)»/g;

describe('assurance documents: every test cited as evidence exists, under that title', () => {
  const markdownFiles = () => (existsSync(ASSURANCE) ? readdirSync(ASSURANCE).filter((name) => name.endsWith('.md')) : []);

  it('has the documents the issue asks for', () => {
    for (const name of [
      'README.md',
      'data-flow.md',
      'data-inventory.md',
      'permissions.md',
      'security-controls.md',
      'clinical-safety.md',
      'dtac-dpia.md',
      'accessibility.md',
    ]) {
      assert.ok(markdownFiles().includes(name), `docs/assurance/${name}`);
    }
    assert.match(doc('data-flow.md'), /```mermaid\n(flowchart|graph) /, 'a Mermaid diagram');
  });

  for (const name of markdownFiles()) {
    it(`${name}: each cited test file exists and has a test of that title`, () => {
      const text = doc(name);
      for (const [, file, title] of text.matchAll(CITATION)) {
        assert.ok(existsSync(path.join(ROOT, file as string)), `${name} cites ${file}, which does not exist`);
        const source = read(file as string);
        const declared = [`'`, `"`, '`'].some(
          (quote) =>
            source.includes(`it(${quote}${title}${quote}`) || source.includes(`describe(${quote}${title}${quote}`) || source.includes(`it(${quote}${title}`),
        );
        assert.ok(declared, `${name} cites «${title}» in ${file}, and no test there has that title`);
      }
      for (const [, file] of text.matchAll(/`(test\/[\w./-]+\.ts)`/g)) {
        assert.ok(existsSync(path.join(ROOT, file as string)), `${name} names ${file}, which does not exist`);
      }
    });
  }

  it('security controls: every control in the table cites at least one test', () => {
    const rows = section(doc('security-controls.md'), 'Controls and the tests that prove them')
      .split('\n')
      .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line) && !/^\|\s*Control\s*\|/.test(line));
    assert.ok(rows.length >= 15, 'the table has the controls');
    for (const row of rows) assert.match(row, new RegExp(CITATION.source), `a control without a cited test: ${row.slice(0, 80)}`);
  });

  it('clinical safety: every hazard names its controls and the evidence for them', () => {
    const hazards = [...doc('clinical-safety.md').matchAll(/^### (H\d+)\b.*$/gm)].map((match) => match[1]);
    assert.ok(hazards.length >= 6, 'the hazard log has the hazards');
    for (const hazard of hazards) {
      const text = section(
        doc('clinical-safety.md'),
        (doc('clinical-safety.md').match(new RegExp(`^### (${hazard}\\b.*)$`, 'm')) as RegExpMatchArray)[1] as string,
      );
      for (const field of ['Causes', 'Controls in the product', 'Residual risk', 'Evidence'])
        assert.match(text, new RegExp(`\\*\\*${field}`), `${hazard} has ${field}`);
    }
  });
});

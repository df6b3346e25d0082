import { dutiesDraftsData } from '../../cards/duties-drafts';
import { draftMessages } from '../../services/duties/drafts';
import { loadAffectedUserMessages } from '../../services/duties/message-templates';
import { NO_MOBILE, NOT_PATIENT_CARE, storedAccount, storedRequest } from '../support/duty-requests';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as AdaptiveCards from 'adaptivecards';
import Ajv from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { renderAccountsEntryCard } from '../../cards/accounts-entry';
import { renderAttestationsCard } from '../../cards/attestations';
// Type-only: these render functions take domain objects, so their templates are expanded
// from their typed data interfaces directly, as the render functions do.
import type { OutcomeCardData } from '../../cards/outcome';
import { expandCard } from '../../cards/render';
import type { ScreeningResultsCardData } from '../../cards/screening-results';
import { renderWelcomeCard } from '../../cards/welcome';
import { opsRequestCardData, renderOpsRequestCard } from '../../cards/ops-request';
import { sampleRequest, type SampleState } from '../support/card-samples';

/**
 * Every card template, expanded with sample data, must parse with the Adaptive Cards SDK at
 * schema 1.5 (what Teams renders) with no error or warning, validate against the official
 * 1.5 JSON schema, and leave no template expression unexpanded.
 */
const CARDS_DIR = path.join(__dirname, '..', '..', 'cards');
const SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'adaptive-card-1.5.schema.json');

const template = (name: string) => JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8')) as object;

function schemaValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(draft06);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('uri-reference', (value: string) => URL.canParse(value, 'https://base.invalid/'));
  // The published file names itself with draft-04's "id"; ajv wants "$id" (or nothing).
  const { id: _publishedId, ...schema } = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  return ajv.compile(schema);
}
const validateSchema = schemaValidator();

/** Every problem the SDK and the schema find in an expanded card, as readable lines. */
function cardProblems(card: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const context = new AdaptiveCards.SerializationContext(AdaptiveCards.Versions.v1_5);
  const parsed = new AdaptiveCards.AdaptiveCard();
  parsed.parse(card, context);
  for (let index = 0; index < context.eventCount; index++) {
    const event = context.getEventAt(index);
    problems.push(`SDK ${AdaptiveCards.ValidationPhase[event.phase]} ${AdaptiveCards.ValidationEvent[event.event]}: ${event.message}`);
  }
  for (const event of parsed.validateProperties().validationEvents) {
    problems.push(`SDK validation ${AdaptiveCards.ValidationEvent[event.event]}: ${event.message}`);
  }
  if (card.version !== '1.5' && !['1.0', '1.1', '1.2', '1.3', '1.4'].includes(String(card.version)))
    problems.push(`card version ${String(card.version)} is not at most 1.5`);
  if (!validateSchema(card)) {
    for (const error of validateSchema.errors ?? []) problems.push(`schema ${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
  }
  const unexpanded = JSON.stringify(card).match(/\$\{[^}]*\}/g);
  if (unexpanded) problems.push(`template expressions left unexpanded: ${[...new Set(unexpanded)].join(', ')}`);
  return problems;
}

const content = (attachment: { content?: unknown }) => attachment.content as Record<string, unknown>;

const SAMPLE_ROW = {
  position: 1,
  email: 'amara.mensah@nhsmail.example',
  verdictLabel: 'Needs NAS review',
  verdictColor: 'Warning' as const,
  reasons: [{ text: 'The site’s DSPT status is Approaching Standards.' }],
  evidenceLine: 'Amara Mensah · site FQ123 (from the directory) · DSPT Approaching Standards',
};

const screeningResultsData = (overrides: Partial<ScreeningResultsCardData> = {}): ScreeningResultsCardData => ({
  organisationName: 'Northmoor Community Care Partnership',
  checkedPhrase: '30 accounts',
  total: 30,
  eligibleCount: 20,
  reviewCount: 5,
  ineligibleCount: 5,
  firstShown: 1,
  lastShown: 25,
  pageHint: ' Type **more** for the next ones.',
  accounts: [SAMPLE_ROW, { ...SAMPLE_ROW, position: 2, verdictLabel: 'Not eligible', verdictColor: 'Attention', evidenceLine: '' }],
  submitCount: 25,
  continueTitle: 'Continue with 25 accounts',
  submitNotice: 'Submitting sends the 25 eligible or reviewable accounts; the 5 not eligible stay with you, with the next steps shown.',
  ...overrides,
});

const outcomeData = (overrides: Partial<OutcomeCardData> = {}): OutcomeCardData => ({
  headline: 'Transfer request NTR-000007 has been decided',
  reference: 'NTR-000007',
  leaverReminder: 'Do not mark any of the 2 accounts being transferred as a leaver.',
  requestId: 7,
  fixableCount: 1,
  resubmitTitle: 'Start a new request with the one you can fix',
  organisationName: 'Northmoor Community Care Partnership',
  approvedCount: 1,
  rejectedCount: 1,
  screenedOutCount: 1,
  total: 3,
  shownCount: 3,
  approved: [{ email: 'amara.mensah@nhsmail.example' }],
  rejected: [{ email: 'esme.flint@nhsmail.example', why: 'Not patient facing.', nextStep: 'Keep administering this account locally.' }],
  screenedOut: [{ email: 'reception@nhsmail.example', why: 'Generic account.', nextStep: 'Convert it to a shared mailbox first.' }],
  ...overrides,
});

/** Each case is one expansion; variants cover both sides of every `$when`. */
const CASES: Array<{ name: string; owner: 'mine' | 'others'; card: () => Record<string, unknown> }> = [
  { name: 'welcome', owner: 'mine', card: () => content(renderWelcomeCard({ firstName: 'Priya' })) },
  {
    name: 'attestations, first showing',
    owner: 'mine',
    card: () => content(renderAttestationsCard({ organisationName: 'Northmoor Community Care Partnership', accountCount: 4, missingNotice: '' })),
  },
  {
    name: 'attestations, with a missing notice',
    owner: 'mine',
    card: () => content(renderAttestationsCard({ organisationName: 'Northmoor', accountCount: 4, missingNotice: 'Tick all four to continue.' })),
  },
  {
    name: 'accounts entry, first showing',
    owner: 'mine',
    card: () => content(renderAccountsEntryCard({ maxAccounts: 500, problemSummary: '', problems: [], previousText: '' })),
  },
  {
    name: 'accounts entry, with problems',
    owner: 'mine',
    card: () =>
      content(
        renderAccountsEntryCard({
          maxAccounts: 500,
          problemSummary: '2 lines could not be read.',
          problems: [{ text: 'Line 2: not an address' }, { text: 'Line 5: unknown sector' }],
          previousText: 'a@nhs.net\nnot an address',
        }),
      ),
  },
  ...(['submitted', 'in_review', 'decided', 'part_transferred', 'completed', 'withdrawn'] as SampleState[]).map((state) => ({
    name: `ops request, ${state.replace('_', ' ')}`,
    owner: 'mine' as const,
    card: () => content(renderOpsRequestCard(sampleRequest(state))),
  })),
  {
    name: 'ops request, read-only view',
    owner: 'mine',
    card: () => content(renderOpsRequestCard(sampleRequest('in_review'), 0, '', undefined, { actionable: false, refreshUserIds: ['29:tom'] })),
  },
  {
    name: 'ops request, a refusal on a row',
    owner: 'mine',
    card: () => content(renderOpsRequestCard(sampleRequest('in_review'), 0, 'Give a reason to reject: the requester will see it.', 102)),
  },
  {
    name: 'ops request, a refusal of a bulk button',
    owner: 'mine',
    card: () => content(renderOpsRequestCard(sampleRequest('submitted'), 0, 'Give a reason to reject: the requester will see it.')),
  },
  { name: 'screening results, first of two pages', owner: 'others', card: () => content(expandCard(template('screening-results'), screeningResultsData())) },
  {
    name: 'screening results, nothing to submit',
    owner: 'others',
    card: () =>
      content(
        expandCard(
          template('screening-results'),
          screeningResultsData({
            total: 2,
            lastShown: 2,
            pageHint: '',
            eligibleCount: 0,
            reviewCount: 0,
            ineligibleCount: 2,
            submitCount: 0,
            submitNotice: 'No account can be submitted. Edit the list, or cancel.',
          }),
        ),
      ),
  },
  { name: 'outcome, all three kinds', owner: 'others', card: () => content(expandCard(template('outcome'), outcomeData())) },
  {
    name: 'outcome, all approved, cut short',
    owner: 'others',
    card: () =>
      content(expandCard(template('outcome'), outcomeData({ rejectedCount: 0, screenedOutCount: 0, rejected: [], screenedOut: [], total: 40, shownCount: 1 }))),
  },
];

/** A drafts card for a request with someone in each group. */
function dutiesDraftsSample() {
  const request = storedRequest([
    storedAccount(1, 'asha.patel@nhs.net', { displayName: 'Asha Patel' }),
    storedAccount(2, 'ben.cole@nhs.net', { reasons: [NO_MOBILE] }),
    storedAccount(3, 'cara.diaz@nhs.net', { reasons: [NOT_PATIENT_CARE] }),
  ]);
  const timescales = { decision: { known: false as const, samples: 0 }, transfer: { known: false as const, samples: 0 } };
  return dutiesDraftsData(
    { request, drafts: draftMessages(request, 'submitted', loadAffectedUserMessages(), timescales), timescales, tallies: [] },
    { canSend: true },
    12,
  );
}

describe('card templates at Adaptive Cards 1.5', () => {
  for (const { name, owner, card } of CASES) {
    it(`${name} parses with the adaptivecards SDK and validates against the schema, with no errors or warnings`, () => {
      const problems = cardProblems(card());
      const whose = owner === 'others' ? ' (template owned by another engineer: fix cards/ before this passes)' : '';
      assert.deepEqual(problems, [], `${name}${whose}:\n  ${problems.join('\n  ')}`);
    });
  }

  it('catches a card Teams would not render, so the check has teeth', () => {
    const problems = cardProblems({
      type: 'AdaptiveCard',
      version: '1.5',
      body: [
        { type: 'Bogus' },
        { type: 'TextBlock', text: 'x', size: 'Huge' },
        { type: 'TextBlock', text: '${unbound}' },
        { type: 'TextBlock', text: 'y', colour: 'Good' },
      ],
    });
    assert.ok(
      problems.some((problem) => /Unknown element type "Bogus"/.test(problem)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((problem) => /Invalid value "Huge"/.test(problem)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((problem) => /unexpanded/.test(problem)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((problem) => /^schema .*additionalProperty.*colour/.test(problem)),
      problems.join('\n'),
    );
  });
});

/**
 * Inside a `$data` repetition an expression sees the repeated item, not the card's data: a
 * name that is not a field of the item is undefined there, and a `$when` on it silently drops
 * the element (how the ops card once lost every row's Approve and Reject). Every name used
 * inside a repetition must be a field of its item (or `$root.…`, `$index`).
 */
const EXPRESSION_FUNCTIONS = new Set(['if', 'count', 'concat', 'string', 'length', 'not', 'and', 'or', 'true', 'false', 'null', 'empty', 'exists']);

function namesIn(expressionText: string): string[] {
  const names: string[] = [];
  for (const [, expression] of expressionText.matchAll(/\$\{([^}]*)\}/g)) {
    const withoutStrings = expression!.replace(/'[^']*'/g, "''");
    for (const match of withoutStrings.matchAll(/(?<![\w.$])([A-Za-z_$][\w$]*)(?:\.[\w$]+)*\s*(\()?/g)) {
      if (match[2] || EXPRESSION_FUNCTIONS.has(match[1]!)) continue;
      names.push(match[1]!);
    }
  }
  return names;
}

/** Names used at this scope that the scope's item lacks, recursing into nested repetitions with their own items. */
function unboundInRepetitions(element: unknown, scope: Record<string, unknown>, where: string, isRepetition: boolean): string[] {
  if (Array.isArray(element)) return element.flatMap((child, index) => unboundInRepetitions(child, scope, `${where}[${index}]`, isRepetition));
  if (!element || typeof element !== 'object') {
    if (!isRepetition || typeof element !== 'string') return [];
    return namesIn(element)
      .filter((name) => !(name in scope) && !['$root', '$index', '$data', '$host'].includes(name))
      .map((name) => `${where}: "${name}" is not a field of the repeated item (fields: ${Object.keys(scope).join(', ')})`);
  }
  const node = element as Record<string, unknown>;
  const problems: string[] = [];
  let inner = scope;
  let repetition = isRepetition;
  if (typeof node.$data === 'string') {
    // The $data expression itself is read in the outer scope.
    problems.push(...unboundInRepetitions(node.$data, scope, `${where}.$data`, isRepetition));
    const [name] = namesIn(node.$data);
    const items = scope[name!];
    if (!Array.isArray(items) || items.length === 0 || typeof items[0] !== 'object')
      return [`${where}: the sample data has no items in "${name}" to check this repetition against`];
    inner = Object.assign({}, ...items) as Record<string, unknown>;
    repetition = true;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '$data') continue;
    problems.push(...unboundInRepetitions(value, inner, `${where}.${key}`, repetition));
  }
  return problems;
}

describe('card templates: every expression inside a $data repetition names a field of the repeated item', () => {
  const REPEATING: Array<{ name: string; data: () => object }> = [
    ...(['submitted', 'in_review', 'decided'] as SampleState[]).map((state) => ({
      name: 'ops-request',
      data: () => {
        const request = sampleRequest(state);
        request.questions = [{ id: 1, askedBy: { id: 't', name: 'Tom' }, question: 'Which site?', askedAt: new Date(), answer: null, answeredAt: null }];
        return opsRequestCardData(request, 0, '', undefined, { actionable: true, refreshUserIds: [] });
      },
    })),
    { name: 'screening-results', data: () => screeningResultsData() },
    { name: 'outcome', data: () => outcomeData() },
    { name: 'duties-drafts', data: () => dutiesDraftsSample() },
    { name: 'accounts-entry', data: () => ({ maxAccounts: 500, problemSummary: 'x', problems: [{ text: 'Line 2' }], previousText: '' }) },
  ];
  for (const { name, data } of REPEATING) {
    it(`${name}`, () => {
      const problems = unboundInRepetitions(template(name), data() as Record<string, unknown>, name, false);
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }

  it('finds a $when on a card-level field inside a row, so the check has teeth', () => {
    const broken = { body: [{ type: 'Container', $data: '${accounts}', items: [{ type: 'ActionSet', $when: '${actionable && canDecide}', actions: [] }] }] };
    assert.deepEqual(unboundInRepetitions(broken, { actionable: true, accounts: [{ canDecide: true }] }, 'card', false), [
      'card.body[0].items[0].$when: "actionable" is not a field of the repeated item (fields: canDecide)',
    ]);
  });

  it('every template with a repetition is checked', () => {
    const withRepetitions = readdirSync(CARDS_DIR)
      .filter((file) => file.endsWith('.json') && readFileSync(path.join(CARDS_DIR, file), 'utf8').includes('"$data"'))
      .map((file) => file.replace(/\.json$/, ''));
    assert.deepEqual([...new Set(REPEATING.map((entry) => entry.name))].sort(), withRepetitions.sort());
  });
});

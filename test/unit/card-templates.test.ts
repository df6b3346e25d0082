import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as AdaptiveCards from 'adaptivecards';
import Ajv from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { renderAccountsEntryCard } from '../../cards/accounts-entry';
import { renderAttestationsCard } from '../../cards/attestations';
// Type-only: these render functions take domain objects, so their templates are expanded
// from their typed data interfaces directly, as the render functions do.
import type { OpsRequestCardData } from '../../cards/ops-request';
import type { OutcomeCardData } from '../../cards/outcome';
import { expandCard } from '../../cards/render';
import type { ScreeningResultsCardData } from '../../cards/screening-results';
import { renderWelcomeCard } from '../../cards/welcome';

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
  if (card.version !== '1.5' && !['1.0', '1.1', '1.2', '1.3', '1.4'].includes(String(card.version))) problems.push(`card version ${String(card.version)} is not at most 1.5`);
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

const opsRequestData = (overrides: Partial<OpsRequestCardData> = {}): OpsRequestCardData => ({
  requestId: 7,
  reference: 'NTR-000007',
  statusLabel: 'Awaiting decision',
  statusColor: 'Warning',
  organisationName: 'Northmoor Community Care Partnership',
  organisationOds: 'RX1',
  requesterName: 'Priya Okafor',
  submittedAt: '24 Nov 2026 11:30',
  policyVersion: '2026-01',
  reason: 'Sponsorship ends',
  attestations: [{ text: 'Affected users have been told of the process and its timescales.' }],
  total: 45,
  eligibleCount: 40,
  reviewCount: 5,
  screenedOutCount: 2,
  approvedCount: 1,
  rejectedCount: 1,
  undecidedCount: 43,
  eligibleUndecidedCount: 38,
  start: 20,
  previousStart: 0,
  firstShown: 21,
  lastShown: 40,
  accounts: [
    { ...SAMPLE_ROW, requestId: 7, start: 20, accountId: 101, decisionLine: '', decisionColor: 'Default', canDecide: true, canCorrect: false, correctTo: '' as const, correctTitle: '', canMarkTransferred: false, transferLine: '', rowNotice: '' },
    { ...SAMPLE_ROW, position: 2, requestId: 7, start: 20, accountId: 102, decisionLine: 'Approved by Sam Ops at 24 Nov 2026 12:00', decisionColor: 'Good', canDecide: false, canCorrect: true, correctTo: 'rejected' as const, correctTitle: 'Change to rejected', canMarkTransferred: true, transferLine: 'Transferred to NAS by Sam Ops at 24 Nov 2026, 12:00 GMT', rowNotice: 'Give a reason' },
  ],
  reviewerLine: 'Being reviewed by Sam Ops since 24 Nov 2026, 11:00 GMT',
  actionable: true,
  refreshUserIds: ['29:sam-ops'],
  questions: [{ askedLine: 'Sam Ops asked at 24 Nov 2026, 11:00 GMT:', question: 'Is the DSPT for FQ123 published yet?', answerLine: 'Not answered yet.', answerColor: 'Warning' }],
  canAsk: true,
  canClaim: true,
  canCorrectAny: true,
  // Open requests offer claim, approve, reject and paging; transfers come once decided (Teams shows at most 5 card actions).
  untransferredCount: 0,
  open: true,
  notificationLine: 'The requester has been told the outcome.',
  notificationColor: 'Good',
  notice: 'Already decided by Sam Ops.',
  ...overrides,
});

const screeningResultsData = (overrides: Partial<ScreeningResultsCardData> = {}): ScreeningResultsCardData => ({
  organisationName: 'Northmoor Community Care Partnership',
  policyVersion: '2026-01',
  total: 30,
  eligibleCount: 20,
  reviewCount: 5,
  ineligibleCount: 5,
  firstShown: 1,
  lastShown: 25,
  pageHint: ' Type **more** for the next ones.',
  accounts: [SAMPLE_ROW, { ...SAMPLE_ROW, position: 2, verdictLabel: 'Not eligible', verdictColor: 'Attention', evidenceLine: '' }],
  submitCount: 25,
  submitNotice: 'Submitting sends the 25 eligible or reviewable accounts; the 5 not eligible stay with you, with the next steps shown.',
  ...overrides,
});

const outcomeData = (overrides: Partial<OutcomeCardData> = {}): OutcomeCardData => ({
  reference: 'NTR-000007',
  requestId: 7,
  fixableCount: 1,
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
  { name: 'attestations, first showing', owner: 'mine', card: () => content(renderAttestationsCard({ organisationName: 'Northmoor Community Care Partnership', accountCount: 4, missingNotice: '' })) },
  { name: 'attestations, with a missing notice', owner: 'mine', card: () => content(renderAttestationsCard({ organisationName: 'Northmoor', accountCount: 4, missingNotice: 'Tick all four to continue.' })) },
  { name: 'accounts entry, first showing', owner: 'mine', card: () => content(renderAccountsEntryCard({ maxAccounts: 500, problemSummary: '', problems: [], previousText: '' })) },
  {
    name: 'accounts entry, with problems',
    owner: 'mine',
    card: () => content(renderAccountsEntryCard({ maxAccounts: 500, problemSummary: '2 lines could not be read.', problems: [{ text: 'Line 2: not an address' }, { text: 'Line 5: unknown sector' }], previousText: 'a@nhs.net\nnot an address' })),
  },
  { name: 'ops request, mid-list with a notice', owner: 'others', card: () => content(expandCard(template('ops-request'), opsRequestData())) },
  {
    name: 'ops request, first page, decided',
    owner: 'others',
    card: () => content(expandCard(template('ops-request'), opsRequestData({ start: 0, firstShown: 1, lastShown: 2, total: 2, undecidedCount: 0, eligibleUndecidedCount: 0, notice: '', notificationLine: '', statusLabel: 'Decided', statusColor: 'Good' }))),
  },
  { name: 'screening results, first of two pages', owner: 'others', card: () => content(expandCard(template('screening-results'), screeningResultsData())) },
  {
    name: 'screening results, nothing to submit',
    owner: 'others',
    card: () => content(expandCard(template('screening-results'), screeningResultsData({ total: 2, lastShown: 2, pageHint: '', eligibleCount: 0, reviewCount: 0, ineligibleCount: 2, submitCount: 0, submitNotice: 'No account can be submitted. Edit the list, or cancel.' }))),
  },
  { name: 'outcome, all three kinds', owner: 'others', card: () => content(expandCard(template('outcome'), outcomeData())) },
  {
    name: 'outcome, all approved, cut short',
    owner: 'others',
    card: () => content(expandCard(template('outcome'), outcomeData({ rejectedCount: 0, screenedOutCount: 0, rejected: [], screenedOut: [], total: 40, shownCount: 1 }))),
  },
];

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
      body: [{ type: 'Bogus' }, { type: 'TextBlock', text: 'x', size: 'Huge' }, { type: 'TextBlock', text: '${unbound}' }, { type: 'TextBlock', text: 'y', colour: 'Good' }],
    });
    assert.ok(problems.some((problem) => /Unknown element type "Bogus"/.test(problem)), problems.join('\n'));
    assert.ok(problems.some((problem) => /Invalid value "Huge"/.test(problem)), problems.join('\n'));
    assert.ok(problems.some((problem) => /unexpanded/.test(problem)), problems.join('\n'));
    assert.ok(problems.some((problem) => /^schema .*additionalProperty.*colour/.test(problem)), problems.join('\n'));
  });
});

import assert from 'node:assert/strict';
import type { Attachment } from 'botbuilder';
import { describeRequest, describeRequestList } from '../../bot/replies';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { renderOutcomeCard } from '../../cards/outcome';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import { parseAccountList } from '../../services/account-list';
import type { StoredAccount, StoredRequest } from '../../services/model';
import { requestDetails } from '../support/fixtures';

/*
 * Addresses, organisation names, people's names and the ops decision reason come from
 * requesters, the directory, ODS and ops. Where Teams renders markdown (TextBlock, FactSet,
 * message text) they must read as written, never as bold, a list or a link.
 */
const BOLD_ADDRESS = '**verified**@x.nhs.uk';
const BOLD_ADDRESS_ESCAPED = '\\*\\*verified\\*\\*@x.nhs.uk';
const UNDERSCORE_ADDRESS = 'jo_bloggs_@x.nhs.uk';
const UNDERSCORE_ADDRESS_ESCAPED = 'jo\\_bloggs\\_@x.nhs.uk';
const LINK_REASON = '[click](https://evil.example)';
const LINK_REASON_ESCAPED = '\\[click\\](https://evil.example)';
const ORGANISATION = 'Northmoor *Care* [Trust](https://evil.example)';
const ORGANISATION_ESCAPED = 'Northmoor \\*Care\\* \\[Trust\\](https://evil.example)';

function storedAccount(id: number, email: string, overrides: Partial<StoredAccount>): StoredAccount {
  return {
    id,
    position: id,
    email,
    siteOds: 'ZZ9101',
    specialism: null,
    verdict: 'eligible',
    reasons: [],
    evidence: { directoryFound: true },
    decision: null,
    decisionReason: null,
    decidedBy: null,
    decidedAt: null,
    transferredBy: null,
    transferredAt: null,
    transferNote: null,
    ...overrides,
  };
}

const decided = { decidedBy: { id: 'tom', name: 'Tom *Ashdown*' }, decidedAt: new Date('2026-11-24T09:00:00Z') };

/** A decided request: one address rejected with a link for a reason, one approved, one screened out. */
function hostileRequest(): StoredRequest {
  return {
    ...requestDetails({ id: 'priya', name: 'Priya _Okafor_' }),
    organisationName: ORGANISATION,
    claimedBy: null,
    claimedAt: null,
    completedAt: null,
    withdrawnAt: null,
    questions: [],
    id: 9,
    reference: 'NTR-100009',
    status: 'decided',
    createdAt: new Date('2026-11-23T10:00:00Z'),
    decidedAt: new Date('2026-11-24T09:00:00Z'),
    opsConversationId: null,
    opsActivityId: null,
    outcomeNotifiedAt: null,
    outcomeNotification: 'pending',
    accounts: [
      storedAccount(1, BOLD_ADDRESS, { decision: 'rejected', decisionReason: LINK_REASON, ...decided }),
      storedAccount(2, UNDERSCORE_ADDRESS, { decision: 'approved', ...decided }),
      storedAccount(3, '`code`@x.nhs.uk', {
        verdict: 'ineligible',
        reasons: [{ rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'No mobile number is registered.', remedy: 'Add a valid UK mobile number.' }],
      }),
    ],
  };
}

/** Every string a card shows, split by whether Teams renders it as markdown. */
function cardStrings(card: Attachment): { markdown: string[]; plain: string[] } {
  const markdown: string[] = [];
  const plain: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const element = node as Record<string, unknown>;
    // TextBlock text and FactSet facts render markdown; a RichTextBlock's TextRun does not.
    if (element.type === 'TextBlock' && typeof element.text === 'string') markdown.push(element.text);
    if (element.type === 'TextRun' && typeof element.text === 'string') plain.push(element.text);
    if (typeof element.title === 'string' && typeof element.value === 'string' && element.type === undefined) markdown.push(element.title, element.value);
    Object.values(element).forEach(visit);
  };
  visit(card.content);
  return { markdown, plain };
}

function assertShownEscaped(markdown: readonly string[], raw: string, escaped: string, where: string): void {
  assert.ok(
    markdown.some((text) => text.includes(escaped)),
    `${where}: "${escaped}" shown; markdown texts: ${JSON.stringify(markdown).slice(0, 1500)}`,
  );
  for (const text of markdown) assert.ok(!text.replaceAll(escaped, '').includes(raw), `${where}: "${raw}" unescaped in "${text}"`);
}

describe('markdown in addresses, names and reasons is shown as written', () => {
  it('the address parser accepts such addresses, so they can reach the cards', () => {
    const parsed = parseAccountList([BOLD_ADDRESS, UNDERSCORE_ADDRESS, '`code`@x.nhs.uk'].join('\n'));
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((entry) => entry.email),
      [BOLD_ADDRESS, UNDERSCORE_ADDRESS, '`code`@x.nhs.uk'],
    );
  });

  it('screening results card: addresses and the organisation name', () => {
    const accounts = hostileRequest().accounts.map(({ position, email, verdict, reasons, evidence }) => ({ position, email, verdict, reasons, evidence }));
    const { markdown } = cardStrings(renderScreeningResultsCard(ORGANISATION, { policyVersion: 'test', accounts }).card);
    assertShownEscaped(markdown, BOLD_ADDRESS, BOLD_ADDRESS_ESCAPED, 'results');
    assertShownEscaped(markdown, UNDERSCORE_ADDRESS, UNDERSCORE_ADDRESS_ESCAPED, 'results');
    assertShownEscaped(markdown, '`code`@x.nhs.uk', '\\`code\\`@x.nhs.uk', 'results');
    assertShownEscaped(markdown, ORGANISATION, ORGANISATION_ESCAPED, 'results');
    assert.ok(markdown.includes(`1. ${BOLD_ADDRESS_ESCAPED}`), 'the row keeps its "position. address" form');
  });

  it('ops card: addresses escaped; the decision reason only in a TextRun, which shows it as plain text', () => {
    const { markdown, plain } = cardStrings(renderOpsRequestCard(hostileRequest()));
    assertShownEscaped(markdown, BOLD_ADDRESS, BOLD_ADDRESS_ESCAPED, 'ops');
    assertShownEscaped(markdown, UNDERSCORE_ADDRESS, UNDERSCORE_ADDRESS_ESCAPED, 'ops');
    for (const text of markdown) assert.ok(!text.includes('[click]'), `the reason is not in markdown text: "${text}"`);
    assert.ok(
      plain.some((text) => text.includes(`: ${LINK_REASON}`)),
      `the reason is shown as written: ${JSON.stringify(plain)}`,
    );
  });

  it('outcome card: addresses in every list, the organisation name and the decision reason', () => {
    const { markdown } = cardStrings(renderOutcomeCard(hostileRequest()));
    assertShownEscaped(markdown, BOLD_ADDRESS, BOLD_ADDRESS_ESCAPED, 'outcome (rejected)');
    assertShownEscaped(markdown, UNDERSCORE_ADDRESS, UNDERSCORE_ADDRESS_ESCAPED, 'outcome (approved)');
    assertShownEscaped(markdown, '`code`@x.nhs.uk', '\\`code\\`@x.nhs.uk', 'outcome (screened out)');
    assertShownEscaped(markdown, ORGANISATION, ORGANISATION_ESCAPED, 'outcome');
    assertShownEscaped(markdown, LINK_REASON, LINK_REASON_ESCAPED, 'outcome');
  });

  it('status reply for one request: addresses, organisation, people and the decision reason', () => {
    const reply = describeRequest(hostileRequest());
    assertShownEscaped([reply], BOLD_ADDRESS, BOLD_ADDRESS_ESCAPED, 'status');
    assertShownEscaped([reply], UNDERSCORE_ADDRESS, UNDERSCORE_ADDRESS_ESCAPED, 'status');
    assertShownEscaped([reply], ORGANISATION, ORGANISATION_ESCAPED, 'status');
    assertShownEscaped([reply], LINK_REASON, LINK_REASON_ESCAPED, 'status');
    assert.match(
      reply,
      new RegExp(
        `^- ${escapeForRegExp(BOLD_ADDRESS_ESCAPED)}: rejected by Tom \\\\\\*Ashdown\\\\\\* at .* \\(${escapeForRegExp(LINK_REASON_ESCAPED)}\\)$`,
        'm',
      ),
    );
    assert.match(reply, /^Submitted by Priya \\_Okafor\\_ at /m);
  });

  it('a reason over several lines stays on its account’s line of the status reply', () => {
    const request = hostileRequest();
    request.accounts[0] = { ...request.accounts[0]!, decisionReason: 'Not ours.\n# Urgent\n- approve all' };
    const reply = describeRequest(request);
    assert.doesNotMatch(reply, /^# Urgent/m);
    assert.doesNotMatch(reply, /^- approve all/m);
  });

  it('status list: organisation names', () => {
    const reply = describeRequestList('Your requests', [
      {
        id: 9,
        reference: 'NTR-100009',
        organisationName: ORGANISATION,
        status: 'decided',
        createdAt: new Date('2026-11-23T10:00:00Z'),
        claimedByName: null,
        accountCount: 3,
        approvedCount: 1,
        rejectedCount: 1,
      },
    ]);
    assertShownEscaped([reply], ORGANISATION, ORGANISATION_ESCAPED, 'status list');
    assert.match(reply, /^- \*\*NTR-100009\*\* · Northmoor /m, 'our own markdown (the bold reference, the list) stays');
  });
});

function escapeForRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

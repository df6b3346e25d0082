import assert from 'node:assert/strict';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { CARD_BUDGET_BYTES, MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../cards/render';
import { MAX_SMALLER_RENDERS } from '../../bot/messaging/outbox-worker';
import type { StoredAccount, StoredRequest } from '../../services/model';

/**
 * The largest request the bot accepts (MAX_ACCOUNTS_PER_REQUEST's ceiling, the longest
 * addresses RFC 5321 allows, long reasons and evidence) renders under Teams' limit, and each
 * smaller render after a 413 is smaller again: a card that cannot be made small enough is a
 * bug, found here rather than in the ops channel.
 */
const LONGEST_LOCAL_PART = 'a'.repeat(64);
const LONG_REASON = 'The site’s Data Security and Protection Toolkit publication is not current for the year needed; '.repeat(3);

function largestRequest(accounts = 500): StoredRequest {
  const rows: StoredAccount[] = Array.from({ length: accounts }, (_, index) => ({
    id: index + 1,
    position: index + 1,
    email: `${LONGEST_LOCAL_PART}.${index}@${'d'.repeat(60)}.nhs.net`,
    siteOds: 'ZZ9101',
    specialism: 'pharmacy',
    verdict: index % 3 === 0 ? 'review' : 'eligible',
    reasons: index % 3 === 0 ? [{ rule: 'SITE_NOT_DSPT_COMPLIANT', verdict: 'review', message: LONG_REASON, remedy: LONG_REASON }] : [],
    evidence: {
      directoryFound: true,
      displayName: 'Ⓐ'.repeat(120),
      siteOds: 'ZZ9101',
      siteName: 'Harbour Lane Pharmacy'.repeat(4),
      jobTitle: 'Pharmacist'.repeat(10),
    },
    decision: null,
    decisionReason: null,
    decidedBy: null,
    decidedAt: null,
    transferredBy: null,
    transferredAt: null,
    transferNote: null,
  }));
  return {
    id: 42,
    reference: 'NTR-100042',
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor Community Care Partnership',
    requester: { id: 'priya', name: 'Priya Okafor' },
    reason: 'r'.repeat(1000),
    attestations: { usersInformed: true, residualDataRemoved: true, notMarkedAsLeavers: true, resolutionForIneligible: true },
    policyVersion: 'test',
    status: 'in_review',
    createdAt: new Date('2026-11-24T11:30:00Z'),
    decidedAt: null,
    opsConversationId: null,
    opsActivityId: null,
    outcomeNotifiedAt: null,
    outcomeNotification: 'not_due',
    claimedBy: { id: 'tom', name: 'Tom Ashdown' },
    claimedAt: new Date('2026-11-24T11:30:00Z'),
    completedAt: null,
    withdrawnAt: null,
    questions: Array.from({ length: 10 }, (_, index) => ({
      id: index + 1,
      askedBy: { id: 'tom', name: 'Tom Ashdown' },
      question: 'q'.repeat(500),
      askedAt: new Date(),
      answer: 'a'.repeat(500),
      answeredAt: new Date(),
    })),
    accounts: rows,
  };
}

describe('ops card size: the largest request fits, and a 413 always makes it smaller', () => {
  it('renders the largest request allowed within the card budget, and strictly smaller at every step after a 413', () => {
    const request = largestRequest();
    const sizes = Array.from({ length: MAX_SMALLER_RENDERS + 1 }, (_, smaller) =>
      utf16Bytes(
        renderOpsRequestCard(request, 0, '', undefined, {
          actionable: true,
          refreshUserIds: Array.from({ length: 60 }, (_, index) => `29:member-${index}`),
          smaller,
        }),
      ),
    );
    assert.ok(sizes[0]! <= CARD_BUDGET_BYTES && sizes[0]! < MESSAGE_LIMIT_BYTES, `first render ${sizes[0]} bytes`);
    for (let step = 1; step < sizes.length; step++) assert.ok(sizes[step]! < sizes[step - 1]!, `step ${step}: ${sizes.join(' > ')} bytes`);
    assert.ok(sizes.at(-1)! < MESSAGE_LIMIT_BYTES / 2, `the smallest render (${sizes.at(-1)} bytes) is under half of Teams’ limit`);
  });

  it('says how many accounts it shows, so the smaller card hides nothing silently', () => {
    const ordinary = largestRequest(30);
    const request = {
      ...ordinary,
      questions: [],
      reason: 'Sponsorship ends in March.',
      accounts: ordinary.accounts.map((account) => ({ ...account, email: `a${account.id}@nhs.net`, reasons: [], evidence: { directoryFound: true } })),
    };
    const card = JSON.stringify(renderOpsRequestCard(request, 0, '', undefined, { actionable: true, refreshUserIds: [], smaller: 1 }).content);
    const shown = Number(/Accounts 1 to (\d+) of 30/.exec(card)?.[1]);
    assert.ok(shown >= 1 && shown <= 10, `a smaller page, said as such (${shown} of 30)`);
    assert.match(card, /Next accounts/);
  });
});

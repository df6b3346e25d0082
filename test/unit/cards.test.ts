import assert from 'node:assert/strict';
import { renderAttestationsCard } from '../../cards/attestations';
import { ATTESTATION_TEXT } from '../../cards/labels';
import { renderOpsRequestCard } from '../../cards/ops-request';
import { renderOutcomeCard } from '../../cards/outcome';
import { MESSAGE_LIMIT_BYTES, utf16Bytes } from '../../cards/render';
import { renderScreeningResultsCard } from '../../cards/screening-results';
import type { Reason, ScreenedAccount } from '../../services/eligibility/types';
import type { StoredRequest } from '../../services/model';
import { accountRow, evidenceLine } from '../../cards/account-rows';
import { escapeMarkdown } from '../../core/text';
import { RULE_IDS, type Evidence } from '../../services/eligibility/types';
import { requestDetails } from '../support/fixtures';
import { cardWords, findOffered, offeredActions, type Card } from '../support/card-actions';
import { SAMPLE_EMAILS, sampleRequest } from '../support/card-samples';

const LONG_REASONS: Reason[] = [
  {
    rule: 'SITE_NOT_DSPT_COMPLIANT',
    verdict: 'ineligible',
    message: 'Site ZZ9104 DSPT status is Standards Not Met.'.repeat(3),
    remedy: 'Complete the Data Security and Protection Toolkit for the site.',
  },
  {
    rule: 'NO_UK_MOBILE',
    verdict: 'ineligible',
    message: 'No mobile number is registered.',
    remedy: 'Add a valid UK mobile number to the account, then resubmit it.',
  },
  {
    rule: 'GENERIC_ACCOUNT',
    verdict: 'review',
    message: 'The account may be generic: its name does not clearly identify one person.',
    remedy: 'Follow the shared mailbox conversion process first.',
  },
];

const screened = (count: number): ScreenedAccount[] =>
  Array.from({ length: count }, (_, index) => ({
    position: index + 1,
    email: `a.very.long.name.for.person.number.${index + 1}@some-community-organisation.nhsmail.example`,
    verdict: index % 3 === 0 ? 'eligible' : index % 3 === 1 ? 'review' : 'ineligible',
    reasons: index % 3 === 0 ? [] : LONG_REASONS,
    evidence: { directoryFound: true },
  }));

function storedRequest(count: number, decided: boolean): StoredRequest {
  return {
    ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
    id: 7,
    reference: 'NTR-100007',
    status: decided ? 'decided' : 'submitted',
    claimedBy: null,
    claimedAt: null,
    completedAt: null,
    withdrawnAt: null,
    questions: [],
    createdAt: new Date('2026-11-23T10:00:00Z'),
    decidedAt: null,
    opsConversationId: null,
    opsActivityId: null,
    outcomeNotifiedAt: null,
    outcomeNotification: decided ? 'pending' : 'not_due',
    accounts: screened(count).map((account, index) => ({
      id: index + 1,
      position: account.position,
      email: account.email,
      siteOds: 'ZZ9101',
      specialism: null,
      verdict: account.verdict,
      reasons: account.reasons,
      evidence: account.evidence,
      transferredBy: null,
      transferredAt: null,
      transferNote: null,
      decision: decided ? 'rejected' : null,
      decisionReason: decided ? 'The site must meet the DSPT standard before any of its accounts can move to NAS.' : null,
      decidedBy: decided ? { id: 'tom', name: 'Tom Ashdown' } : null,
      decidedAt: decided ? new Date() : null,
    })),
  };
}

describe('cards stay under the Teams message limit and say what they leave out', () => {
  it('screening results: 500 accounts with long reasons are paged by what fits, attention first, skipping none', () => {
    const result = { policyVersion: '2026.11-1', accounts: screened(500) };
    const seen: string[] = [];
    let start: number | undefined = 0;
    let pages = 0;
    while (start !== undefined) {
      const page = renderScreeningResultsCard('Northmoor', result, start);
      const text = JSON.stringify(page.card);
      assert.ok(utf16Bytes(page.card) < MESSAGE_LIMIT_BYTES, `${utf16Bytes(page.card)} bytes`);
      const [, first, last] = /Showing accounts (\d+) to (\d+) of 500, those needing review first\./.exec(text) ?? [];
      assert.equal(Number(first), start + 1);
      assert.equal(text.includes('Type **more** for the next ones.'), page.nextStart !== undefined);
      seen.push(...[...text.matchAll(/"text":"(\d+)\. a\.very\.long/g)].map((match) => match[1]!));
      assert.equal(seen.length, Number(last));
      start = page.nextStart;
      pages++;
    }
    assert.ok(pages > 20, `${pages} pages`);
    assert.equal(new Set(seen).size, 500, 'every account shown exactly once');
    assert.equal(seen[0], '2', 'the first account for review (position 2) comes first');
    assert.match(JSON.stringify(renderScreeningResultsCard('Northmoor', result).card), /"Continue with 334 accounts"/);
  });

  it('ops card: 500 accounts with long reasons fit, and Next starts after the last one shown', () => {
    const card = renderOpsRequestCard(storedRequest(500, false), 40);
    assert.ok(utf16Bytes(card) < MESSAGE_LIMIT_BYTES, `${utf16Bytes(card)} bytes`);
    const [, first, last] = /Accounts (\d+) to (\d+) of 500/.exec(JSON.stringify(card)) ?? [];
    assert.equal(first, '41');
    assert.ok(Number(last) > 41 && Number(last) <= 60, `shows up to ${last}`);
    assert.match(JSON.stringify(card), new RegExp(`"title":"Next accounts","verb":"showPage","data":\\{"requestId":7,"start":${last}\\}`));
  });

  it('outcome: 500 rejected accounts are cut to what fits, and the card says how many it shows', () => {
    const card = renderOutcomeCard(storedRequest(500, true));
    const text = JSON.stringify(card);
    assert.ok(utf16Bytes(card) < MESSAGE_LIMIT_BYTES, `${utf16Bytes(card)} bytes`);
    const shown = Number(/Showing (\d+) of 500 accounts/.exec(text)?.[1]);
    assert.ok(shown > 10 && shown < 500, `shows ${shown}`);
    assert.match(text, /0 accepted for transfer to NAS, 500 rejected/);
  });

  it('attestations: the four considerations of the transfer process, each a toggle', () => {
    const card = renderAttestationsCard({ organisationName: 'Northmoor', accountCount: 3, missingNotice: '' });
    const toggles = (card.content as { body: Array<{ type: string; id?: string; title?: string }> }).body.filter((element) => element.type === 'Input.Toggle');
    assert.deepEqual(
      toggles.map((toggle) => toggle.id),
      Object.keys(ATTESTATION_TEXT),
    );
    assert.deepEqual(
      toggles.map((toggle) => toggle.title),
      Object.values(ATTESTATION_TEXT),
    );
    assert.doesNotMatch(JSON.stringify(card), /\$\{/, 'every template expression was expanded');
  });

  it('outcome: accounts screened out at submission are listed with why and what to do', () => {
    const request = storedRequest(3, true);
    request.accounts[2] = { ...request.accounts[2]!, verdict: 'ineligible', decision: null, decisionReason: null, decidedBy: null, decidedAt: null };
    const text = JSON.stringify(renderOutcomeCard(request));
    assert.match(text, /0 accepted for transfer to NAS, 2 rejected, 1 not submitted \(not eligible at screening\)/);
    assert.match(text, /Not submitted: not eligible at screening/);
    assert.match(text, /Next step: Complete the Data Security and Protection Toolkit for the site\. Add a valid UK mobile number/);
  });
});

describe('account rows: evidence for deciding, in words a person reads', () => {
  const EVIDENCE: Evidence = {
    directoryFound: true,
    displayName: 'Jo *Bloggs*',
    jobTitle: 'Pharmacist_Lead',
    siteOds: 'ZZ9101',
    siteSource: 'directory',
    siteName: 'HARBOUR LANE PHARMACY',
    siteActive: true,
    sector: 'pharmacy',
    sectorName: 'Pharmacy',
    sectorSource: 'ods-role',
    sectorRoleId: 'RO182',
    dsptStatus: 'Standards Met',
    dsptPublished: '2026-06-28',
    ukMobileOnRecord: true,
    mobileCheck: 'uk-mobile',
  };

  it('one escaped line: name, site, sector and its source, DSPT and date, job title, UK mobile yes/no', () => {
    assert.equal(
      evidenceLine(EVIDENCE),
      'Jo \\*Bloggs\\* · Site ZZ9101 HARBOUR LANE PHARMACY (from the directory) · Sector: Pharmacy (from ODS role RO182) · DSPT: Standards Met (28 Jun 2026) · Job title: Pharmacist\\_Lead · UK mobile registered: yes',
    );
    const declared = evidenceLine({
      ...EVIDENCE,
      sectorSource: 'declared',
      sectorRoleId: undefined,
      jobTitle: undefined,
      ukMobileOnRecord: false,
      mobileCheck: 'crown-dependency-mobile',
      mobileCountry: 'GG',
      dsptStatus: undefined,
    });
    assert.match(declared, /Sector: Pharmacy \(declared\)/);
    assert.match(declared, /DSPT: not in the register/);
    assert.match(declared, /Job title: none recorded/);
    assert.match(declared, /UK mobile registered: no \(a Guernsey \(GG\) mobile\)/);
    assert.equal(evidenceLine({ directoryFound: false }), '', 'the reason already says the address is not in the directory');
  });

  it('markdown and control characters from the directory are made inert', () => {
    assert.equal(escapeMarkdown('- [link](http://x) `code` #1 \u001b[31m'), '\\- \\[link\\](http://x) \\`code\\` \\#1  \\[31m');
  });

  it('no reason a person reads starts with a rule id; the requester sees the next step', () => {
    const row = accountRow({ position: 1, email: 'a@x.example', verdict: 'ineligible', reasons: LONG_REASONS, evidence: EVIDENCE }, true);
    for (const reason of row.reasons) for (const id of RULE_IDS) assert.ok(!reason.text.startsWith(id), reason.text);
    assert.match(row.reasons[1]!.text, /^No mobile number is registered\. Next step: Add a valid UK mobile number/);
    assert.equal(row.evidenceLine, evidenceLine(EVIDENCE, 'requester'));
  });

  it('the requester’s results show each account’s evidence line', () => {
    const accounts = screened(3).map((account) => ({ ...account, evidence: EVIDENCE }));
    const text = JSON.stringify(renderScreeningResultsCard('Northmoor', { policyVersion: 'test', accounts }).card);
    assert.match(text, /UK mobile registered: yes/);
    assert.doesNotMatch(text, /\$\{/, 'every template expression was expanded');
  });
});

describe('ops card: every button a row needs is on the card (rendered, not only handled)', () => {
  const card = (request: StoredRequest, notice = '', noticeAccountId?: number, actionable = true, noticeVerb?: string) =>
    renderOpsRequestCard(request, 0, notice, noticeAccountId, { actionable, refreshUserIds: [], noticeVerb }).content as Card;
  /** Per row (by address) and for the card as a whole (''), the buttons offered, as "verb:title". */
  const buttonsByRow = (shown: Card) => {
    const rows: Record<string, string[]> = {};
    for (const action of offeredActions(shown)) {
      const email = Object.values(SAMPLE_EMAILS).find((address) => action.row.includes(address)) ?? '';
      (rows[email] ??= []).push(`${action.verb}:${action.title}`);
    }
    return rows;
  };

  it('in review: an undecided eligible and an undecided review account each have Approve and Reject; a decided one can be changed; a screened-out one has none', () => {
    const rows = buttonsByRow(card(sampleRequest('in_review')));
    assert.deepEqual(rows[SAMPLE_EMAILS.review], ['decideAccount:Approve', 'decideAccount:Reject']);
    assert.deepEqual(rows[SAMPLE_EMAILS.eligible], ['decideAccount:Approve', 'decideAccount:Reject']);
    assert.deepEqual(rows[SAMPLE_EMAILS.secondEligible], ['correctDecision:Change to rejected'], 'approved, not transferred: correctable');
    assert.equal(rows[SAMPLE_EMAILS.screenedOut], undefined);
    // The card everyone sees offers the take-over to all; the reviewer's own refreshed view does not (below).
    assert.deepEqual(rows[''], [
      'takeOverRequest:Take over from Tom Ashdown',
      'approveEligible:Approve all eligible (1)',
      'rejectRequest:Yes, reject both undecided',
      'askRequester:Send the question',
    ]);
    const ownView = renderOpsRequestCard(sampleRequest('in_review'), 0, '', undefined, {
      actionable: true,
      refreshUserIds: [],
      viewerId: sampleRequest('in_review').claimedBy!.id,
    }).content as Card;
    assert.ok(!offeredActions(ownView).some((action) => action.verb === 'takeOverRequest'), 'not offered to the reviewer themselves');
    const approve = findOffered(card(sampleRequest('in_review')), { title: 'Approve', row: SAMPLE_EMAILS.review });
    assert.deepEqual(approve.data, { requestId: 7, accountId: 102, decision: 'approved', start: 0 });
    assert.deepEqual(
      approve.inputs.map((input) => input.id),
      ['decisionReason', 'question'],
      'a row button sends the reason box with it',
    );
  });

  it('a fresh request: Assign to me, Approve and Reject on every undecided row, and bulk reject asks first and says it includes the eligible ones', () => {
    const fresh = card(sampleRequest('submitted'));
    const rows = buttonsByRow(fresh);
    for (const email of [SAMPLE_EMAILS.eligible, SAMPLE_EMAILS.review, SAMPLE_EMAILS.secondEligible])
      assert.deepEqual(rows[email], ['decideAccount:Approve', 'decideAccount:Reject'], email);
    assert.ok(rows['']!.includes('claimRequest:Assign to me'));
    const rejectAll = findOffered(fresh, { verb: 'rejectRequest' });
    assert.equal(rejectAll.behind, 'Reject all undecided (3)…', 'behind a confirmation');
    assert.match(JSON.stringify(fresh), /This rejects all 3 undecided accounts, including 2 screened as eligible, each with the reason in the box above/);
    assert.doesNotMatch(JSON.stringify(fresh), /Reject the rest/);
    assert.match(cardWords(fresh), /not assigned to anyone yet/);
  });

  it('decided: each approved account can be marked transferred or changed, the rejected one changed; the transfer note sits with its button', () => {
    const decided = card(sampleRequest('decided'));
    const rows = buttonsByRow(decided);
    assert.deepEqual(rows[SAMPLE_EMAILS.eligible], ['correctDecision:Change to rejected', 'markAccountTransferred:Mark transferred']);
    assert.deepEqual(rows[SAMPLE_EMAILS.review], ['correctDecision:Change to approved']);
    assert.deepEqual(rows[SAMPLE_EMAILS.secondEligible], ['correctDecision:Change to rejected', 'markAccountTransferred:Mark transferred']);
    assert.deepEqual(rows[''], ['markTransferred:Mark approved as transferred (2)', 'askRequester:Send the question']);
    const body = JSON.stringify(decided);
    assert.ok(body.indexOf('"id":"transferNote"') < body.indexOf('"Mark approved as transferred (2)"'), 'the note box comes just before its button');
    assert.ok(body.indexOf('"Mark approved as transferred (2)"') < body.indexOf('1. amara'), 'and both before the rows that also use the note');
    assert.doesNotMatch(body, /Assign to me|Approve all eligible|Reject all undecided/);
  });

  it('the reason box shows only where a button reads it, and is gone when nothing can be rejected or changed', () => {
    assert.match(JSON.stringify(card(sampleRequest('decided'))), /"id":"decisionReason"/, 'Change to … needs it');
    for (const state of ['completed', 'withdrawn'] as const) {
      const shown = card(sampleRequest(state));
      assert.doesNotMatch(JSON.stringify(shown), /"id":"decisionReason"|"id":"transferNote"/, state);
      assert.deepEqual(
        offeredActions(shown)
          .map((action) => action.verb)
          .filter((verb) => verb !== 'askRequester'),
        [],
        `${state}: no decision buttons`,
      );
    }
  });

  it('withdrawn: says who withdrew it and when, and nothing "to decide"', () => {
    const words = cardWords(card(sampleRequest('withdrawn')));
    assert.match(words, /Withdrawn · withdrawn by Priya Okafor \(the requester\) at 24 Nov 2026, 11:30 GMT, before any decision/);
    assert.doesNotMatch(words, /to decide/);
    assert.match(words, /Decisions none: the request was withdrawn/);
  });

  it('once assigned, the card names the reviewer and offers no Assign to me, to them or anyone', () => {
    const words = cardWords(card(sampleRequest('in_review')));
    assert.match(words, /In review · assigned to Tom Ashdown since 24 Nov 2026, 11:30 GMT/);
    assert.ok(!offeredActions(card(sampleRequest('in_review'))).some((action) => action.verb === 'claimRequest'));
  });

  it('a missing reason is told by the row whose button needed it, or by the bulk buttons; a question problem by the question box', () => {
    const byRow = JSON.stringify(card(sampleRequest('in_review'), 'Give a reason to reject: the requester will see it.', 102));
    assert.ok(byRow.indexOf('Give a reason to reject') > byRow.indexOf('esme.flint@'), 'after the row’s address');
    assert.ok(byRow.indexOf('Give a reason to reject') < byRow.indexOf('rosa.kemp@'), 'before the next row');
    const bulk = JSON.stringify(card(sampleRequest('in_review'), 'Give a reason to reject: the requester will see it.'));
    assert.ok(
      bulk.indexOf('Give a reason to reject') > bulk.indexOf('"id":"decisionReason"') &&
        bulk.indexOf('Give a reason to reject') < bulk.indexOf('"Approve all eligible (1)"'),
      'between the reason box and the bulk buttons',
    );
    const question = JSON.stringify(card(sampleRequest('in_review'), 'Type the question in the box above the button.', undefined, true, 'askRequester'));
    assert.ok(
      question.indexOf('Type the question') > question.indexOf('"id":"question"') &&
        question.indexOf('Type the question') < question.indexOf('"Send the question"'),
    );
  });

  it('the read-only view offers no button and no input', () => {
    for (const state of ['submitted', 'in_review', 'decided'] as const) {
      const readOnly = card(sampleRequest(state), '', undefined, false);
      assert.deepEqual(offeredActions(readOnly), [], state);
      assert.doesNotMatch(JSON.stringify(readOnly), /"Input\./, state);
    }
  });

  it('no words in Teams’ pale Good or Warning colours, which do not read on a light background', () => {
    for (const state of ['submitted', 'in_review', 'decided', 'part_transferred', 'completed', 'withdrawn'] as const) {
      assert.doesNotMatch(JSON.stringify(card(sampleRequest(state))), /"color":"(Good|Warning)"/, state);
    }
  });
});

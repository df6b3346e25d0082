import assert from 'node:assert/strict';
import { clip, describeAudit } from '../../bot/commands/audit-command';
import { CommandRegistry } from '../../bot/commands/command';
import { describeRequest, describeRequestList } from '../../bot/replies';
import { accountRow, evidenceLine, ukDate } from '../../cards/account-rows';
import { renderAttestationsCard } from '../../cards/attestations';
import { plural, pluralWord } from '../../cards/plural';
import { AppError } from '../../core/errors';
import type { Evidence } from '../../services/eligibility/types';
import type { StoredRequest } from '../../services/model';
import type { AuditEvent } from '../../services/store/audit';
import { requestDetails } from '../support/fixtures';

/** Issue 12: the words a requester and an analyst meet. */
describe('words a requester and an analyst meet', () => {
  it('counts with one helper: 1 account, 2 accounts', () => {
    assert.equal(plural(1, 'account'), '1 account');
    assert.equal(plural(2, 'account'), '2 accounts');
    assert.equal(plural(0, 'line'), '0 lines');
    assert.equal(plural(1_500, 'account'), '1,500 accounts');
    assert.equal(pluralWord(1, 'is', 'are'), 'is');
    assert.equal(pluralWord(3, 'is', 'are'), 'are');
  });

  const EVIDENCE: Evidence = {
    directoryFound: true,
    displayName: 'Jo Bloggs',
    siteOds: 'ZZ9101',
    siteSource: 'directory',
    siteName: 'HARBOUR LANE PHARMACY',
    sectorName: 'Pharmacy',
    sectorSource: 'ods-role',
    sectorRoleId: 'RO182',
    dsptStatus: '25/26 Standards Met',
    dsptPublished: '2026-11-29',
    jobTitle: 'Pharmacist',
    ukMobileOnRecord: false,
    mobileCheck: 'crown-dependency-mobile',
    mobileCountry: 'GG',
  };

  it('evidence: requesters see names and UK dates, NAS Operations also the codes', () => {
    const requester = evidenceLine(EVIDENCE, 'requester');
    assert.equal(
      requester,
      'Jo Bloggs · Site ZZ9101 HARBOUR LANE PHARMACY (from the directory) · Sector: Pharmacy (from ODS) · DSPT: 25/26 Standards Met (29 Nov 2026) · Job title: Pharmacist · UK mobile registered: no (a Guernsey mobile)',
    );
    const ops = evidenceLine(EVIDENCE, 'ops');
    assert.match(ops, /Sector: Pharmacy \(from ODS role RO182\)/);
    assert.match(ops, /\(a Guernsey \(GG\) mobile\)/);
    assert.match(ops, /\(29 Nov 2026\)/);
    assert.equal(accountRow({ position: 1, email: 'a@x.example', verdict: 'eligible', reasons: [], evidence: EVIDENCE }, 'requester').evidenceLine, requester);
    assert.equal(ukDate('29/11/2026'), '29 Nov 2026');
    assert.equal(ukDate('31/02/2026'), '31/02/2026', 'not a date: shown as given');
  });

  it('an address the directory does not know is explained once, by its reason', () => {
    const row = accountRow(
      {
        position: 1,
        email: 'nobody@x.example',
        verdict: 'ineligible',
        reasons: [{ rule: 'ACCOUNT_NOT_FOUND', verdict: 'ineligible', message: 'No account with this address.', remedy: 'Check the address.' }],
        evidence: { directoryFound: false },
      },
      'requester',
    );
    assert.equal(row.evidenceLine, '');
    assert.deepEqual(
      row.reasons.map((reason) => reason.text),
      ['No account with this address. Next step: Check the address.'],
    );
  });

  it('a status reply shows the policy version to NAS Operations only; a list counts accounts in words', () => {
    const request = {
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }, '2026.11-2'),
      id: 1,
      reference: 'NTR-100001',
      status: 'submitted',
      createdAt: new Date('2026-11-24T10:00:00Z'),
      accounts: [],
      questions: [],
      claimedBy: null,
      withdrawnAt: null,
      completedAt: null,
    } as unknown as StoredRequest;
    assert.doesNotMatch(describeRequest(request), /2026\.11-2/);
    assert.match(describeRequest(request, true), /under policy 2026\.11-2/);
    const list = describeRequestList('Yours', [
      {
        id: 1,
        reference: 'NTR-100001',
        organisationName: 'Northmoor',
        status: 'submitted',
        createdAt: new Date(),
        claimedByName: null,
        accountCount: 1,
        approvedCount: 0,
        rejectedCount: 0,
      },
    ]);
    assert.match(list, / · 1 account \(0 approved, 0 rejected\)/);
  });

  it('a refusal opens with its own sentence', () => {
    assert.equal(new AppError('INVALID_INPUT', 'The attached file is empty.').userMessage, 'The attached file is empty.');
    assert.equal(new AppError('INVALID_INPUT').userMessage, 'That input could not be used.');
    assert.equal(new AppError('REQUEST_NOT_FOUND').userMessage, 'No transfer request has that reference.');
  });

  it('the confirmations card counts the accounts being submitted and keeps what was ticked', () => {
    const card = JSON.stringify(
      renderAttestationsCard({ organisationName: 'Northmoor', accountCount: 1, missingNotice: '', ticked: { usersInformed: true, notMarkedAsLeavers: true } })
        .content,
    );
    assert.match(card, /for the 1 account you are submitting from Northmoor/);
    assert.match(card, /"title":"Submit 1 account to NAS"/);
    assert.match(card, /"id":"usersInformed"[^}]*"value":"true"/);
    assert.match(card, /"id":"residualDataRemoved"[^}]*"value":"false"/);
    assert.match(card, /"id":"notMarkedAsLeavers"[^}]*"value":"true"/);
  });

  it('suggests the command nearest a typo, and nothing for what is not close', () => {
    const run = async () => undefined;
    const registry = new CommandRegistry([
      { words: ['new transfer', 'start'], scope: 'personal', interruptsDialog: true, run },
      { words: ['status'], scope: 'personal', interruptsDialog: true, run },
      { words: ['help'], scope: 'personal', interruptsDialog: true, run },
      { words: ['pending'], scope: ['channel', 'personal'], interruptsDialog: true, run },
    ]);
    assert.equal(registry.suggest('new tranfser', 'personal'), 'new transfer');
    assert.equal(registry.suggest('New Transfre please', 'personal'), 'new transfer');
    assert.equal(registry.suggest('statsu NTR-100001', 'personal'), 'status');
    assert.equal(registry.suggest('pendnig', 'channel'), 'pending');
    assert.equal(registry.suggest('hello', 'personal'), undefined);
    assert.equal(registry.suggest('x'.repeat(5000), 'personal'), undefined);
    assert.equal(registry.match('pending', 'personal')?.command.words[0], 'pending', 'a command may serve both scopes');
  });

  describe('audit history in words', () => {
    const request = {
      ...requestDetails({ id: 'priya', name: 'Priya Okafor' }),
      id: 1,
      reference: 'NTR-100001',
      accounts: [{ id: 11, position: 2, email: 'esme.flint@nhsmail.example' }],
    } as unknown as StoredRequest;
    const at = new Date('2026-11-24T10:00:00Z');
    const event = (action: string, detail: Record<string, unknown>, accountId: number | null = null): AuditEvent => ({
      action,
      actorId: 'x',
      actorName: 'Tom Ashdown',
      requestId: 1,
      accountId,
      occurredAt: at,
      detail,
    });

    it('renders each event as a sentence, never as raw fields', () => {
      const text = describeAudit(request, [
        event('request.submitted', {
          reference: 'NTR-100001',
          accountCount: 6,
          policyVersion: '2026.11-2',
          screened: { eligible: 2, review: 1, ineligible: 3 },
        }),
        event('request.claimed', { before: { status: 'submitted', reviewer: null }, after: { status: 'in_review', reviewer: 'Tom Ashdown' } }),
        event('request.asked', { questionId: 1, question: 'Which site?' }),
        event('request.answered', { questionId: 1, answer: 'Harbour Lane.' }),
        event(
          'account.corrected',
          { before: { decision: 'approved', by: 'Tom', reason: null }, after: { decision: 'rejected', by: 'Tom', reason: 'Wrong site.' } },
          11,
        ),
        event('requester.notification_failed', { kind: 'outcome', reason: 'HTTP_403' }),
      ]);
      assert.match(text, /submitted the request · 6 accounts: 2 eligible, 1 for review, 3 not eligible; screened under policy 2026\.11-2/);
      assert.match(text, /started reviewing · was awaiting review, now in review/);
      assert.match(text, /asked the requester · “Which site\?”/);
      assert.match(text, /answered · “Harbour Lane\.”/);
      assert.match(text, /changed a decision · account 2 \(esme\.flint@nhsmail\.example\) · from approved to rejected; reason: Wrong site\./);
      assert.match(text, /could not tell the requester · the outcome; Teams answered 403/);
      assert.doesNotMatch(text, /accountCount|questionId|in_review|submitted →|: \d+,/);
    });

    it('cuts long text at a word boundary, with an ellipsis', () => {
      const reason =
        'The site has not published its Data Security and Protection Toolkit assessment for this year and the practice manager says it will not be ready before the spring';
      const text = describeAudit(request, [event('account.rejected', { reason }, 11)]);
      const shown = /reason: (.*)$/m.exec(text)?.[1] ?? '';
      assert.ok(shown.endsWith('…'), shown);
      assert.ok(reason.startsWith(shown.slice(0, -1)), `a prefix of the reason: ${shown}`);
      assert.ok(reason[shown.length - 1] === ' ' || reason[shown.length - 1] === undefined, `cut before a space, not inside a word: "${shown}"`);
      assert.equal(clip('one two three four', 12), 'one two…');
    });
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  accountAction,
  meets,
  readyToComplete,
  recheckedAccounts,
  reasonNeeded,
  requestAction,
  requesterAction,
  type AccountAction,
  type LifecycleRequest,
  type ReasonNeeded,
  type RequestAction,
} from '../../services/requests/lifecycle';
import type { RequestStatus } from '../../services/model';

/**
 * The request's lifecycle decided in one place: each row is a request, an action and who
 * asks, and whether it is allowed (or the error code that refuses it). The ops card draws its
 * buttons from these answers and every use case asks again inside its transaction.
 */
const TOM = { id: 'tom', name: 'Tom Ashdown' };
const LENA = { id: 'lena', name: 'Lena Marsh' };
const at = new Date('2026-11-24T11:30:00Z');

/** changed: eligible at submission, now ineligible; confirmed: seen moved in the directory; overridden: NAS Operations vouched for it. */
type AccountState = 'eligible' | 'review' | 'screenedOut' | 'approved' | 'rejected' | 'transferred' | 'changed' | 'confirmed' | 'overridden';
function request(status: RequestStatus, accounts: AccountState[], options: { reviewer?: typeof TOM; openQuestion?: boolean } = {}): LifecycleRequest {
  return {
    status,
    claimedBy: options.reviewer ?? null,
    claimedAt: options.reviewer ? at : null,
    withdrawnAt: status === 'withdrawn' ? at : null,
    requester: { id: 'priya' },
    questions: options.openQuestion ? [{ answer: null }] : [{ answer: 'yes' }],
    accounts: accounts.map((state, index) => ({
      id: index + 1,
      verdict: state === 'review' ? 'review' : state === 'screenedOut' ? 'ineligible' : 'eligible',
      decision: ['approved', 'transferred', 'confirmed', 'overridden'].includes(state) ? 'approved' : state === 'rejected' ? 'rejected' : null,
      decidedBy: ['approved', 'rejected', 'transferred', 'confirmed', 'overridden'].includes(state) ? TOM : null,
      decidedAt: ['approved', 'rejected', 'transferred', 'confirmed', 'overridden'].includes(state) ? at : null,
      transferredAt: ['transferred', 'confirmed', 'overridden'].includes(state) ? at : null,
      transferConfirmedAt: state === 'confirmed' ? at : null,
      transferOverride: state === 'overridden' ? { by: LENA, at, reason: 'moved by hand' } : null,
      recheck:
        state === 'changed'
          ? {
              at,
              verdict: 'ineligible' as const,
              reasons: [],
              evidence: { directoryFound: true },
              changes: 'marked as a leaver, now ineligible',
              changedAt: at,
            }
          : null,
    })),
  };
}

const outcome = (verdict: { allowed: true } | { allowed: false; error: { code: string } }) => (verdict.allowed ? 'allowed' : verdict.error.code);

describe('the request lifecycle (one pure function for cards and transactions)', () => {
  const requestCases: Array<[string, LifecycleRequest, RequestAction, typeof TOM, string]> = [
    ['claim an unassigned request', request('submitted', ['eligible']), 'claim', TOM, 'allowed'],
    ['claim one someone else reviews', request('in_review', ['eligible'], { reviewer: LENA }), 'claim', TOM, 'ALREADY_CLAIMED'],
    ['claim one you review', request('in_review', ['eligible'], { reviewer: TOM }), 'claim', TOM, 'INVALID_INPUT'],
    ['take over from someone', request('in_review', ['eligible'], { reviewer: LENA }), 'takeOver', TOM, 'allowed'],
    ['take over nobody', request('submitted', ['eligible']), 'takeOver', TOM, 'INVALID_INPUT'],
    ['claim a decided request', request('decided', ['approved']), 'claim', TOM, 'INVALID_INPUT'],
    ['approve eligible with one undecided', request('in_review', ['eligible', 'review'], { reviewer: TOM }), 'approveEligible', TOM, 'allowed'],
    ['approve eligible with none eligible', request('submitted', ['review']), 'approveEligible', TOM, 'INVALID_INPUT'],
    ['approve eligible when all are decided', request('in_review', ['approved', 'review']), 'approveEligible', TOM, 'ALREADY_DECIDED'],
    ['approve eligible on a withdrawn request', request('withdrawn', ['eligible']), 'approveEligible', TOM, 'INVALID_INPUT'],
    ['reject undecided with some undecided', request('submitted', ['eligible', 'screenedOut']), 'rejectUndecided', TOM, 'allowed'],
    ['reject undecided when only the screened out are left', request('decided', ['approved', 'screenedOut']), 'rejectUndecided', TOM, 'ALREADY_DECIDED'],
    ['ask on a decided request', request('decided', ['approved']), 'ask', TOM, 'allowed'],
    ['ask on a completed request', request('completed', ['transferred']), 'ask', TOM, 'INVALID_INPUT'],
    ['mark transferred when decided', request('decided', ['approved', 'rejected']), 'markTransferred', TOM, 'allowed'],
    ['mark transferred while open', request('in_review', ['approved', 'eligible']), 'markTransferred', TOM, 'INVALID_INPUT'],
    ['mark transferred when all are', request('decided', ['transferred', 'rejected']), 'markTransferred', TOM, 'ALREADY_DECIDED'],
    ['approve eligible leaves a changed account alone', request('in_review', ['changed', 'eligible'], { reviewer: TOM }), 'approveEligible', TOM, 'allowed'],
    [
      'approve eligible when only changed accounts are left',
      request('in_review', ['changed', 'approved'], { reviewer: TOM }),
      'approveEligible',
      TOM,
      'INVALID_INPUT',
    ],
  ];
  for (const [name, subject, action, actor, expected] of requestCases) {
    it(`${name}: ${expected}`, () => assert.equal(outcome(requestAction(subject, action, actor)), expected));
  }

  const accountCases: Array<[string, LifecycleRequest, number, AccountAction, 'approved' | 'rejected' | undefined, string]> = [
    ['decide an undecided review account', request('in_review', ['review']), 1, 'decide', undefined, 'allowed'],
    ['decide a screened-out account', request('in_review', ['screenedOut', 'review']), 1, 'decide', undefined, 'INVALID_INPUT'],
    ['decide a decided account', request('in_review', ['approved', 'review']), 1, 'decide', undefined, 'ALREADY_DECIDED'],
    ['decide an account of another request', request('in_review', ['review']), 99, 'decide', undefined, 'ACCOUNT_NOT_IN_REQUEST'],
    ['correct an approval before transfer', request('decided', ['approved']), 1, 'correct', 'rejected', 'allowed'],
    ['correct to what it already is', request('decided', ['approved']), 1, 'correct', 'approved', 'INVALID_INPUT'],
    ['correct a transferred account', request('decided', ['transferred', 'approved']), 1, 'correct', 'rejected', 'INVALID_INPUT'],
    ['correct a rejection on a completed request', request('completed', ['transferred', 'rejected']), 2, 'correct', 'approved', 'INVALID_INPUT'],
    ['correct an undecided account', request('in_review', ['eligible']), 1, 'correct', 'approved', 'INVALID_INPUT'],
    ['mark one approved account transferred', request('decided', ['approved', 'rejected']), 1, 'markAccountTransferred', undefined, 'allowed'],
    ['mark a rejected account transferred', request('decided', ['approved', 'rejected']), 2, 'markAccountTransferred', undefined, 'INVALID_INPUT'],
    ['decide a changed account on its own', request('in_review', ['changed']), 1, 'decide', 'approved', 'allowed'],
    ['override a marked account the directory does not show moved', request('decided', ['transferred']), 1, 'overrideTransfer', undefined, 'allowed'],
    ['override an approved account not yet marked', request('decided', ['approved']), 1, 'overrideTransfer', undefined, 'INVALID_INPUT'],
    ['override a confirmed account', request('decided', ['confirmed']), 1, 'overrideTransfer', undefined, 'ALREADY_DECIDED'],
    ['override an overridden account', request('decided', ['overridden']), 1, 'overrideTransfer', undefined, 'ALREADY_DECIDED'],
    ['override a rejected account', request('decided', ['rejected']), 1, 'overrideTransfer', undefined, 'INVALID_INPUT'],
    ['override on an open request', request('in_review', ['transferred', 'eligible']), 1, 'overrideTransfer', undefined, 'INVALID_INPUT'],
  ];
  for (const [name, subject, accountId, action, to, expected] of accountCases) {
    it(`${name}: ${expected}`, () => assert.equal(outcome(accountAction(subject, accountId, action, to)), expected));
  }

  const reasonCases: Array<[string, LifecycleRequest, AccountAction, 'approved' | 'rejected' | undefined, ReasonNeeded | undefined]> = [
    ['approving an account now ineligible', request('in_review', ['changed']), 'decide', 'approved', 'approve_ineligible'],
    ['rejecting an account now ineligible (the reject reason is its own rule)', request('in_review', ['changed']), 'decide', 'rejected', undefined],
    ['approving an unchanged eligible account', request('in_review', ['eligible']), 'decide', 'approved', undefined],
    ['overriding the directory', request('decided', ['transferred']), 'overrideTransfer', undefined, 'override'],
  ];
  for (const [name, subject, action, to, needed] of reasonCases) {
    it(`${name}: ${needed ? `needs a reason (${needed})` : 'needs no reason'}`, () => assert.equal(reasonNeeded(subject, 1, action, to), needed));
  }

  const completionCases: Array<[string, LifecycleRequest, boolean]> = [
    ['every approved account confirmed or overridden', request('decided', ['confirmed', 'overridden', 'rejected']), true],
    ['an approved account marked but not seen moved', request('decided', ['confirmed', 'transferred']), false],
    ['an approved account not marked', request('decided', ['approved']), false],
    ['still open', request('in_review', ['confirmed', 'eligible']), false],
  ];
  for (const [name, subject, ready] of completionCases) {
    it(`completes when ${name}: ${ready}`, () => assert.equal(readyToComplete(subject), ready));
  }

  it('lets the requester withdraw until the first decision, and answer only an open question, and nobody else do either', () => {
    assert.equal(outcome(requesterAction(request('in_review', ['eligible']), 'withdraw', 'priya')), 'allowed');
    assert.equal(outcome(requesterAction(request('in_review', ['approved', 'eligible']), 'withdraw', 'priya')), 'INVALID_INPUT');
    assert.equal(outcome(requesterAction(request('in_review', ['eligible']), 'withdraw', 'sam')), 'NOT_YOUR_REQUEST');
    assert.equal(outcome(requesterAction(request('in_review', ['eligible'], { openQuestion: true }), 'answer', 'priya')), 'allowed');
    assert.equal(outcome(requesterAction(request('in_review', ['eligible']), 'answer', 'priya')), 'INVALID_INPUT');
  });
});

describe('which accounts the re-checks screen: the lifecycle’s rechecked rule, account by account', () => {
  const screened = (subject: LifecycleRequest) => recheckedAccounts(subject).map((account) => account.id);
  const ALL: AccountState[] = ['eligible', 'review', 'screenedOut', 'approved', 'rejected', 'transferred', 'changed', 'confirmed', 'overridden'];

  it('while open, every account put to a decision; once decided, each approved account not yet moved nor overridden; after, none', () => {
    assert.deepEqual(screened(request('submitted', ['eligible', 'review', 'screenedOut', 'changed'])), [1, 2, 4]);
    assert.deepEqual(screened(request('in_review', ['approved', 'rejected', 'screenedOut'])), [1, 2]);
    assert.deepEqual(screened(request('decided', ['approved', 'rejected', 'transferred', 'confirmed', 'overridden', 'screenedOut'])), [1, 3]);
    assert.deepEqual(screened(request('decided', ['rejected', 'confirmed'])), []);
    assert.deepEqual(screened(request('completed', ['confirmed', 'overridden'])), []);
    assert.deepEqual(screened(request('withdrawn', ['eligible', 'review'])), []);
  });

  it('agrees with the request condition the daily sweep filters by: accounts are screened only in a request that meets it', () => {
    for (const status of ['submitted', 'in_review', 'decided', 'completed', 'withdrawn'] as RequestStatus[]) {
      for (const first of ALL) {
        for (const second of ALL) {
          const subject = request(status, [first, second]);
          if (screened(subject).length > 0) assert.ok(meets(subject, 'rechecked'), `${status} ${first} ${second}`);
          // Decided, it is re-checked exactly while some account waits to be seen moved: the accounts it screens.
          if (status !== 'submitted' && status !== 'in_review')
            assert.equal(meets(subject, 'rechecked'), screened(subject).length > 0, `${status} ${first} ${second}`);
        }
      }
    }
  });
});

describe('the Teams edge calls use cases, never the store', () => {
  const ROOT = path.join(__dirname, '..', '..');
  const filesUnder = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
    });
  // The whole of bot/, so a new folder is covered too; the composition root (app.ts) is the one place that wires the store in.
  it('no file under bot/ imports from services/store', () => {
    const files = filesUnder(path.join(ROOT, 'bot'));
    assert.ok(files.length > 50, `read ${files.length} files`);
    const offenders = files.filter((file) => /from '(\.\.\/)+services\/store\//.test(readFileSync(file, 'utf8')));
    assert.deepEqual(
      offenders.map((file) => path.relative(ROOT, file)),
      [],
    );
  });
});

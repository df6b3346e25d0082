import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REASON_NEEDED_WORDS, refusalWords, REFUSAL_WORDS, userWords } from '../../bot/refusal-words';
import { formatTime, STATUS_LABEL, statusPhrase, type RequestStatus } from '../../services/model';
import {
  accountAction,
  ReasonRequiredError,
  REFUSAL_CODE,
  RefusedError,
  refusalReason,
  requestAction,
  requesterAction,
  type LifecycleRequest,
  type RefusalReason,
  type Verdict,
} from '../../services/requests/lifecycle';

/**
 * Which rule refuses each action in each state of a request: the lifecycle answers with a typed
 * reason (never English), so a test can tell the rules apart; the Teams edge words it from one
 * table (bot/refusal-words.ts).
 */
const TOM = { id: 'tom', name: 'Tom Ashdown' };
const LENA = { id: 'lena', name: 'Lena Marsh' };
const at = new Date('2026-11-24T11:30:00Z');

type AccountState = 'eligible' | 'approved' | 'marked' | 'confirmed';
function request(status: RequestStatus, state: AccountState, reviewer: typeof TOM | null, openQuestion: boolean): LifecycleRequest {
  const decided = state !== 'eligible';
  return {
    status,
    claimedBy: reviewer,
    claimedAt: reviewer ? at : null,
    withdrawnAt: status === 'withdrawn' ? at : null,
    requester: { id: 'priya' },
    questions: [{ answer: openQuestion ? null : 'yes' }],
    accounts: [
      {
        id: 1,
        verdict: 'eligible',
        decision: decided ? 'approved' : null,
        decidedBy: decided ? LENA : null,
        decidedAt: decided ? at : null,
        transferredAt: state === 'marked' || state === 'confirmed' ? at : null,
        transferConfirmedAt: state === 'confirmed' ? at : null,
        transferOverride: null,
        recheck: null,
      },
    ],
  };
}

/** Each state a request passes through, as the lifecycle sees it. */
const STATES = {
  'submitted, nobody reviewing': request('submitted', 'eligible', null, false),
  'in review by Lena, a question open': request('in_review', 'eligible', LENA, true),
  'decided, approved, not marked': request('decided', 'approved', LENA, false),
  'decided, marked transferred': request('decided', 'marked', LENA, false),
  completed: request('completed', 'confirmed', LENA, false),
  withdrawn: request('withdrawn', 'eligible', null, false),
} satisfies Record<string, LifecycleRequest>;

const ACTIONS = {
  claim: (subject) => requestAction(subject, 'claim', TOM),
  takeOver: (subject) => requestAction(subject, 'takeOver', TOM),
  approveEligible: (subject) => requestAction(subject, 'approveEligible', TOM),
  rejectUndecided: (subject) => requestAction(subject, 'rejectUndecided', TOM),
  ask: (subject) => requestAction(subject, 'ask', TOM),
  markTransferred: (subject) => requestAction(subject, 'markTransferred', TOM),
  decide: (subject) => accountAction(subject, 1, 'decide'),
  'correct to rejected': (subject) => accountAction(subject, 1, 'correct', 'rejected'),
  markAccountTransferred: (subject) => accountAction(subject, 1, 'markAccountTransferred'),
  overrideTransfer: (subject) => accountAction(subject, 1, 'overrideTransfer'),
  withdraw: (subject) => requesterAction(subject, 'withdraw', 'priya'),
  answer: (subject) => requesterAction(subject, 'answer', 'priya'),
} satisfies Record<string, (subject: LifecycleRequest) => Verdict>;

const outcome = (verdict: Verdict): RefusalReason | 'allowed' => refusalReason(verdict) ?? 'allowed';

/** The whole table: (state, action) → allowed, or the rule that refuses. */
const EXPECTED: Record<keyof typeof STATES, Record<keyof typeof ACTIONS, RefusalReason | 'allowed'>> = {
  'submitted, nobody reviewing': {
    claim: 'allowed',
    takeOver: 'nobody_reviewing',
    approveEligible: 'allowed',
    rejectUndecided: 'allowed',
    ask: 'allowed',
    markTransferred: 'not_all_decided',
    decide: 'allowed',
    'correct to rejected': 'not_decided_yet',
    markAccountTransferred: 'not_all_decided',
    overrideTransfer: 'transfer_not_decided',
    withdraw: 'allowed',
    answer: 'no_open_question',
  },
  'in review by Lena, a question open': {
    claim: 'claimed_by_other',
    takeOver: 'allowed',
    approveEligible: 'allowed',
    rejectUndecided: 'allowed',
    ask: 'allowed',
    markTransferred: 'not_all_decided',
    decide: 'allowed',
    'correct to rejected': 'not_decided_yet',
    markAccountTransferred: 'not_all_decided',
    overrideTransfer: 'transfer_not_decided',
    withdraw: 'allowed',
    answer: 'allowed',
  },
  'decided, approved, not marked': {
    claim: 'not_open',
    takeOver: 'not_open',
    approveEligible: 'nothing_left_to_decide',
    rejectUndecided: 'nothing_left_to_decide',
    ask: 'allowed',
    markTransferred: 'allowed',
    decide: 'account_already_decided',
    'correct to rejected': 'allowed',
    markAccountTransferred: 'allowed',
    overrideTransfer: 'not_marked_transferred',
    withdraw: 'decisions_made',
    answer: 'no_open_question',
  },
  'decided, marked transferred': {
    claim: 'not_open',
    takeOver: 'not_open',
    approveEligible: 'nothing_left_to_decide',
    rejectUndecided: 'nothing_left_to_decide',
    ask: 'allowed',
    markTransferred: 'already_marked_transferred',
    decide: 'account_already_decided',
    'correct to rejected': 'account_transferred',
    markAccountTransferred: 'already_marked_transferred',
    overrideTransfer: 'allowed',
    withdraw: 'decisions_made',
    answer: 'no_open_question',
  },
  completed: {
    claim: 'not_open',
    takeOver: 'not_open',
    approveEligible: 'nothing_left_to_decide',
    rejectUndecided: 'nothing_left_to_decide',
    ask: 'no_one_to_ask',
    markTransferred: 'already_marked_transferred',
    decide: 'account_already_decided',
    'correct to rejected': 'completed',
    markAccountTransferred: 'already_marked_transferred',
    overrideTransfer: 'transfer_not_decided',
    withdraw: 'decisions_made',
    answer: 'no_open_question',
  },
  withdrawn: {
    claim: 'not_open',
    takeOver: 'not_open',
    approveEligible: 'withdrawn',
    rejectUndecided: 'withdrawn',
    ask: 'no_one_to_ask',
    markTransferred: 'not_all_decided',
    decide: 'withdrawn',
    'correct to rejected': 'withdrawn_no_corrections',
    markAccountTransferred: 'not_all_decided',
    overrideTransfer: 'transfer_not_decided',
    withdraw: 'already_withdrawn',
    answer: 'no_open_question',
  },
};

describe('the lifecycle refuses with a typed reason: each (state, action)', () => {
  for (const [stateName, subject] of Object.entries(STATES)) {
    for (const [actionName, act] of Object.entries(ACTIONS)) {
      it(`${stateName} · ${actionName}: ${EXPECTED[stateName as keyof typeof STATES][actionName as keyof typeof ACTIONS]}`, () => {
        assert.equal(outcome(act(subject)), EXPECTED[stateName as keyof typeof STATES][actionName as keyof typeof ACTIONS]);
      });
    }
  }
});

/** The rules the table above cannot reach with one plain account, each on the request that meets it. */
function withAccounts(status: RequestStatus, accounts: Array<Partial<LifecycleRequest['accounts'][number]>>): LifecycleRequest {
  const base = request(status, 'eligible', null, false);
  return { ...base, accounts: accounts.map((account, index) => ({ ...base.accounts[0]!, id: index + 1, ...account })) };
}
const approved = { decision: 'approved' as const, decidedBy: LENA, decidedAt: at };
const ONE_RULE_CASES: Array<[string, () => Verdict, RefusalReason]> = [
  ['claim one you review', () => requestAction(request('in_review', 'eligible', TOM, false), 'claim', TOM), 'already_reviewing'],
  [
    'approve eligible with none eligible',
    () => requestAction(withAccounts('submitted', [{ verdict: 'review' }]), 'approveEligible', TOM),
    'no_eligible_accounts',
  ],
  [
    'approve eligible when only changed accounts are left',
    () => requestAction(withAccounts('in_review', [{ recheck: { verdict: 'ineligible', changes: 'a leaver' } }]), 'approveEligible', TOM),
    'all_changed_since_submission',
  ],
  ['decide an account of another request', () => accountAction(request('in_review', 'eligible', null, false), 99, 'decide'), 'account_not_in_request'],
  ['decide a screened-out account', () => accountAction(withAccounts('in_review', [{ verdict: 'ineligible' }]), 1, 'decide'), 'screened_out'],
  ['correct to what it already is', () => accountAction(withAccounts('decided', [approved]), 1, 'correct', 'approved'), 'same_decision'],
  [
    'mark a rejected account transferred',
    () => accountAction(withAccounts('decided', [approved, { decision: 'rejected', decidedBy: LENA, decidedAt: at }]), 2, 'markAccountTransferred'),
    'not_approved',
  ],
  [
    'override a rejected account',
    () => accountAction(withAccounts('decided', [{ decision: 'rejected', decidedBy: LENA, decidedAt: at }]), 1, 'overrideTransfer'),
    'not_approved_to_override',
  ],
  [
    'override a confirmed account',
    () => accountAction(withAccounts('decided', [{ ...approved, transferredAt: at, transferConfirmedAt: at }]), 1, 'overrideTransfer'),
    'transfer_confirmed',
  ],
  [
    'override an overridden account',
    () =>
      accountAction(withAccounts('decided', [{ ...approved, transferredAt: at, transferOverride: { by: TOM, at, reason: 'by hand' } }]), 1, 'overrideTransfer'),
    'transfer_overridden',
  ],
  ['withdraw someone else’s request', () => requesterAction(request('submitted', 'eligible', null, false), 'withdraw', 'sam'), 'not_your_request'],
];

describe('the lifecycle refuses with a typed reason: the rules one account cannot show', () => {
  for (const [name, verdict, expected] of ONE_RULE_CASES) {
    it(`${name}: ${expected}`, () => assert.equal(outcome(verdict()), expected));
  }

  it('every refusal reason is reached by a case above (a new rule needs its row)', () => {
    const reached = new Set<string>([...Object.values(EXPECTED).flatMap((row) => Object.values(row)), ...ONE_RULE_CASES.map(([, , reason]) => reason)]);
    assert.deepEqual(
      Object.keys(REFUSAL_CODE).filter((reason) => !reached.has(reason)),
      [],
    );
  });
});

describe('refusals are worded at the Teams edge, in one table', () => {
  const wordsOf = (verdict: Verdict) => {
    assert.ok(!verdict.allowed && verdict.error instanceof RefusedError);
    return refusalWords(verdict.error.refusal, verdict.error.code);
  };

  it('keeps the words people were told, with the facts of the request', () => {
    assert.equal(
      wordsOf(requestAction(request('in_review', 'eligible', LENA, false), 'claim', TOM)),
      `Someone else is already reviewing this request. Lena Marsh has been reviewing it since ${formatTime(at)}.`,
    );
    assert.equal(wordsOf(requestAction(STATES.withdrawn, 'approveEligible', TOM)), 'The requester withdrew this request: there is nothing to decide.');
    assert.equal(
      wordsOf(accountAction(STATES['decided, marked transferred'], 1, 'correct', 'rejected')),
      `That account was transferred at ${formatTime(at)}; its decision can no longer change.`,
    );
    assert.equal(wordsOf(requesterAction(STATES['decided, approved, not marked'], 'answer', 'priya')), 'NAS Operations have no open question on that request.');
  });

  it('words the status a question is refused for, from the one table of status words, never its stored value', () => {
    assert.equal(wordsOf(requestAction(STATES.completed, 'ask', TOM)), 'This request is completed: questions can no longer be put to the requester about it.');
    assert.equal(wordsOf(requestAction(STATES.withdrawn, 'ask', TOM)), 'This request is withdrawn: questions can no longer be put to the requester about it.');
    // Whatever status a refusal names, the person reads it in words ("in review", "awaiting review"), never "in_review".
    for (const status of Object.keys(STATUS_LABEL) as RequestStatus[]) {
      const words = REFUSAL_WORDS.no_one_to_ask!({ reason: 'no_one_to_ask', request: { ...STATES.withdrawn, status } });
      assert.ok(words.includes(statusPhrase(status)) && !words.includes('_'), `${status}: ${words}`);
    }
  });

  it('a completed request is told it has nothing left to mark, not that it waits for decisions', () => {
    assert.match(wordsOf(requestAction(STATES.completed, 'markTransferred', TOM)), /already marked as transferred/);
  });

  const servicesRequests = () =>
    readdirSync(path.join(__dirname, '../../services/requests'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(path.join(__dirname, '../../services/requests', file), 'utf8'))
      .join('\n');

  it('a missing reason is a code saying which (REASON_REQUIRED), worded at the edge as before, and services/requests/ holds none of those words', () => {
    const error = new ReasonRequiredError('approve_ineligible');
    assert.deepEqual([error.code, error.needed], ['REASON_REQUIRED', 'approve_ineligible']);
    assert.equal(
      userWords(error),
      'This account is not eligible now (see what changed since submission): give a reason to approve it anyway, in the box above the buttons.',
    );
    const sources = servicesRequests();
    for (const [needed, words] of Object.entries(REASON_NEEDED_WORDS))
      assert.ok(!sources.includes(words.slice(0, 30)), `${needed} is worded in services/requests/`);
  });

  it('services/requests/ holds none of the refusal words', () => {
    const sources = servicesRequests();
    for (const [reason, words] of Object.entries(REFUSAL_WORDS)) {
      if (!words) continue;
      const sentence = words({ reason: reason as RefusalReason, request: STATES.completed, account: STATES.completed.accounts[0]!, to: 'approved' });
      assert.ok(!sources.includes(sentence.slice(0, 30)), `${reason} is worded in services/requests/`);
    }
  });
});

import type { Verdict } from '../../services/eligibility/types';
import type { Actor, Decision, RequestStatus, StoredAccount, StoredRequest } from '../../services/model';
import { requestDetails } from './fixtures';

/**
 * Stored requests in each state the ops card draws, for rendering the real cards without a
 * database: a fresh request, one in review part-decided, decided, part-transferred,
 * completed and withdrawn. Accounts (in request order): an eligible one, one for review, a
 * second eligible one, and one screened out at submission.
 */
export const TOM: Actor = { id: '6e6d7300-0000-4000-8000-000000000131', name: 'Tom Ashdown' };
export const PRIYA: Actor = { id: '6e6d7300-0000-4000-8000-000000000128', name: 'Priya Okafor' };

export const SAMPLE_EMAILS = {
  eligible: 'amara.mensah@nhsmail.example',
  review: 'esme.flint@nhsmail.example',
  secondEligible: 'rosa.kemp@nhsmail.example',
  screenedOut: 'kezia.morrow@nhsmail.example',
} as const;

const AT = new Date('2026-11-24T11:30:00Z');

function sampleAccount(id: number, email: string, verdict: Verdict, decision: Decision | null = null, transferred = false): StoredAccount {
  return {
    id,
    position: id - 100,
    email,
    siteOds: 'ZZ9103',
    specialism: null,
    verdict,
    reasons:
      verdict === 'review'
        ? [
            {
              rule: 'SITE_NOT_DSPT_COMPLIANT',
              verdict: 'review',
              message: 'Site ZZ9103 DSPT status is Approaching Standards.',
              remedy: 'Complete the DSPT for the site.',
            },
          ]
        : verdict === 'ineligible'
          ? [
              {
                rule: 'MARKED_AS_LEAVER',
                verdict: 'ineligible',
                message: 'The account is marked as a leaver.',
                remedy: 'Unmark it as a leaver, then resubmit.',
              },
            ]
          : [],
    evidence: {
      directoryFound: true,
      displayName: email.split('@')[0],
      siteOds: 'ZZ9103',
      siteName: 'Harbour Lane Pharmacy',
      siteSource: 'directory',
      sectorName: 'Pharmacy',
      sectorSource: 'ods-role',
      dsptStatus: '25/26 Approaching Standards',
      jobTitle: 'Pharmacist',
      ukMobileOnRecord: true,
    },
    decision,
    decisionReason: decision === 'rejected' ? 'DSPT must be met before transfer.' : null,
    decidedBy: decision ? TOM : null,
    decidedAt: decision ? AT : null,
    transferredBy: transferred ? TOM : null,
    transferredAt: transferred ? AT : null,
    transferNote: transferred ? 'Moved in the first batch' : null,
  };
}

export type SampleState = 'submitted' | 'in_review' | 'decided' | 'part_transferred' | 'completed' | 'withdrawn';

/** The request as it stands in `state`. */
export function sampleRequest(state: SampleState): StoredRequest {
  const decisions: Record<SampleState, [Decision | null, Decision | null, Decision | null]> = {
    submitted: [null, null, null],
    in_review: [null, null, 'approved'],
    decided: ['approved', 'rejected', 'approved'],
    part_transferred: ['approved', 'rejected', 'approved'],
    completed: ['approved', 'rejected', 'approved'],
    withdrawn: [null, null, null],
  };
  const [first, review, second] = decisions[state];
  const status: RequestStatus = state === 'part_transferred' ? 'decided' : state;
  return {
    ...requestDetails(PRIYA),
    id: 7,
    reference: 'NTR-100007',
    status,
    createdAt: new Date('2026-11-23T10:00:00Z'),
    decidedAt: ['decided', 'part_transferred', 'completed'].includes(state) ? AT : null,
    opsConversationId: null,
    opsActivityId: null,
    outcomeNotifiedAt: null,
    outcomeNotification: ['decided', 'part_transferred', 'completed'].includes(state) ? 'delivered' : 'not_due',
    claimedBy: state === 'submitted' || state === 'withdrawn' ? null : TOM,
    claimedAt: state === 'submitted' || state === 'withdrawn' ? null : AT,
    completedAt: state === 'completed' ? AT : null,
    withdrawnAt: state === 'withdrawn' ? AT : null,
    questions:
      state === 'in_review' ? [{ id: 1, askedBy: TOM, question: 'Is the DSPT for ZZ9103 published yet?', askedAt: AT, answer: null, answeredAt: null }] : [],
    accounts: [
      sampleAccount(101, SAMPLE_EMAILS.eligible, 'eligible', first, state === 'part_transferred' || state === 'completed'),
      sampleAccount(102, SAMPLE_EMAILS.review, 'review', review),
      sampleAccount(103, SAMPLE_EMAILS.secondEligible, 'eligible', second, state === 'completed'),
      sampleAccount(104, SAMPLE_EMAILS.screenedOut, 'ineligible'),
    ],
  };
}

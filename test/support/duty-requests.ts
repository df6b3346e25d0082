import type { Reason } from '../../services/eligibility/types';
import type { Decision, StoredAccount, StoredRequest } from '../../services/model';

/** An account as the store gives it back, for the affected-users tests. */
export function storedAccount(
  id: number,
  email: string,
  options: { displayName?: string; decision?: Decision | null; decisionReason?: string; reasons?: Reason[]; verdict?: StoredAccount['verdict'] } = {},
): StoredAccount {
  const reasons = options.reasons ?? [];
  return {
    id,
    position: id,
    email,
    siteOds: 'ZZ9103',
    specialism: null,
    verdict: options.verdict ?? (reasons.some((reason) => reason.verdict === 'ineligible') ? 'ineligible' : 'eligible'),
    reasons,
    evidence: { directoryFound: true, displayName: options.displayName },
    decision: options.decision ?? null,
    decisionReason: options.decisionReason ?? null,
    decidedBy: options.decision ? { id: 'ops-tom', name: 'Tom Ashdown' } : null,
    decidedAt: options.decision ? new Date('2026-12-03T10:00:00Z') : null,
    transferredBy: null,
    transferredAt: null,
    transferNote: null,
  };
}

export function storedRequest(accounts: StoredAccount[], overrides: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id: 7,
    reference: 'NTR-100007',
    status: 'submitted',
    createdAt: new Date('2026-12-01T10:00:00Z'),
    decidedAt: null,
    opsConversationId: null,
    opsActivityId: null,
    outcomeNotifiedAt: null,
    outcomeNotification: 'not_due',
    claimedBy: null,
    claimedAt: null,
    completedAt: null,
    withdrawnAt: null,
    questions: [],
    organisationOds: 'ZZ9001',
    organisationName: 'Northmoor Community Care Partnership',
    requester: { id: 'priya', name: 'Priya Okafor' },
    reason: 'Sponsorship ends in March.',
    attestations: { usersInformed: false, residualDataRemoved: false, notMarkedAsLeavers: false, resolutionForIneligible: false },
    policyVersion: '2026.11-4',
    accounts,
    ...overrides,
  };
}

export const NO_MOBILE: Reason = { rule: 'NO_UK_MOBILE', verdict: 'ineligible', message: 'No mobile number is registered.', remedy: 'Add a UK mobile.' };
export const NOT_PATIENT_CARE: Reason = {
  rule: 'NOT_DIRECT_PATIENT_CARE',
  verdict: 'ineligible',
  message: 'The job title "Head office finance" is not a direct patient care role.',
  remedy: 'Keep administering this account locally.',
};
export const NOT_FOUND: Reason = { rule: 'ACCOUNT_NOT_FOUND', verdict: 'ineligible', message: 'Not in the directory.', remedy: 'Check the address.' };

/** The workspace API's answers as the page receives them (JSON: times are ISO strings). */
export type RequestStatus = 'submitted' | 'in_review' | 'decided' | 'completed' | 'withdrawn';

export interface Actor {
  id: string;
  name: string;
}

export interface QueueEntry {
  id: number;
  reference: string;
  organisationOds: string;
  organisationName: string;
  requesterName: string;
  status: RequestStatus;
  statusLabel: string;
  createdAt: string;
  closedAt: string | null;
  reviewer: Actor | null;
  ageWorkingDays: number;
  overdue: boolean;
  counts: {
    accounts: number;
    eligible: number;
    review: number;
    ineligible: number;
    approved: number;
    rejected: number;
    transferred: number;
    changed: number | null;
  };
}

export interface QueueAnswer {
  entries: QueueEntry[];
  total: number;
  page: number;
  pageSize: number;
  overdueAfterWorkingDays: number;
  reviewers: Actor[];
}

export interface Reason {
  rule: string;
  verdict: string;
  message: string;
  remedy?: string;
}

export interface Account {
  id: number;
  position: number;
  email: string;
  siteOds: string | null;
  specialism: string | null;
  verdict: 'eligible' | 'ineligible' | 'review';
  reasons: Reason[];
  evidence: Record<string, unknown>;
  decision: 'approved' | 'rejected' | null;
  decisionReason: string | null;
  decidedBy: Actor | null;
  decidedAt: string | null;
  transferredBy: Actor | null;
  transferredAt: string | null;
  transferNote: string | null;
  recheck?: { at: string; verdict: string; changes: string | null; changedAt: string | null } | null;
  transferConfirmedAt?: string | null;
  transferOverride?: { by: Actor; at: string; reason: string } | null;
}

export interface RequestAnswer {
  request: {
    id: number;
    reference: string;
    organisationOds: string;
    organisationName: string;
    requester: Actor;
    reason: string;
    attestations: Record<string, boolean>;
    policyVersion: string;
    status: RequestStatus;
    statusLabel: string;
    createdAt: string;
    decidedAt: string | null;
    completedAt: string | null;
    withdrawnAt: string | null;
    claimedBy: Actor | null;
    claimedAt: string | null;
    outcomeNotification: 'not_due' | 'pending' | 'delivered' | 'undeliverable';
    questions: Array<{ id: number; askedBy: Actor; question: string; askedAt: string; answer: string | null; answeredAt: string | null }>;
    accounts: Account[];
  };
  /** `what` and `detailText` are the event in words (bot/audit-words.ts); `action` and `detail` as recorded. */
  audit: Array<{
    action: string;
    what: string;
    actorName: string;
    accountId: number | null;
    occurredAt: string;
    detail: Record<string, unknown>;
    detailText: string;
  }>;
  ageWorkingDays: number;
  overdue: boolean;
  cardLink: string | null;
  canClaim: boolean;
  reviewingIsMe: boolean;
}

export interface PictureAnswer {
  openByAge: Array<{ label: string; submitted: number; inReview: number }>;
  overdueOpen: number;
  weeks: Array<{ week: string; received: number; decided: number }>;
  decisions: { count: number; medianWorkingDays: number | null; medianHours: number | null };
  overdueAfterWorkingDays: number;
}

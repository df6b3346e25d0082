// Transitional: the model moved to services/model.ts; the store is split into requests.ts, decisions.ts, outbox.ts and audit.ts.
export { formatTime } from '../model';
export type { Actor, Attestations, Decision, DecisionOutcome, RequestDetails, RequestStatus, RequestSummary, StoredAccount, StoredRequest } from '../model';

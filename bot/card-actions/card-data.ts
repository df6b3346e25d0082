import { z } from 'zod';

/** Card data arrives as strings from templates; every id is re-checked as a positive integer. */
export const requestIdField = z.coerce.number().int().positive().max(2_147_483_647);
/** First account the ops card shows (0-based). */
export const startField = z.coerce.number().int().min(0).max(100_000).default(0);
export const decisionReasonField = z
  .string()
  .trim()
  .max(500)
  .optional()
  .transform((value) => (value ? value : undefined));

/** A decision on one account, as a row's Approve/Reject (decideAccount) or a change of it (correctDecision) sends it. */
export const accountDecisionData = z.object({
  requestId: requestIdField,
  accountId: requestIdField,
  decision: z.enum(['approved', 'rejected']),
  start: startField,
  decisionReason: decisionReasonField,
});

import type { Reason, Verdict } from '../services/eligibility/types';
import { VERDICT_DISPLAY, type CardColor } from './labels';

export interface ReasonLine {
  text: string;
}

export interface AccountRowData {
  position: number;
  email: string;
  verdictLabel: string;
  verdictColor: CardColor;
  reasons: ReasonLine[];
}

const ATTENTION_ORDER: Record<Verdict, number> = { ineligible: 0, review: 1, eligible: 2 };

/** Accounts needing attention first, then in request order. */
export function byAttention<T extends { verdict: Verdict; position: number }>(accounts: readonly T[]): T[] {
  return [...accounts].sort((a, b) => ATTENTION_ORDER[a.verdict] - ATTENTION_ORDER[b.verdict] || a.position - b.position);
}

export function accountRow(account: { position: number; email: string; verdict: Verdict; reasons: readonly Reason[] }, withRemedy: boolean): AccountRowData {
  const display = VERDICT_DISPLAY[account.verdict];
  return {
    position: account.position,
    email: account.email,
    verdictLabel: display.label,
    verdictColor: display.color,
    reasons: account.reasons.map((reason) => ({ text: `${reason.rule}: ${reason.message}${withRemedy ? ` Next step: ${reason.remedy}` : ''}` })),
  };
}

export function countVerdicts(accounts: readonly { verdict: Verdict }[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { eligible: 0, review: 0, ineligible: 0 };
  for (const account of accounts) counts[account.verdict]++;
  return counts;
}

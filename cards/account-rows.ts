import type { Evidence, Reason, Verdict } from '../services/eligibility/types';
import { VERDICT_DISPLAY, type CardColor } from './labels';

export interface ReasonLine {
  text: string;
}

export interface AccountRowData {
  position: number;
  /** Markdown-escaped for a TextBlock: an address may hold *, _, ~, ` and | (RFC 5322 allows them). */
  email: string;
  verdictLabel: string;
  verdictColor: CardColor;
  reasons: ReasonLine[];
  /**
   * What the verdict was based on, on one line, markdown-escaped for a TextBlock: display
   * name, site, sector and where it came from, DSPT, job title, whether a UK mobile is
   * registered (never the number). Empty when nothing was looked up.
   */
  evidenceLine: string;
}

/** Accounts NAS must judge first, then those not eligible, then the rest; each in request order. */
const ATTENTION_ORDER: Record<Verdict, number> = { review: 0, ineligible: 1, eligible: 2 };

export function byAttention<T extends { verdict: Verdict; position: number }>(accounts: readonly T[]): T[] {
  return [...accounts].sort((a, b) => ATTENTION_ORDER[a.verdict] - ATTENTION_ORDER[b.verdict] || a.position - b.position);
}

/**
 * A row of the requester's or ops card. Rule ids are for JSON and exports: the text a person
 * reads is the reason, then (for the requester) its next step.
 */
export function accountRow(account: { position: number; email: string; verdict: Verdict; reasons: readonly Reason[]; evidence?: Evidence }, withRemedy: boolean): AccountRowData {
  const display = VERDICT_DISPLAY[account.verdict];
  return {
    position: account.position,
    email: escapeMarkdown(account.email),
    verdictLabel: display.label,
    verdictColor: display.color,
    reasons: account.reasons.map((reason) => ({ text: escapeMarkdown(`${reason.message}${withRemedy ? ` Next step: ${reason.remedy}` : ''}`) })),
    evidenceLine: account.evidence ? evidenceLine(account.evidence) : '',
  };
}

export function evidenceLine(evidence: Evidence): string {
  if (!evidence.directoryFound) return escapeMarkdown('Not found in the directory.');
  const parts: string[] = [];
  if (evidence.displayName) parts.push(evidence.displayName);
  if (evidence.siteOds) {
    const origin = evidence.siteSource === 'input' ? 'as listed' : 'from the directory';
    parts.push(`Site ${evidence.siteOds}${evidence.siteName ? ` ${evidence.siteName}` : evidence.siteActive === undefined ? ' (not in ODS)' : ''} (${origin})`);
  } else {
    parts.push('No site recorded');
  }
  if (evidence.sectorName) parts.push(`Sector: ${evidence.sectorName} (${evidence.sectorSource === 'ods-role' ? `from ODS${evidence.sectorRoleId ? ` role ${evidence.sectorRoleId}` : ''}` : 'declared'})`);
  else parts.push('Sector: unknown');
  if (evidence.siteOds) parts.push(`DSPT: ${evidence.dsptStatus ? `${evidence.dsptStatus}${evidence.dsptPublished ? ` (${evidence.dsptPublished})` : ''}` : 'not in the register'}`);
  parts.push(`Job title: ${evidence.jobTitle ?? 'none recorded'}`);
  if (evidence.mobileCheck !== undefined || evidence.ukMobileOnRecord !== undefined) {
    const crown = evidence.mobileCheck === 'crown-dependency-mobile' && evidence.mobileCountry ? ` (a ${evidence.mobileCountry} mobile)` : '';
    parts.push(`UK mobile registered: ${evidence.ukMobileOnRecord ? 'yes' : 'no'}${crown}`);
  }
  return escapeMarkdown(parts.join(' · '));
}

/**
 * Text from the directory, ODS or the requester, made inert for an Adaptive Card TextBlock:
 * control characters go, and the characters Teams' markdown acts on are backslash-escaped.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/([\\`*_~[\]<>#|])/g, '\\$1')
    .replace(/^(\s*)([-+]|\d+\.)(\s)/, '$1\\$2$3');
}

export function countVerdicts(accounts: readonly { verdict: Verdict }[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { eligible: 0, review: 0, ineligible: 0 };
  for (const account of accounts) counts[account.verdict]++;
  return counts;
}

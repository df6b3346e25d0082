import type { Evidence, Reason, Verdict } from '../services/eligibility/types';
import { escapeMarkdown } from '../core/text';
import { VERDICT_DISPLAY, type CardColor } from './labels';

/** Moved to core/text; re-exported until bot/messaging/owed-messages.ts (another engineer's file) imports it from there. */
export { escapeMarkdown };

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

/** Who reads a row: requesters see names and next steps; NAS Operations also see the codes behind them. */
export type RowAudience = 'requester' | 'ops';

/**
 * A row of the requester's or ops card. Rule ids are for JSON and exports: the text a person
 * reads is the reason, then (for the requester) its next step. `true`/`false` are the older
 * spelling of 'requester'/'ops'.
 */
export function accountRow(
  account: { position: number; email: string; verdict: Verdict; reasons: readonly Reason[]; evidence?: Evidence },
  audience: RowAudience | boolean,
): AccountRowData {
  const reader: RowAudience = audience === true || audience === 'requester' ? 'requester' : 'ops';
  const display = VERDICT_DISPLAY[account.verdict];
  return {
    position: account.position,
    email: escapeMarkdown(account.email),
    verdictLabel: display.label,
    verdictColor: display.color,
    reasons: account.reasons.map((reason) => ({ text: escapeMarkdown(`${reason.message}${reader === 'requester' ? ` Next step: ${reason.remedy}` : ''}`) })),
    evidenceLine: account.evidence ? evidenceLine(account.evidence, reader) : '',
  };
}

const REGION_NAMES = new Intl.DisplayNames(['en-GB'], { type: 'region' });
const UK_DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A date as the rest of the bot writes it ("29 Nov 2026"), from ISO (2026-11-29) or UK (29/11/2026) text; anything else as given. */
export function ukDate(text: string): string {
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : uk ? [uk[3], uk[2], uk[1]] : [];
  if (!year || !month || !day) return text;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(day) ? text : UK_DATE.format(date);
}

/** "Guernsey" for GG; NAS Operations also see the code ("Guernsey (GG)"). */
function countryName(code: string, reader: RowAudience): string {
  let name: string | undefined;
  try {
    name = REGION_NAMES.of(code.toUpperCase());
  } catch {
    name = undefined;
  }
  if (!name || name === code.toUpperCase()) return code;
  return reader === 'ops' ? `${name} (${code.toUpperCase()})` : name;
}

/**
 * What the verdict was based on, on one line. An address the directory does not know has no
 * evidence line: its reason already says so, once.
 */
export function evidenceLine(evidence: Evidence, reader: RowAudience = 'ops'): string {
  if (!evidence.directoryFound) return '';
  const parts: string[] = [];
  if (evidence.displayName) parts.push(evidence.displayName);
  if (evidence.siteOds) {
    const origin = evidence.siteSource === 'input' ? 'as listed' : 'from the directory';
    parts.push(`Site ${evidence.siteOds}${evidence.siteName ? ` ${evidence.siteName}` : evidence.siteActive === undefined ? ' (not in ODS)' : ''} (${origin})`);
  } else {
    parts.push('No site recorded');
  }
  if (evidence.sectorName) {
    const role = reader === 'ops' && evidence.sectorRoleId ? ` role ${evidence.sectorRoleId}` : '';
    const from = evidence.sectorSource === 'ods-role' ? `from ODS${role}` : evidence.sectorSource === 'dspt-sector' ? 'from the DSPT register' : 'declared';
    parts.push(`Sector: ${evidence.sectorName} (${from})`);
  } else parts.push('Sector: unknown');
  if (evidence.siteOds) {
    // A "Not Published" row may carry a date: it is not a publication date, so it is not shown as one.
    const published = evidence.dsptPublished && !/not published/i.test(evidence.dsptStatus ?? '') ? ` (${ukDate(evidence.dsptPublished)})` : '';
    const sector = reader === 'ops' && evidence.dsptPrimarySector ? `, DSPT sector ${evidence.dsptPrimarySector}` : '';
    parts.push(`DSPT: ${evidence.dsptStatus ? `${evidence.dsptStatus}${published}${sector}` : 'not in the register'}`);
  }
  parts.push(`Job title: ${evidence.jobTitle ?? 'none recorded'}`);
  if (evidence.mobileCheck !== undefined || evidence.ukMobileOnRecord !== undefined) {
    const crown =
      evidence.mobileCheck === 'crown-dependency-mobile' && evidence.mobileCountry ? ` (a ${countryName(evidence.mobileCountry, reader)} mobile)` : '';
    parts.push(`UK mobile registered: ${evidence.ukMobileOnRecord ? 'yes' : 'no'}${crown}`);
  }
  // NAS Operations see the account's history and which copy of the data each verdict used.
  if (reader === 'ops' && evidence.earlierRequest) parts.push(`Earlier in ${evidence.earlierRequest.reference}: ${evidence.earlierRequest.outcome}`);
  if (reader === 'ops') parts.push(...snapshots(evidence));
  return escapeMarkdown(parts.join(' · '));
}

/** How the DSPT register copy was dated, and how old it was at screening: the age the DSPT rule judged. */
function dsptRegisterAge(evidence: Evidence): string | undefined {
  if (!evidence.dsptRegisterFile) return undefined;
  if (!evidence.dsptRegisterDate) return 'date unknown';
  const source =
    evidence.dsptRegisterDateSource === 'export-name'
      ? 'by its export name'
      : evidence.dsptRegisterDateSource === 'first-seen'
        ? 'first seen by the bot'
        : undefined;
  const age =
    evidence.dsptRegisterAgeDays !== undefined ? `${evidence.dsptRegisterAgeDays} ${evidence.dsptRegisterAgeDays === 1 ? 'day' : 'days'} old` : undefined;
  const words = [source, age].filter(Boolean).join(', ');
  return words || undefined;
}

function snapshots(evidence: Evidence): string[] {
  const register = (name: string, file?: string, date?: string, rows?: number, age?: string) =>
    file
      ? [`${name} ${file}${date ? ` of ${ukDate(date)}` : ''}${age ? ` (${age})` : ''}${rows !== undefined ? ` (${rows.toLocaleString('en-GB')} rows)` : ''}`]
      : [];
  return [
    ...(evidence.siteRecordChanged ? [`ODS record changed ${ukDate(evidence.siteRecordChanged)}`] : []),
    ...register('DSPT register', evidence.dsptRegisterFile, evidence.dsptRegisterDate, evidence.dsptRegisterRows, dsptRegisterAge(evidence)),
    ...register('NAS sites', evidence.nasRegisterFile, evidence.nasRegisterDate, evidence.nasRegisterRows),
  ];
}

export function countVerdicts(accounts: readonly { verdict: Verdict }[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { eligible: 0, review: 0, ineligible: 0 };
  for (const account of accounts) counts[account.verdict]++;
  return counts;
}

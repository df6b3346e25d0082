import { workingDaysElapsed } from '../working-days';

/**
 * How long transfers take, measured from the bot's own history rather than promised: the
 * median and 90th percentile of working days (England and Wales) from submission to the
 * decision, and from submission to the confirmed transfer, over the last 90 days.
 */

/** The window of history measured. */
export const TIMESCALE_WINDOW_DAYS = 90;
/** Fewer finished requests than this in the window and a percentile says little: the timescale is said to be unknown instead. */
export const MIN_TIMESCALE_SAMPLES = 5;

/** A request's start and the moment it reached the stage measured (decided, or transferred). */
export interface TimescaleSample {
  from: Date;
  to: Date;
}

export type Timescale = { known: true; medianDays: number; p90Days: number; samples: number } | { known: false; samples: number };

/** Nearest-rank percentile (the smallest value with at least p% of values at or below it): always a value that was measured. */
export function nearestRank(sorted: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}

export function measureTimescale(samples: readonly TimescaleSample[], holidays: ReadonlySet<string>): Timescale {
  if (samples.length < MIN_TIMESCALE_SAMPLES) return { known: false, samples: samples.length };
  const days = samples.map((sample) => workingDaysElapsed(sample.from, sample.to, holidays)).sort((a, b) => a - b);
  return { known: true, medianDays: nearestRank(days, 50), p90Days: nearestRank(days, 90), samples: days.length };
}

function workingDays(count: number): string {
  return count === 1 ? '1 working day' : `${count} working days`;
}

/**
 * The timescale as a range a person can plan with, e.g. "within 3 to 7 working days of the
 * request"; `unknown` when there is too little history (said plainly, never guessed).
 */
export function describeTimescale(timescale: Timescale, unknown: string): string {
  if (!timescale.known) return unknown;
  const { medianDays, p90Days } = timescale;
  if (p90Days <= 1) return 'within a working day of the request';
  if (medianDays === p90Days) return `within about ${workingDays(p90Days)} of the request`;
  return `within ${Math.max(1, medianDays)} to ${workingDays(p90Days)} of the request`;
}

/** What the requester is told about the measure itself, beside the drafts. */
export function describeMeasure(what: string, timescale: Timescale): string {
  if (!timescale.known)
    return `${what}: too little history to measure (${timescale.samples} in the last ${TIMESCALE_WINDOW_DAYS} days; at least ${MIN_TIMESCALE_SAMPLES} are needed), so the messages say so plainly.`;
  return `${what}: half within ${workingDays(timescale.medianDays)}, nine in ten within ${workingDays(timescale.p90Days)} (${timescale.samples} requests in the last ${TIMESCALE_WINDOW_DAYS} days).`;
}

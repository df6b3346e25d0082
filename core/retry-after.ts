/*
 * Retry-After (RFC 9110 §10.2.3) is either delay-seconds (a non-negative whole number) or an
 * HTTP-date (§5.6.7: the IMF-fixdate, or the obsolete RFC 850 and asctime forms, all in GMT).
 * Graph, ODS and the Bot Connector each send one on 429 and 503.
 */
const DELAY_SECONDS = /^\d+$/;
/** Decimal seconds are outside the grammar but harmless, and some servers send them. */
const DECIMAL_SECONDS = /^\d+\.\d+$/;
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
/** asctime carries no zone; HTTP says it is GMT. */
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * How many seconds a Retry-After value asks for, counted from `now` for a date (a date already
 * past asks for 0). Undefined when there is none or it is not one of the two forms: each
 * caller says what it waits then.
 */
export function retryAfterSeconds(value: string | null | undefined, now: Date = new Date()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (DELAY_SECONDS.test(text) || DECIMAL_SECONDS.test(text)) return Number(text);
  const date = IMF_FIXDATE.test(text) || RFC850_DATE.test(text) ? Date.parse(text) : ASCTIME_DATE.test(text) ? Date.parse(`${text} GMT`) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now.getTime()) / 1000);
}

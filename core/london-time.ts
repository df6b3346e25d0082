/**
 * Wall-clock time in England (GMT in winter, BST in summer), which the policy's dates, the DSPT
 * export's file names and NAS's working days are written in. One formatter, made once: building an
 * Intl.DateTimeFormat is costly, and screening reads thousands of dates.
 */
const LONDON_PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The calendar date, time and seconds in London at that instant, each two digits (the year four). */
export interface LondonParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

export function londonParts(at: Date): LondonParts {
  const parts = Object.fromEntries(LONDON_PARTS.formatToParts(at).map((part) => [part.type, part.value]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The calendar date in London at that instant, YYYY-MM-DD. */
export function londonDate(at: Date): string {
  const { year, month, day } = londonParts(at);
  return `${year}-${month}-${day}`;
}

/** A wall-clock time in England (GMT or BST) as an instant, ISO 8601. */
export function londonTimeToInstant(year: number, month: number, day: number, hour: number, minute: number, second: number): string {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetAt = (instant: number) => {
    const parts = londonParts(new Date(instant));
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - instant;
  };
  // London is UTC or UTC+1: the offset at the guess is right except within an hour of a change, which the second look settles.
  const first = wall - offsetAt(wall);
  return new Date(wall - offsetAt(first)).toISOString();
}

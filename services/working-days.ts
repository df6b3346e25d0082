import { londonDate } from '../core/london-time';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Working days in England and Wales: Monday to Friday, less the bank holidays GOV.UK
 * publishes (policy/bank-holidays-england-and-wales.json). Days are counted by the date in
 * Europe/London, so a request made at 23:30 on a Friday in BST is a Friday request.
 */
const holidayFileSchema = z.object({ events: z.array(z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), title: z.string() })) });

export const BANK_HOLIDAYS_FILE_NAME = 'bank-holidays-england-and-wales.json';
export const BANK_HOLIDAYS_FILE = path.join(__dirname, '..', 'policy', BANK_HOLIDAYS_FILE_NAME);

export function loadBankHolidays(file: string = BANK_HOLIDAYS_FILE): ReadonlySet<string> {
  return new Set(holidayFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).events.map((event) => event.date));
}

// Working days are counted in England's calendar; callers take londonDate from here with them.
export { londonDate };

function isWorkingDay(date: string, holidays: ReadonlySet<string>): boolean {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !holidays.has(date);
}

/** Working days that have ended since `from`: the days after from's date, up to and including the day before `to`'s date. */
export function workingDaysElapsed(from: Date, to: Date, holidays: ReadonlySet<string>): number {
  const start = londonDate(from);
  const end = londonDate(to);
  let count = 0;
  const day = new Date(`${start}T12:00:00Z`);
  for (;;) {
    day.setUTCDate(day.getUTCDate() + 1);
    const date = day.toISOString().slice(0, 10);
    if (date >= end) return count;
    if (isWorkingDay(date, holidays)) count++;
  }
}

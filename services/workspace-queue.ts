import { z } from 'zod';
import { OPEN_STATUSES, type Actor, type RequestStatus } from './model';
import type { QueueConditions, QueueRepository, QueueRow, QueueStatusFilter } from './store/queue';
import { londonDate, workingDaysElapsed } from './working-days';

/**
 * What NAS Operations see in their workspace: the queue with each request's age in working
 * days (England and Wales), "mine" and "overdue" made into conditions the store can index,
 * and the picture of the work (open requests by age, received and decided per week, the
 * median time to a decision).
 */

export const QUEUE_PAGE_SIZE = 25;
/** An export is the whole filtered queue; this bounds one file (the queue is far smaller). */
export const EXPORT_MAX_ROWS = 50_000;
export const PICTURE_WEEKS = 12;

const STATUS_FILTERS = ['open', 'all', 'submitted', 'in_review', 'decided', 'completed', 'withdrawn'] as const satisfies readonly QueueStatusFilter[];
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** The queue's filters as the page's address carries them (?status=open&reviewer=mine&…): the one parser of them. */
export const queueFiltersSchema = z.object({
  status: z.preprocess(blankToUndefined, z.enum(STATUS_FILTERS).default('open')),
  /** mine, unassigned, or a reviewer's directory id. */
  reviewer: z.preprocess(
    blankToUndefined,
    z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9-]+$/)
      .optional(),
  ),
  organisation: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(16)
      .regex(/^[A-Za-z0-9]+$/, 'an ODS code: letters and digits')
      .transform((code) => code.toUpperCase())
      .optional(),
  ),
  overdue: z.preprocess(blankToUndefined, z.enum(['true', 'false']).optional()).transform((value) => value === 'true'),
  q: z.preprocess(blankToUndefined, z.string().trim().max(100).optional()),
  address: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(320)
      .regex(/^[^\s@]+@[^\s@]+$/, 'a whole account address')
      .optional(),
  ),
  page: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(100_000).default(1)),
});
export type QueueFilters = z.infer<typeof queueFiltersSchema>;

export interface QueueEntry extends QueueRow {
  /** Working days since submission, to now while open, to the decision (or withdrawal) once closed. */
  ageWorkingDays: number;
  overdue: boolean;
}

export interface QueueView {
  entries: QueueEntry[];
  total: number;
  page: number;
  pageSize: number;
  overdueAfterWorkingDays: number;
}

export interface AgeBucket {
  label: string;
  submitted: number;
  inReview: number;
}

export interface WorkPicture {
  openByAge: AgeBucket[];
  /** Open requests at least overdueAfterWorkingDays old. */
  overdueOpen: number;
  /** Oldest week first; `week` is the Monday (London) the week starts. */
  weeks: Array<{ week: string; received: number; decided: number }>;
  decisions: { count: number; medianWorkingDays: number | null; medianHours: number | null };
  overdueAfterWorkingDays: number;
}

/** Age bands in working days: the chase threshold (3 by default) starts a band of its own. */
const AGE_BANDS: ReadonlyArray<{ label: string; from: number; to: number }> = [
  { label: '0 days', from: 0, to: 0 },
  { label: '1 day', from: 1, to: 1 },
  { label: '2 days', from: 2, to: 2 },
  { label: '3 to 5 days', from: 3, to: 5 },
  { label: '6 to 10 days', from: 6, to: 10 },
  { label: 'over 10 days', from: 11, to: Number.POSITIVE_INFINITY },
];

export class WorkspaceQueue {
  constructor(
    private readonly queue: QueueRepository,
    private readonly holidays: ReadonlySet<string>,
    private readonly policy: { overdueAfterWorkingDays: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async page(filters: QueueFilters, viewer: Actor): Promise<QueueView> {
    const now = this.now();
    const { rows, total } = await this.queue.page(this.conditions(filters, viewer, now), (filters.page - 1) * QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE);
    return {
      entries: rows.map((row) => this.entry(row, now)),
      total,
      page: filters.page,
      pageSize: QUEUE_PAGE_SIZE,
      overdueAfterWorkingDays: this.policy.overdueAfterWorkingDays,
    };
  }

  /** Every request the filters find (the export), in the queue's order. */
  async all(filters: QueueFilters, viewer: Actor): Promise<QueueEntry[]> {
    const now = this.now();
    const { rows } = await this.queue.page(this.conditions(filters, viewer, now), 0, EXPORT_MAX_ROWS);
    return rows.map((row) => this.entry(row, now));
  }

  reviewers(): Promise<Actor[]> {
    return this.queue.reviewers();
  }

  async picture(): Promise<WorkPicture> {
    const now = this.now();
    const weeks = lastWeeks(now, PICTURE_WEEKS);
    const since = londonMidnight(weeks[0]!);
    const [open, received, decided] = await Promise.all([this.queue.openRequests(), this.queue.receivedPerWeek(since), this.queue.decidedSince(since)]);
    const openByAge = AGE_BANDS.map((band) => ({ label: band.label, submitted: 0, inReview: 0 }));
    let overdueOpen = 0;
    for (const request of open) {
      const age = workingDaysElapsed(request.createdAt, now, this.holidays);
      if (age >= this.policy.overdueAfterWorkingDays) overdueOpen++;
      const bucket = openByAge[AGE_BANDS.findIndex((band) => age >= band.from && age <= band.to)]!;
      if (request.status === 'in_review') bucket.inReview++;
      else bucket.submitted++;
    }
    const decidedPerWeek = new Map<string, number>();
    for (const { decidedAt } of decided) {
      const week = mondayOf(londonDate(decidedAt));
      decidedPerWeek.set(week, (decidedPerWeek.get(week) ?? 0) + 1);
    }
    return {
      openByAge,
      overdueOpen,
      weeks: weeks.map((week) => ({ week, received: received.get(week) ?? 0, decided: decidedPerWeek.get(week) ?? 0 })),
      decisions: {
        count: decided.length,
        medianWorkingDays: median(decided.map(({ createdAt, decidedAt }) => workingDaysElapsed(createdAt, decidedAt, this.holidays))),
        medianHours: roundTo(median(decided.map(({ createdAt, decidedAt }) => (decidedAt.getTime() - createdAt.getTime()) / 3_600_000)), 1),
      },
      overdueAfterWorkingDays: this.policy.overdueAfterWorkingDays,
    };
  }

  /** Working days since `createdAt`: to now while open, to when it closed otherwise. */
  ageOf(request: { status: RequestStatus; createdAt: Date; closedAt: Date | null }, now: Date = this.now()): number {
    const open = OPEN_STATUSES.includes(request.status);
    return workingDaysElapsed(request.createdAt, open || !request.closedAt ? now : request.closedAt, this.holidays);
  }

  isOverdue(request: { status: RequestStatus; createdAt: Date }, now: Date = this.now()): boolean {
    return OPEN_STATUSES.includes(request.status) && workingDaysElapsed(request.createdAt, now, this.holidays) >= this.policy.overdueAfterWorkingDays;
  }

  private entry(row: QueueRow, now: Date): QueueEntry {
    return { ...row, ageWorkingDays: this.ageOf(row, now), overdue: this.isOverdue(row, now) };
  }

  private conditions(filters: QueueFilters, viewer: Actor, now: Date): QueueConditions {
    const reviewer =
      filters.reviewer === undefined
        ? undefined
        : filters.reviewer === 'unassigned'
          ? ({ kind: 'unassigned' } as const)
          : ({ kind: 'person', id: filters.reviewer === 'mine' ? viewer.id : filters.reviewer } as const);
    return {
      status: filters.status,
      reviewer,
      organisationOds: filters.organisation,
      openAndSubmittedBefore: filters.overdue ? this.overdueCutoff(now) : undefined,
      text: filters.q,
      address: filters.address,
    };
  }

  /**
   * "Overdue" as an instant the store can compare created_at with: a request is overdue when
   * at least N working days have ended since the London date it was submitted on. Earlier
   * dates have waited at least as long, so the newest such date D gives the cutoff: submitted
   * before the London midnight that ends D.
   */
  overdueCutoff(now: Date): Date {
    const today = londonDate(now);
    let date = today;
    for (let step = 0; step < 400; step++) {
      if (workingDaysElapsed(new Date(`${date}T12:00:00Z`), now, this.holidays) >= this.policy.overdueAfterWorkingDays) return londonMidnight(addDays(date, 1));
      date = addDays(date, -1);
    }
    return londonMidnight(date);
  }
}

function addDays(date: string, days: number): string {
  const day = new Date(`${date}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** The instant a London calendar date begins. Clocks change at 01:00 UTC, never across midnight, so midnight is 00:00 GMT or 23:00 UTC the day before (BST). */
export function londonMidnight(date: string): Date {
  const utcMidnight = new Date(`${date}T00:00:00Z`);
  const anHourEarlier = new Date(utcMidnight.getTime() - 3_600_000);
  return londonDate(anHourEarlier) === date ? anHourEarlier : utcMidnight;
}

/** The Monday (YYYY-MM-DD) of the week a London date falls in. */
export function mondayOf(date: string): string {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  return addDays(date, -((weekday + 6) % 7));
}

/** The Mondays of the last `count` weeks (this week last), in London. */
function lastWeeks(now: Date, count: number): string[] {
  const thisWeek = mondayOf(londonDate(now));
  return Array.from({ length: count }, (_, index) => addDays(thisWeek, -7 * (count - 1 - index)));
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function roundTo(value: number | null, places: number): number | null {
  return value === null ? null : Math.round(value * 10 ** places) / 10 ** places;
}

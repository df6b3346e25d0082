import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The messages the bot owes, one kind each, with what each must carry. A row is written by
 * the change it reports (in the same transaction) and read back by the delivery worker, so
 * its payload is parsed on the way back: the database is a boundary like any other.
 */
export type DeliveryKind =
  /** Post the request's card in the NAS Operations channel. */
  | 'ops.post'
  /** Bring the posted ops card up to date (one row per request, re-armed by each change). */
  | 'ops.update'
  /** Tell the requester the outcome, in their personal chat. */
  | 'outcome'
  /** Post the screening results to the requester. */
  | 'screening.results'
  /** Tell the requester the transfer is complete: NAS now administers the accounts. */
  | 'completion'
  /** Remind NAS Operations of a request left undecided. */
  | 'ops.chase'
  /** Put NAS Operations' question to the requester. */
  | 'question'
  /** Remind the requester, once, of a question they have not answered. */
  | 'question.chase'
  /** Tell the requester NAS Operations have not received their request yet (the ops channel refused the bot). */
  | 'ops.delayed'
  /** The requester's answer to NAS Operations' question, as a reply in the request card's thread in the ops channel. */
  | 'ops.answer'
  /** Tell the requester at once: accounts were marked as leavers after submission and will be deleted unless unmarked. */
  | 'leaver.alert'
  /** Flag in the ops channel approved accounts the directory has not shown moved for a period of working days. */
  | 'ops.transfer_chase'
  /** Tell NAS Operations in the channel that a reference register's new file could not be used. */
  | 'ops.source_problem'
  /** Send one affected user their message, by email from the requester's own mailbox (Microsoft Graph sendMail). */
  | 'duties.mail'
  /** Tell the requester how sending the affected users' messages went ("told 14 of 16; 2 failed: …"). */
  | 'duties.tally'
  /** Tell the requester, after they were told the outcome, what changed on their request, by whom and why (one audit event each). */
  | 'outcome.changed'
  /** Bring the requester's outcome card up to date in place (one row per request, re-armed by each change). */
  | 'outcome.update'
  /** Tell the requester NAS Operations got only a short summary of their request: Teams refused its card as too large. */
  | 'card.too_large'
  /** Tell NAS Operations, as plain text in their channel, that a request's card was refused as too large even at its minimal size. */
  | 'ops.card_refused';

// Keys beyond these are ignored (stripped), so a row written by an older version still parses;
// a key that is here must have its type.
const nothing = z.object({});
const aboutQuestion = z.object({ questionId: z.number().int().positive() });
const opsChasePayload = z.object({
  /** Working days the request has waited since it was submitted, as the reminder says. */
  workingDays: z.number().int().nonnegative(),
  /** Which reminder this is (1 for the first); rows from before it was recorded have none. */
  reminder: z.number().int().positive().optional(),
});
const sourceProblemPayload = z.object({
  /** Which register ("DSPT register", "NAS site register"), its file name, and our own words for what was wrong (no cell values). */
  register: z.string().min(1).max(100),
  file: z.string().min(1).max(260),
  message: z.string().min(1).max(1000),
  keptPrevious: z.boolean(),
  /** Not a problem: a new copy is in use (message: its counts). */
  loaded: z.literal(true).optional(),
});
const screeningResultsPayload = z.object({ jobId: z.string().min(1), run: z.number().int().positive() });
const leaverAlertPayload = z.object({ accountIds: z.array(z.number().int().positive()).min(1) });
/** `refused`: not even the minimal card got through (NAS Operations were told in plain text instead). */
const cardTooLargePayload = z.object({ refused: z.literal(true).optional() });
const dutiesMailPayload = z.object({ messageId: z.number().int().positive() });
const dutiesTallyPayload = z.object({ stage: z.enum(['submitted', 'outcome']) });
const outcomeChangedPayload = z.object({
  auditId: z.number().int().positive(),
  /** Which accounts of the change are news for the requester (a re-check's findings); absent: the whole change. */
  accountIds: z.array(z.number().int().positive()).min(1).optional(),
});
const transferChasePayload = z.object({
  workingDays: z.number().int().nonnegative(),
  reminder: z.number().int().positive(),
  unmoved: z.number().int().positive(),
});

/** Each kind with its payload, as a row must read back. */
export const owedContent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ops.post'), payload: nothing }),
  z.object({ kind: z.literal('ops.update'), payload: nothing }),
  z.object({ kind: z.literal('outcome'), payload: nothing }),
  z.object({ kind: z.literal('screening.results'), payload: screeningResultsPayload }),
  z.object({ kind: z.literal('completion'), payload: nothing }),
  z.object({ kind: z.literal('ops.chase'), payload: opsChasePayload }),
  z.object({ kind: z.literal('question'), payload: aboutQuestion }),
  z.object({ kind: z.literal('question.chase'), payload: aboutQuestion }),
  z.object({ kind: z.literal('ops.delayed'), payload: nothing }),
  z.object({ kind: z.literal('ops.answer'), payload: aboutQuestion }),
  z.object({ kind: z.literal('leaver.alert'), payload: leaverAlertPayload }),
  z.object({ kind: z.literal('ops.transfer_chase'), payload: transferChasePayload }),
  z.object({ kind: z.literal('ops.source_problem'), payload: sourceProblemPayload }),
  z.object({ kind: z.literal('duties.mail'), payload: dutiesMailPayload }),
  z.object({ kind: z.literal('duties.tally'), payload: dutiesTallyPayload }),
  z.object({ kind: z.literal('outcome.changed'), payload: outcomeChangedPayload }),
  z.object({ kind: z.literal('outcome.update'), payload: nothing }),
  z.object({ kind: z.literal('card.too_large'), payload: cardTooLargePayload }),
  z.object({ kind: z.literal('ops.card_refused'), payload: nothing }),
]);

export type OwedContent = z.infer<typeof owedContent>;
export type PayloadOf<K extends DeliveryKind> = Extract<OwedContent, { kind: K }>['payload'];

// Every kind has its schema, and no schema names a kind that is not one.
type Exhaustive<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const everyKindHasASchema: Exhaustive<OwedContent['kind'], DeliveryKind> = true;
void everyKindHasASchema;

/** What makes a message owed once: a second enqueue of the same key is a no-op (or re-arms an update). */
export const dedupeKeys = {
  opsPost: (requestId: number) => `ops.post:${requestId}`,
  opsUpdate: (requestId: number) => `ops.update:${requestId}`,
  outcome: (requestId: number) => `outcome:${requestId}`,
  completion: (requestId: number) => `completion:${requestId}`,
  opsChase: (requestId: number, reminder: number) => `ops.chase:${requestId}:${reminder}`,
  question: (questionId: number) => `question:${questionId}`,
  questionChase: (questionId: number) => `question.chase:${questionId}`,
  screeningResults: (jobId: string, run: number) => `screening.results:${jobId}:${run}`,
  opsDelayed: (requestId: number) => `ops.delayed:${requestId}`,
  cardTooLarge: (requestId: number, refused = false) => `card.too_large:${requestId}${refused ? ':refused' : ''}`,
  opsCardRefused: (requestId: number) => `ops.card_refused:${requestId}`,
  opsAnswer: (questionId: number) => `ops.answer:${questionId}`,
  /** Each account is alerted once, so the first of a newly alerted set names the message. */
  leaverAlert: (requestId: number, firstAccountId: number) => `leaver.alert:${requestId}:${firstAccountId}`,
  transferChase: (requestId: number, reminder: number) => `ops.transfer_chase:${requestId}:${reminder}`,
  /** One message per affected user and round of sending (a failed message queued again is owed afresh). */
  dutiesMail: (messageId: number, round: number) => `duties.mail:${messageId}:${round}`,
  /** One tally per request, stage and state of the rounds: sending again after failures owes a new one. */
  dutiesTally: (requestId: number, stage: string, rounds: number) => `duties.tally:${requestId}:${stage}:${rounds}`,
  /** Each change is told once: the change's audit event names it. */
  outcomeChanged: (auditId: number) => `outcome.changed:${auditId}`,
  outcomeUpdate: (requestId: number) => `outcome.update:${requestId}`,
  /** Every instance watching the file sees the same failure: one message per register, problem and hour. */
  sourceProblem: (register: string, message: string, at: Date) =>
    `ops.source_problem:${register}:${createHash('sha256').update(message).digest('hex').slice(0, 16)}:${at.toISOString().slice(0, 13)}`,
};

/** About a request: the row names it (and is removed with its personal data). */
interface ForRequest {
  requestId: number;
}
/** To a person's chat: `recipient` is their Entra object id, which wakes the row when their chat becomes known. */
interface ToPerson {
  recipient: string;
}
interface NotToAPerson {
  recipient?: undefined;
}
/** Kinds with nothing to carry may leave the payload out. */
type Owed<K extends DeliveryKind> = { kind: K; dedupeKey: string } & (PayloadOf<K> extends Record<string, never>
  ? { payload?: PayloadOf<K> }
  : { payload: PayloadOf<K> });

/** A message to owe, as `enqueue` writes it; build one with `owed`, which fills in the dedupe key. */
export type OwedMessage =
  | (Owed<'ops.post'> & ForRequest & NotToAPerson)
  | (Owed<'ops.update'> & ForRequest & NotToAPerson)
  | (Owed<'ops.chase'> & ForRequest & NotToAPerson)
  | (Owed<'ops.answer'> & ForRequest & NotToAPerson)
  | (Owed<'ops.transfer_chase'> & ForRequest & NotToAPerson)
  | (Owed<'leaver.alert'> & ForRequest & ToPerson)
  | (Owed<'outcome'> & ForRequest & ToPerson)
  | (Owed<'completion'> & ForRequest & ToPerson)
  | (Owed<'question'> & ForRequest & ToPerson)
  | (Owed<'question.chase'> & ForRequest & ToPerson)
  | (Owed<'ops.delayed'> & ForRequest & ToPerson)
  | (Owed<'duties.mail'> & ForRequest & NotToAPerson)
  | (Owed<'duties.tally'> & ForRequest & ToPerson)
  | (Owed<'outcome.changed'> & ForRequest & ToPerson)
  | (Owed<'outcome.update'> & ForRequest & ToPerson)
  | (Owed<'card.too_large'> & ForRequest & ToPerson)
  | (Owed<'ops.card_refused'> & ForRequest & NotToAPerson)
  | (Owed<'screening.results'> & ToPerson & { requestId?: undefined })
  | (Owed<'ops.source_problem'> & NotToAPerson & { requestId?: undefined });

export type OwedMessageOf<K extends DeliveryKind> = Extract<OwedMessage, { kind: K }>;

/** The messages the bot can owe, each with its dedupe key. */
export const owed = {
  opsPost: (requestId: number): OwedMessageOf<'ops.post'> => ({ kind: 'ops.post', dedupeKey: dedupeKeys.opsPost(requestId), requestId }),
  opsUpdate: (requestId: number): OwedMessageOf<'ops.update'> => ({ kind: 'ops.update', dedupeKey: dedupeKeys.opsUpdate(requestId), requestId }),
  outcome: (requestId: number, recipient: string): OwedMessageOf<'outcome'> => ({
    kind: 'outcome',
    dedupeKey: dedupeKeys.outcome(requestId),
    requestId,
    recipient,
  }),
  completion: (requestId: number, recipient: string): OwedMessageOf<'completion'> => ({
    kind: 'completion',
    dedupeKey: dedupeKeys.completion(requestId),
    requestId,
    recipient,
  }),
  question: (requestId: number, recipient: string, questionId: number): OwedMessageOf<'question'> => ({
    kind: 'question',
    dedupeKey: dedupeKeys.question(questionId),
    requestId,
    recipient,
    payload: { questionId },
  }),
  questionChase: (requestId: number, recipient: string, questionId: number): OwedMessageOf<'question.chase'> => ({
    kind: 'question.chase',
    dedupeKey: dedupeKeys.questionChase(questionId),
    requestId,
    recipient,
    payload: { questionId },
  }),
  /** The `reminder`th reminder of a request that has waited `workingDays` working days. */
  opsChase: (requestId: number, reminder: number, workingDays: number): OwedMessageOf<'ops.chase'> => ({
    kind: 'ops.chase',
    dedupeKey: dedupeKeys.opsChase(requestId, reminder),
    requestId,
    payload: { workingDays, reminder },
  }),
  screeningResults: (jobId: string, run: number, recipient: string): OwedMessageOf<'screening.results'> => ({
    kind: 'screening.results',
    dedupeKey: dedupeKeys.screeningResults(jobId, run),
    recipient,
    payload: { jobId, run },
  }),
  cardTooLarge: (requestId: number, recipient: string, refused = false): OwedMessageOf<'card.too_large'> => ({
    kind: 'card.too_large',
    dedupeKey: dedupeKeys.cardTooLarge(requestId, refused),
    requestId,
    recipient,
    payload: refused ? { refused: true } : {},
  }),
  opsCardRefused: (requestId: number): OwedMessageOf<'ops.card_refused'> => ({
    kind: 'ops.card_refused',
    dedupeKey: dedupeKeys.opsCardRefused(requestId),
    requestId,
  }),
  opsDelayed: (requestId: number, recipient: string): OwedMessageOf<'ops.delayed'> => ({
    kind: 'ops.delayed',
    dedupeKey: dedupeKeys.opsDelayed(requestId),
    requestId,
    recipient,
  }),
  leaverAlert: (requestId: number, recipient: string, accountIds: readonly number[]): OwedMessageOf<'leaver.alert'> => ({
    kind: 'leaver.alert',
    dedupeKey: dedupeKeys.leaverAlert(requestId, Math.min(...accountIds)),
    requestId,
    recipient,
    payload: { accountIds: [...accountIds] },
  }),
  /** What changed on the request after the requester was told, as audit event `auditId` records it (of it, only `accountIds` when given). */
  outcomeChanged: (requestId: number, recipient: string, auditId: number, accountIds?: readonly number[]): OwedMessageOf<'outcome.changed'> => ({
    kind: 'outcome.changed',
    dedupeKey: dedupeKeys.outcomeChanged(auditId),
    requestId,
    recipient,
    payload: accountIds && accountIds.length > 0 ? { auditId, accountIds: [...accountIds] } : { auditId },
  }),
  outcomeUpdate: (requestId: number, recipient: string): OwedMessageOf<'outcome.update'> => ({
    kind: 'outcome.update',
    dedupeKey: dedupeKeys.outcomeUpdate(requestId),
    requestId,
    recipient,
  }),
  /** The `reminder`th flag of approved accounts (`unmoved` of them) not moved `workingDays` working days after the decision. */
  transferChase: (requestId: number, reminder: number, workingDays: number, unmoved: number): OwedMessageOf<'ops.transfer_chase'> => ({
    kind: 'ops.transfer_chase',
    dedupeKey: dedupeKeys.transferChase(requestId, reminder),
    requestId,
    payload: { workingDays, reminder, unmoved },
  }),
  sourceProblem: (problem: PayloadOf<'ops.source_problem'>, at: Date): OwedMessageOf<'ops.source_problem'> => ({
    kind: 'ops.source_problem',
    dedupeKey: dedupeKeys.sourceProblem(problem.register, problem.message, at),
    payload: problem,
  }),
  dutiesMail: (requestId: number, messageId: number, round: number): OwedMessageOf<'duties.mail'> => ({
    kind: 'duties.mail',
    dedupeKey: dedupeKeys.dutiesMail(messageId, round),
    requestId,
    payload: { messageId },
  }),
  dutiesTally: (requestId: number, recipient: string, stage: 'submitted' | 'outcome', rounds: number): OwedMessageOf<'duties.tally'> => ({
    kind: 'duties.tally',
    dedupeKey: dedupeKeys.dutiesTally(requestId, stage, rounds),
    requestId,
    recipient,
    payload: { stage },
  }),
  opsAnswer: (requestId: number, questionId: number): OwedMessageOf<'ops.answer'> => ({
    kind: 'ops.answer',
    dedupeKey: dedupeKeys.opsAnswer(questionId),
    requestId,
    payload: { questionId },
  }),
};

/** Kinds that re-arm when owed again: a newer change makes the update owed again, whatever happened to the last one. */
export function rearmsWhenOwedAgain(kind: DeliveryKind): boolean {
  return kind === 'ops.update' || kind === 'outcome.update';
}

/**
 * Reads a row's kind and payload back. When they do not parse, says where and how (paths and
 * issue codes, never values: a tampered payload could hold anything).
 */
export function readOwedContent(kind: unknown, payload: unknown): { ok: true; content: OwedContent } | { ok: false; problems: string[] } {
  const parsed = owedContent.safeParse({ kind, payload });
  if (parsed.success) return { ok: true, content: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.code}`) };
}

import type { Actor, RequestQuestion } from '../model';
import type { SqlExecutor } from './database';

export interface QuestionRow {
  id: number;
  asked_by_id: string;
  asked_by_name: string;
  question: string;
  asked_at: Date;
  answer: string | null;
  answered_at: Date | null;
}

/** A question from NAS Operations to the requester; its id. */
export async function insertQuestion(tx: SqlExecutor, requestId: number, actor: Actor, question: string): Promise<number> {
  const [row] = await tx.query<{ id: number }>(
    'INSERT INTO request_questions (request_id, asked_by_id, asked_by_name, question) VALUES ($1, $2, $3, $4) RETURNING id',
    [requestId, actor.id, actor.name, question],
  );
  return (row as { id: number }).id;
}

/** Records `answer` against the oldest unanswered question on the request; that question, or undefined when none is open. */
export async function answerOldestOpenQuestion(tx: SqlExecutor, requestId: number, answer: string): Promise<RequestQuestion | undefined> {
  const [open] = await tx.query<QuestionRow>(
    `UPDATE request_questions SET answer = $2, answered_at = now()
     WHERE id = (SELECT id FROM request_questions WHERE request_id = $1 AND answered_at IS NULL ORDER BY id LIMIT 1)
     RETURNING *`,
    [requestId, answer],
  );
  return open ? toQuestion(open) : undefined;
}

export function toQuestion(row: QuestionRow): RequestQuestion {
  return {
    id: row.id,
    askedBy: { id: row.asked_by_id, name: row.asked_by_name },
    question: row.question,
    askedAt: row.asked_at,
    answer: row.answer,
    answeredAt: row.answered_at,
  };
}

import type { z } from 'zod';
import type { Actor } from '../../services/model';
import type { DecisionRepository } from '../../services/store/decisions';
import type { LifecycleRepository } from '../../services/store/lifecycle';
import type { QuestionRepository } from '../../services/store/questions';

/** What a card verb may change: decisions, and the request's life around them. */
export interface CardActionServices {
  decisions: DecisionRepository;
  lifecycle: LifecycleRepository;
  questions: QuestionRepository;
}

/** Ids only: everything else about a request is read from the store, never from the card. */
export interface CardActionResult {
  /** The first account the ops card shows afterwards. */
  start: number;
}

export interface CardActionHandler<Schema extends z.ZodType<{ requestId: number }>> {
  verb: string;
  schema: Schema;
  handle(services: CardActionServices, actor: Actor, data: z.infer<Schema>): Promise<CardActionResult>;
}

/** Lets handlers with different data shapes sit in one registry. */
export function cardAction<Schema extends z.ZodType<{ requestId: number }>>(handler: CardActionHandler<Schema>): CardActionHandler<z.ZodType<{ requestId: number }>> {
  return handler as unknown as CardActionHandler<z.ZodType<{ requestId: number }>>;
}

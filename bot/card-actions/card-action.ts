import type { z } from 'zod';
import type { Actor } from '../../services/model';
import type { TransferRequests } from '../../services/requests/transfer-requests';

/** What a card verb may change: the request, through its use cases. */
export interface CardActionServices {
  requests: TransferRequests;
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
export function cardAction<Schema extends z.ZodType<{ requestId: number }>>(
  handler: CardActionHandler<Schema>,
): CardActionHandler<z.ZodType<{ requestId: number }>> {
  return handler;
}

import type { MessageStage } from './message-templates';

/** How sending the affected users' messages went for one stage of a request. */
export interface SendTally {
  stage: MessageStage;
  total: number;
  sent: number;
  pending: number;
  failed: Array<{ recipient: string; code: string }>;
  /** When the last message was sent. */
  lastSentAt: Date | null;
}

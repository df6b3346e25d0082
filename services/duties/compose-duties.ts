import path from 'node:path';
import type { Logger } from '../../core/log';
import { AffectedUserDuties } from './affected-users';
import { GraphMailSender, type MailSender } from './graph-mail';
import { mailDeliveryHandler } from './mail-delivery';
import { EXCHANGE_ONLINE_SENDING_LIMITS, withMailPacing } from './mail-pacing';
import { AFFECTED_USERS_MESSAGES_FILE_NAME, loadAffectedUserMessages } from './message-templates';
import type { SendPacer } from '../outbox/send-pacing';
import type { StoredRequest } from '../model';
import { AffectedUserMailStore } from '../store/affected-user-messages';
import type { SqlDatabase } from '../store/database';
import { SqlSendBudget } from '../store/send-budget';
import { TransferTimescaleHistory } from '../store/transfer-timescales';
import type { DeliveryHandler } from '../outbox/delivery-engine';
import type { DeliveryOf } from '../store/outbox';
import type { MailTokens } from './mail-tokens';
import type { SendTally } from './send-tally';

/** For the outbox worker: the mail handler, and the tallies told to the requester. */
export interface AffectedUserMail {
  mail: DeliveryHandler<DeliveryOf<'duties.mail'>>;
  tallies: (requestId: number) => Promise<SendTally[]>;
}

export interface DutiesParts {
  db: SqlDatabase;
  requests: { get(id: number): Promise<StoredRequest | null>; getByReference(reference: string): Promise<StoredRequest | null> };
  holidays: ReadonlySet<string>;
  /** The policy file: the messages' templates sit beside it. */
  policyFile: string;
  graphUrl: string;
  /** The requesters' delegated tokens; undefined when no OAuth connection is configured (nothing can be sent). */
  tokens?: MailTokens;
  logger: Logger;
  workQueued: () => void;
  /** Tests: a Graph client of their own. */
  mailSender?: MailSender;
}

export interface ComposedDuties {
  /** For the outbox worker: the mail handler and the tallies told to the requester. */
  mail: AffectedUserMail;
  /** Paces mail by Exchange Online's limits, the rest as `teams` does. */
  pacer(teams: SendPacer): SendPacer;
  duties: AffectedUserDuties;
}

/** Wires the requester's duties to the affected users: templates, history, the mail store and Graph (the chat edge is bot/duties). */
export function composeDuties(parts: DutiesParts): ComposedDuties {
  const store = new AffectedUserMailStore(parts.db);
  const messages = loadAffectedUserMessages(path.join(path.dirname(parts.policyFile), AFFECTED_USERS_MESSAGES_FILE_NAME));
  const duties = new AffectedUserDuties(parts.requests, new TransferTimescaleHistory(parts.db), store, messages, parts.holidays, parts.workQueued);
  const sender = parts.mailSender ?? new GraphMailSender(parts.graphUrl);
  const tokens = parts.tokens ?? { tokenFor: async () => undefined };
  const mailBudget = new SqlSendBudget(parts.db, EXCHANGE_ONLINE_SENDING_LIMITS);
  return {
    duties,
    mail: {
      mail: mailDeliveryHandler(store, tokens, sender, parts.logger, { requests: parts.requests, templates: messages }),
      tallies: (requestId) => store.tallies(requestId),
    },
    pacer: (teams) => withMailPacing(teams, mailBudget),
  };
}

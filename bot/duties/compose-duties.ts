import path from 'node:path';
import type { Logger } from '../../core/log';
import { AffectedUserDuties } from '../../services/duties/affected-users';
import { GraphMailSender, type MailSender } from '../../services/duties/graph-mail';
import { mailDeliveryHandler } from '../../services/duties/mail-delivery';
import { EXCHANGE_ONLINE_SENDING_LIMITS, withMailPacing } from '../../services/duties/mail-pacing';
import { AFFECTED_USERS_MESSAGES_FILE_NAME, loadAffectedUserMessages } from '../../services/duties/message-templates';
import type { SendPacer } from '../../services/outbox/send-pacing';
import type { StoredRequest } from '../../services/model';
import { AffectedUserMailStore } from '../../services/store/affected-user-messages';
import type { SqlDatabase } from '../../services/store/database';
import { SqlSendBudget } from '../../services/store/send-budget';
import { TransferTimescaleHistory } from '../../services/store/transfer-timescales';
import type { AffectedUserMail } from '../messaging/outbox-worker';
import { DutiesTurns } from './duties-turns';
import type { MailSignIn } from './mail-sign-in';

export interface DutiesParts {
  db: SqlDatabase;
  requests: { get(id: number): Promise<StoredRequest | null>; getByReference(reference: string): Promise<StoredRequest | null> };
  holidays: ReadonlySet<string>;
  /** The policy file: the messages' templates sit beside it. */
  policyFile: string;
  graphUrl: string;
  /** Undefined when no OAuth connection is configured: the messages can only be downloaded. */
  signIn?: MailSignIn;
  logger: Logger;
  workQueued: () => void;
  allowInsecureUpload: boolean;
  /** Tests: a Graph client of their own. */
  mailSender?: MailSender;
}

export interface ComposedDuties {
  turns: DutiesTurns;
  /** For the outbox worker: the mail handler and the tallies told to the requester. */
  mail: AffectedUserMail;
  /** Paces mail by Exchange Online's limits, the rest as `teams` does. */
  pacer(teams: SendPacer): SendPacer;
  duties: AffectedUserDuties;
}

/** Wires the requester's duties to the affected users: templates, history, the mail store, Graph and the chat edge. */
export function composeDuties(parts: DutiesParts): ComposedDuties {
  const store = new AffectedUserMailStore(parts.db);
  const messages = loadAffectedUserMessages(path.join(path.dirname(parts.policyFile), AFFECTED_USERS_MESSAGES_FILE_NAME));
  const duties = new AffectedUserDuties(parts.requests, new TransferTimescaleHistory(parts.db), store, messages, parts.holidays, parts.workQueued);
  const sender = parts.mailSender ?? new GraphMailSender(parts.graphUrl);
  const tokens = parts.signIn ?? { tokenFor: async () => undefined };
  const mailBudget = new SqlSendBudget(parts.db, EXCHANGE_ONLINE_SENDING_LIMITS);
  return {
    duties,
    turns: new DutiesTurns({ duties, signIn: parts.signIn, logger: parts.logger, allowInsecureUpload: parts.allowInsecureUpload }),
    mail: { mail: mailDeliveryHandler(store, tokens, sender, parts.logger), tallies: (requestId) => store.tallies(requestId) },
    pacer: (teams) => withMailPacing(teams, mailBudget),
  };
}

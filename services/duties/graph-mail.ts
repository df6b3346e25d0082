import { DeliveryFailure } from '../outbox/delivery-engine';
import { graphServiceRoot } from '../directory/graph-client';

/**
 * Sends one message from the signed-in user's own mailbox: Microsoft Graph v1.0
 * `POST /me/sendMail` with the user's delegated token (permission Mail.Send, delegated), which
 * answers 202 Accepted with no body. Microsoft Learn, "user: sendMail",
 * https://learn.microsoft.com/graph/api/user-sendmail?view=graph-rest-1.0 . The message is saved
 * in the sender's Sent Items, so they have their own record of what went.
 *
 * A refusal arrives as a DeliveryFailure with Graph's status and Retry-After, never with
 * Graph's words (they can quote the message or the address).
 */
export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
}

export interface MailSender {
  send(token: string, mail: OutgoingMail): Promise<void>;
}

export class GraphMailSender implements MailSender {
  private readonly root: string;

  constructor(
    graphUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.root = graphServiceRoot(graphUrl);
  }

  async send(token: string, mail: OutgoingMail): Promise<void> {
    const response = await this.fetchImpl(`${this.root}/v1.0/me/sendMail`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        message: {
          subject: mail.subject,
          body: { contentType: 'Text', content: mail.body },
          toRecipients: [{ emailAddress: { address: mail.to } }],
        },
        saveToSentItems: true,
      }),
      redirect: 'error',
    }).catch(() => {
      throw new DeliveryFailure(undefined, undefined);
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status === 202 || response.ok) return;
    throw new DeliveryFailure(response.status, retryAfterSeconds(response.headers.get('retry-after')));
  }
}

function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

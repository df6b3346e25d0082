import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import { retryAfterSeconds } from '../../core/retry-after';
import { DeliveryFailure } from '../outbox/delivery-engine';
import { createGraphClient } from '../directory/graph-client';

/**
 * Sends one message from the signed-in user's own mailbox: Microsoft Graph v1.0
 * `POST /me/sendMail` with the user's delegated token (permission Mail.Send, delegated), which
 * answers 202 Accepted with no body. Microsoft Learn, "user: sendMail",
 * https://learn.microsoft.com/graph/api/user-sendmail?view=graph-rest-1.0 . The message is saved
 * in the sender's Sent Items, so they have their own record of what went.
 *
 * A refusal arrives as a DeliveryFailure with Graph's status and Retry-After (RFC 9110, read by
 * core/retry-after), never with Graph's words (they can quote the message or the address).
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
  private readonly client: Client;

  constructor(graphUrl: string) {
    // Through the Graph SDK like every other Graph call (redirects only to Graph's own origin);
    // no SDK retries: a 429 goes back to the outbox with its Retry-After, and the row waits.
    this.client = createGraphClient(graphUrl, undefined, { retry: false });
  }

  async send(token: string, mail: OutgoingMail): Promise<void> {
    // RAW: Graph answers 202 with no body, which the SDK's JSON reading would trip on; the
    // status is read here, as the SDK would not throw for a raw response anyway.
    const response = (await this.client
      .api('/me/sendMail')
      .header('Authorization', `Bearer ${token}`)
      .responseType(ResponseType.RAW)
      .post({
        message: {
          subject: mail.subject,
          body: { contentType: 'Text', content: mail.body },
          toRecipients: [{ emailAddress: { address: mail.to } }],
        },
        saveToSentItems: true,
      })
      .catch(() => {
        // No answer at all (refused, reset, timed out): Graph's words never reach here.
        throw new DeliveryFailure(undefined, undefined);
      })) as Response;
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    // Graph's status and Retry-After only: its words can quote the message or the address.
    throw new DeliveryFailure(response.status, retryAfterSeconds(response.headers.get('retry-after')));
  }
}

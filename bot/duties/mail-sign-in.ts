import { CardFactory, type Attachment, type TurnContext } from 'botbuilder';
import type { ClaimsIdentity, UserTokenClient } from 'botframework-connector';
import { botAudienceIdentity } from '../platform/botbuilder-internals';
import type { MailTokens } from '../../services/duties/mail-tokens';
import { ConversationReferences } from '../state/conversation-references';

/**
 * The requester's one-off consent for the bot to send mail as them: Microsoft Graph's
 * delegated permission Mail.Send, granted through the OAuth connection of the bot's Azure Bot
 * registration (an OAuth sign-in card), and kept and refreshed by the Bot Framework token
 * service. Microsoft Learn, "Add authentication to your Teams bot":
 * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/authentication/add-authentication
 * The token service knows people by their Teams user id (29:…): the bot finds it, for someone
 * it knows by Entra object id, in the personal chat it keeps for them.
 */
export interface MailSignIn extends MailTokens {
  /** The sign-in card for this turn's person. */
  signInCard(context: TurnContext): Promise<Attachment>;
  /** The code Teams sends back after sign-in (signin/verifyState): true when it gave a token. */
  verify(context: TurnContext, code: string): Promise<boolean>;
  /**
   * Teams' single sign-on (signin/tokenExchange): the person's Teams token, exchanged by the
   * token service for one of the bot's connection. False when it gives none (consent not yet
   * given, or the exchange refused): Teams then shows the card's sign-in button instead.
   */
  exchange(context: TurnContext, teamsToken: string): Promise<boolean>;
}

const TEAMS = 'msteams';

/** Reads tokens through botbuilder's UserTokenClient (the token service's REST API). */
export class TokenServiceMailSignIn implements MailSignIn {
  constructor(
    private readonly client: () => Promise<UserTokenClient>,
    private readonly connectionName: string,
    private readonly references: ConversationReferences,
  ) {}

  /** A UserTokenClient for the bot's own app id, outside any turn (the outbox sends mail long after the click). */
  static clientFor(auth: { createUserTokenClient(identity: ClaimsIdentity): Promise<UserTokenClient> }, appId: string): () => Promise<UserTokenClient> {
    let client: Promise<UserTokenClient> | undefined;
    return () => (client ??= auth.createUserTokenClient(botAudienceIdentity(appId)));
  }

  async tokenFor(userId: string): Promise<string | undefined> {
    const reference = await this.references.get(ConversationReferences.forUser(userId));
    const channelUserId = reference?.user?.id;
    if (!channelUserId) return undefined;
    return this.token(channelUserId, reference.channelId ?? TEAMS, '');
  }

  async signInCard(context: TurnContext): Promise<Attachment> {
    const resource = await (await this.client()).getSignInResource(this.connectionName, context.activity, '');
    return CardFactory.oauthCard(
      this.connectionName,
      'Sign in to send from your mailbox',
      'Allow the NAS Transfer bot to send these messages as you (Microsoft 365 permission: send mail as you). You grant it once; you can withdraw it at any time.',
      resource.signInLink,
      resource.tokenExchangeResource,
    );
  }

  async verify(context: TurnContext, code: string): Promise<boolean> {
    const channelUserId = context.activity.from?.id;
    if (!channelUserId) return false;
    return (await this.token(channelUserId, context.activity.channelId ?? TEAMS, code)) !== undefined;
  }

  async exchange(context: TurnContext, teamsToken: string): Promise<boolean> {
    const channelUserId = context.activity.from?.id;
    if (!channelUserId || !teamsToken) return false;
    const response = await (await this.client()).exchangeToken(channelUserId, this.connectionName, context.activity.channelId ?? TEAMS, { token: teamsToken });
    return Boolean(response?.token);
  }

  /** The token service answers 404 when it holds no token for the person (never signed in, consent withdrawn, refresh expired). */
  private async token(channelUserId: string, channelId: string, code: string): Promise<string | undefined> {
    try {
      const response = await (await this.client()).getUserToken(channelUserId, this.connectionName, channelId, code);
      return response?.token || undefined;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}

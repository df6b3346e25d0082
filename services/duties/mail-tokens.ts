/**
 * The requester's delegated Graph token for Mail.Send, from the Bot Framework token service
 * (the OAuth connection of the bot's registration). The token service keeps and refreshes it:
 * the bot never stores a token, and asks for one each time it sends.
 */
export interface MailTokens {
  /** The user's current token; undefined when they have not signed in, or withdrew consent. */
  tokenFor(userId: string): Promise<string | undefined>;
}

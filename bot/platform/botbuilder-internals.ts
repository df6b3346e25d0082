import { CallerIdConstants, type Activity, type CloudAdapter, type InvokeResponse, type TurnContext } from 'botbuilder';
import { AuthenticationConstants, ClaimsIdentity } from 'botframework-connector';

/*
 * Every place the bot leans on botbuilder beyond its public, typed API, in one file. botbuilder
 * (4.23) is archived: an upgrade, or a move to the Microsoft 365 Agents SDK, can change any of
 * these without a compile error, so test/unit/platform.test.ts checks each against the library
 * as installed. Nothing outside bot/ imports this file.
 */

export type TurnLogic = (context: TurnContext) => Promise<void>;

/**
 * CloudAdapterBase.processActivity(authHeader, activity, logic): authenticate the request, then
 * run the turn. Protected in botbuilder's types (meant for adapters that do their own HTTP, as
 * bot/http-server.ts does); it is the method the public process() calls after parsing the body.
 */
export function processActivityDirectly(adapter: CloudAdapter, authHeader: string, activity: Activity, logic: TurnLogic): Promise<InvokeResponse | undefined> {
  const open = adapter as unknown as { processActivity(authHeader: string, activity: Activity, logic: TurnLogic): Promise<InvokeResponse | undefined> };
  return open.processActivity(authHeader, activity, logic);
}

/** The shape of what CloudAdapter keeps under ConnectorClientKey: botbuilder-stdlib's ServiceClientContext around a core-client ServiceClient. */
interface ConnectorClientInternals {
  client?: { pipeline?: { removePolicy(options: { phase: string }): unknown[] } };
}

/**
 * The connector client's pipeline retries 429 and 5xx itself (core-rest-pipeline's default
 * retry policy, in the pipeline's "Retry" phase), holding the caller for up to Retry-After and
 * hiding the status. Takes that policy out of the client this turn uses; returns how many
 * policies went (0 when the client is not where botbuilder 4.23 keeps it).
 */
export function removeConnectorClientRetries(context: TurnContext, adapter: CloudAdapter): number {
  const connector = context.turnState.get<ConnectorClientInternals | undefined>(adapter.ConnectorClientKey);
  return connector?.client?.pipeline?.removePolicy({ phase: 'Retry' }).length ?? 0;
}

/**
 * The Bot Framework settings botbuilder's public-cloud default uses
 * (BotFrameworkAuthenticationFactory.create, botframework-connector 4.23). They are spelled
 * out because setting any one "parameterized" value (such as the OpenID metadata URL) makes
 * the factory take *every* value from configuration: an override alone would leave the token
 * issuer undefined and every request would be refused.
 */
export const PUBLIC_CLOUD_CHANNEL = {
  ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
  OAuthUrl: AuthenticationConstants.OAuthUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  CallerId: CallerIdConstants.PublicAzureChannel,
  ValidateAuthority: true,
} as const;

/**
 * The identity botbuilder's createUserTokenClient reads the bot's app id from (its audience
 * claim, as on an inbound channel request): the outbox asks the token service for a
 * requester's token outside any turn, so it has no inbound identity of its own.
 */
export function botAudienceIdentity(appId: string): ClaimsIdentity {
  return new ClaimsIdentity([{ type: AuthenticationConstants.AudienceClaim, value: appId }], true);
}

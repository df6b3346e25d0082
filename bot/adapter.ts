import { CallerIdConstants, CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
// A dependency of botbuilder; package.json should name it (see the report to the lead).
import { AuthenticationConstants } from 'botframework-connector';
import type { AppConfig } from '../config';
import type { Logger } from '../core/log';

/**
 * The Bot Framework settings botbuilder's public-cloud default uses
 * (BotFrameworkAuthenticationFactory.create, botframework-connector 4.23). They are spelled
 * out because setting any one "parameterized" value (such as the OpenID metadata URL) makes
 * the factory take *every* value from configuration: an override alone would leave the token
 * issuer undefined and every request would be refused.
 */
const PUBLIC_CLOUD_CHANNEL = {
  ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
  OAuthUrl: AuthenticationConstants.OAuthUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  CallerId: CallerIdConstants.PublicAzureChannel,
  ValidateAuthority: true,
} as const;

/** The settings ConfigurationBotFrameworkAuthentication reads, from our configuration. */
export function botFrameworkAuthenticationOptions(bot: AppConfig['bot']): ConfigurationBotFrameworkAuthenticationOptions {
  const credentials: ConfigurationBotFrameworkAuthenticationOptions = {
    MicrosoftAppId: bot.appId,
    MicrosoftAppPassword: bot.appPassword,
    MicrosoftAppType: bot.appType,
    MicrosoftAppTenantId: bot.appTenantId,
  };
  if (!bot.openIdMetadataUrl) return credentials;
  return { ...credentials, ...PUBLIC_CLOUD_CHANNEL, ToBotFromChannelOpenIdMetadataUrl: bot.openIdMetadataUrl };
}

/**
 * The CloudAdapter for the bot's app registration. With an app id every inbound request must
 * carry a Bot Connector token signed by a key from the OpenID metadata, for this app id
 * (audience) and the activity's serviceUrl; without one (local runs only, config.ts refuses it
 * in production) botbuilder accepts unauthenticated requests from the Agents Playground.
 */
export function createAdapter(config: AppConfig, logger: Logger): CloudAdapter {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(botFrameworkAuthenticationOptions(config.bot)));
  if (config.bot.appId) {
    logger.info('bot.auth.configured', { appType: config.bot.appType, openIdMetadataOverridden: Boolean(config.bot.openIdMetadataUrl) });
  } else {
    logger.warn('bot.auth.disabled', { environment: config.environment });
  }
  return adapter;
}

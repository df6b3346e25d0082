import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import type { AppConfig } from '../config';
import type { Logger } from '../core/log';
import { PUBLIC_CLOUD_CHANNEL } from './platform/botbuilder-internals';

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

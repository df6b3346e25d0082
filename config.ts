import path from 'node:path';
import { z } from 'zod';
import { AppError } from './core/errors';
import { isLoopbackUrl } from './core/net';
import type { LogLevel } from './core/log';
import type { DataSourceSettings } from './services/data-sources';
import type { GraphAuthSettings } from './services/directory/graph-credential';
import { parseWindows, TEAMS_DOCUMENTED_LIMITS, type PacingLimits, type SendWindow } from './services/outbox/send-pacing';
import type { DatabaseSettings } from './services/store/open-database';

/**
 * The only reader of process.env. Development defaults point at the embedded sandbox
 * (PGlite, sandbox Graph and ODS (FHIR and ORD) servers, sample registers in dev/) so that the bot runs
 * with no Azure, no Teams tenant and no internet; production must say everything.
 */
export const DEMO = {
  tenantId: '6e6d7300-0000-4000-8000-000000000001',
  requesterGroupId: '6e6d7300-0000-4000-8000-0000000000a1',
  opsGroupId: '6e6d7300-0000-4000-8000-0000000000b1',
  opsChannelId: '19:nas-ops-transfer-requests@thread.tacv2',
  /** Tom Ashdown, NAS Operations in dev/demo-directory.json: who the workspace signs in as locally. */
  opsUserId: '6e6d7300-0000-4000-8000-000000000131',
  workspaceAppIdUri: 'api://localhost/nas-transfer-workspace',
} as const;

const repoRoot = __dirname;
const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());

const windowsText = (windows: readonly SendWindow[]) => windows.map((window) => `${window.seconds}:${window.sends}`).join(',');
const sendWindows = (documented: readonly SendWindow[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default(windowsText(documented))
      .refine((text) => parseWindows(text) !== undefined, 'must be seconds:sends pairs separated by commas, such as 1:7,2:8'),
  );

const environmentSchema = z.object({
  APP_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
  // Default: every interface in production (a container or App Service must be reachable from
  // outside itself), loopback elsewhere (a developer's bot is not exposed to the local network).
  HOST: optionalString,
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3978)),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info')),

  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.preprocess(emptyToUndefined, z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional()),
  MicrosoftAppTenantId: optionalString,
  // The name botbuilder's ConfigurationBotFrameworkAuthentication reads for the channel's
  // OpenID metadata (AuthenticationConstants.BotOpenIdMetadataKey). Unset: the public Bot
  // Framework endpoint. Set only for a sovereign cloud, or a local key server in tests.
  BotOpenIdMetadata: optionalUrl,
  TENANT_ID: optionalString,

  DATABASE_URL: optionalString,
  PGLITE_DATA_DIR: optionalString,

  GRAPH_BASE_URL: optionalUrl,
  GRAPH_AUTH: z.preprocess(emptyToUndefined, z.enum(['client-secret', 'certificate', 'managed-identity']).optional()),
  GRAPH_TENANT_ID: optionalString,
  GRAPH_CLIENT_ID: optionalString,
  GRAPH_CLIENT_SECRET: optionalString,
  GRAPH_CLIENT_CERTIFICATE_PATH: optionalString,
  GRAPH_CLIENT_CERTIFICATE_PASSWORD: optionalString,
  GRAPH_MANAGED_IDENTITY_CLIENT_ID: optionalString,
  DIRECTORY_ORG_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute1')),
  DIRECTORY_SITE_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute2')),
  DIRECTORY_LEAVER_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute3')),
  DIRECTORY_LEAVER_VALUE: z.preprocess(emptyToUndefined, z.string().default('Leaver')),

  // The Organisation Data Terminology FHIR R4 API (the default) or the ORD API 2-0-0 (the alternative): one of them.
  // The OAuth connection (Azure Bot > Configuration > OAuth Connection Settings) through which a requester grants Mail.Send
  // (delegated) to send the affected users' messages from their own mailbox; unset: the messages can only be downloaded.
  MAIL_OAUTH_CONNECTION: optionalString,
  // The Bot Framework token service; unset is the public one botbuilder uses (https://api.botframework.com). Tests point it at a fake.
  MAIL_TOKEN_SERVICE_URL: optionalUrl,
  ODS_FHIR_BASE_URL: optionalUrl,
  ODS_API_KEY: optionalString,
  ODS_BASE_URL: optionalUrl,
  DSPT_REGISTER_CSV: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'dspt-register.csv'))),
  NAS_SITES_CSV: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'nas-sites.csv'))),
  DSPT_MAX_AGE_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(366).default(14)),
  POLICY_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'policy', 'nas-transfer-policy.json'))),
  SANDBOX_DIRECTORY_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'demo-directory.json'))),
  SANDBOX_ODS_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'demo-ods.json'))),

  REQUESTER_GROUP_ID: optionalString,
  OPS_GROUP_ID: optionalString,
  OPS_CHANNEL_ID: optionalString,
  MAX_ACCOUNTS_PER_REQUEST: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(5000).default(500)),
  // Unset: personal data is kept (retention is a decision for the data controller, not a default).
  RETENTION_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).optional()),
  CHASE_AFTER_WORKING_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(60).default(3)),
  TRANSFER_CHECK_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(10_080).default(180)),
  TRANSFER_CHASE_WORKING_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(60).default(5)),
  OPS_MEMBERSHIP_MAX_AGE_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(60).default(5)),
  // Longer than a connector call may take (30 s), so a live worker's row is never taken over mid-call.
  OUTBOX_LEASE_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(31).max(3600).default(60)),

  // Pacing of what the bot sends on its own, inside Teams' documented rate limits (services/outbox/send-pacing.ts).
  TEAMS_CONVERSATION_LIMITS: sendWindows(TEAMS_DOCUMENTED_LIMITS.conversation),
  TEAMS_TENANT_LIMITS: sendWindows(TEAMS_DOCUMENTED_LIMITS.tenant),
  TEAMS_PACING_MARGIN_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(5000).default(TEAMS_DOCUMENTED_LIMITS.marginMs)),

  // The NAS Operations workspace (Teams tab): the token audience, the tenant's keys, the local sign-in.
  WORKSPACE_APP_ID_URI: optionalString,
  WORKSPACE_CLIENT_ID: z.preprocess(emptyToUndefined, z.guid().optional()),
  WORKSPACE_SCOPE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'must be one scope name, such as access_as_user')
      .default('access_as_user'),
  ),
  WORKSPACE_OPENID_METADATA: optionalUrl,
  WORKSPACE_DEV_SIGN_IN: z.preprocess(emptyToUndefined, z.enum(['on', 'off']).optional()),
});

type RawEnvironment = Record<string, string | undefined>;

/**
 * Rules that relate settings to each other. They read the raw strings, not the parsed
 * values, so that one malformed setting (PORT=eighty) never hides these problems: the
 * operator gets the whole list in one start-up attempt.
 */
function crossSettingProblems(env: RawEnvironment): Array<{ setting: string; message: string }> {
  const value = (name: string) => (env[name]?.trim() ? env[name].trim() : undefined);
  const problems: Array<{ setting: string; message: string }> = [];
  const problem = (setting: string, message: string) => problems.push({ setting, message });
  const production = value('APP_ENV') === 'production';

  if (production) {
    for (const setting of ['MicrosoftAppId', 'TENANT_ID', 'DATABASE_URL', 'GRAPH_BASE_URL', 'REQUESTER_GROUP_ID', 'OPS_GROUP_ID', 'OPS_CHANNEL_ID']) {
      if (value(setting) === undefined) problem(setting, 'is required in production');
    }
    if (value('ODS_FHIR_BASE_URL') === undefined && value('ODS_BASE_URL') === undefined) {
      problem('ODS_FHIR_BASE_URL', 'is required in production (or ODS_BASE_URL for the ORD API instead): the bot needs one source of ODS data');
    }
    const fhirUrl = value('ODS_FHIR_BASE_URL');
    if (fhirUrl && URL.canParse(fhirUrl) && new URL(fhirUrl).protocol !== 'https:')
      problem('ODS_FHIR_BASE_URL', 'must be an https URL in production (the API key travels with every request)');
    // Their defaults are the sample registers in dev/, which a production image does not carry.
    for (const setting of ['DSPT_REGISTER_CSV', 'NAS_SITES_CSV']) {
      if (value(setting) === undefined) problem(setting, 'is required in production (the default is a development sample)');
    }
  }

  // Botbuilder asserts these at the first turn with a bare AssertionError; say it at start-up instead.
  const appId = value('MicrosoftAppId');
  // Production defaults to SingleTenant as loadConfig does with an app id: the messages name what that needs.
  const appType = value('MicrosoftAppType') ?? (appId || production ? 'SingleTenant' : 'MultiTenant');
  if (appId || production) {
    if ((appType === 'SingleTenant' || appType === 'UserAssignedMSI') && value('MicrosoftAppTenantId') === undefined) {
      problem('MicrosoftAppTenantId', `is required when MicrosoftAppType is ${appType} (the bot's Microsoft Entra tenant id)`);
    }
    if (appType === 'UserAssignedMSI' && value('MicrosoftAppPassword') !== undefined) {
      problem('MicrosoftAppPassword', 'must be empty when MicrosoftAppType is UserAssignedMSI (the managed identity has no password)');
    }
    if (appType !== 'UserAssignedMSI' && value('MicrosoftAppPassword') === undefined) {
      problem('MicrosoftAppPassword', `is required when MicrosoftAppType is ${appType}${production ? ' in production' : ''} (or use UserAssignedMSI)`);
    }
  }
  const openIdMetadata = value('BotOpenIdMetadata');
  if (production && openIdMetadata && URL.canParse(openIdMetadata) && new URL(openIdMetadata).protocol !== 'https:') {
    problem('BotOpenIdMetadata', 'must be an https URL in production');
  }

  if (value('ODS_FHIR_BASE_URL') !== undefined && value('ODS_BASE_URL') !== undefined) {
    problem(
      'ODS_BASE_URL',
      'must be empty when ODS_FHIR_BASE_URL is set: configure exactly one ODS source (the FHIR R4 API is the default, ORD the alternative)',
    );
  }
  const odsFhirUrl = value('ODS_FHIR_BASE_URL');
  if (odsFhirUrl && URL.canParse(odsFhirUrl) && !isLoopbackUrl(odsFhirUrl) && value('ODS_API_KEY') === undefined) {
    problem('ODS_API_KEY', 'is required with a non-loopback ODS_FHIR_BASE_URL (the API is application-restricted: the key goes in the apikey header)');
  }

  const graphAuth = graphAuthKind(env);
  const graphUrl = value('GRAPH_BASE_URL');
  const remoteGraph = graphUrl !== undefined && URL.canParse(graphUrl) && !isLoopbackUrl(graphUrl);
  if ((production || remoteGraph) && graphAuth === undefined) {
    problem(
      'GRAPH_AUTH',
      `${production ? 'production' : 'a non-loopback GRAPH_BASE_URL'} needs Graph app-only credentials: GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET, or GRAPH_CLIENT_CERTIFICATE_PATH instead of the secret, or GRAPH_AUTH=managed-identity`,
    );
  }
  if (graphAuth === 'client-secret' || graphAuth === 'certificate') {
    for (const setting of ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID']) {
      if (value(setting) === undefined) problem(setting, `is required for Graph ${graphAuth} authentication`);
    }
    const secretSetting = graphAuth === 'client-secret' ? 'GRAPH_CLIENT_SECRET' : 'GRAPH_CLIENT_CERTIFICATE_PATH';
    if (value(secretSetting) === undefined) problem(secretSetting, `is required for Graph ${graphAuth} authentication`);
  }
  problems.push(...workspaceProblems(value, production));
  return problems;
}

function workspaceProblems(value: (name: string) => string | undefined, production: boolean): Array<{ setting: string; message: string }> {
  const problems: Array<{ setting: string; message: string }> = [];
  if (value('WORKSPACE_DEV_SIGN_IN') === 'on' && value('APP_ENV') !== undefined && value('APP_ENV') !== 'development') {
    problems.push({ setting: 'WORKSPACE_DEV_SIGN_IN', message: 'is refused outside APP_ENV=development (it signs anyone in as the demo NAS Operations user)' });
  }
  const metadata = value('WORKSPACE_OPENID_METADATA');
  if (production && metadata && URL.canParse(metadata) && new URL(metadata).protocol !== 'https:')
    problems.push({ setting: 'WORKSPACE_OPENID_METADATA', message: 'must be an https URL in production' });
  const appIdUri = value('WORKSPACE_APP_ID_URI');
  if (production && appIdUri && !value('WORKSPACE_CLIENT_ID') && !trailingGuid(appIdUri)) {
    problems.push({
      setting: 'WORKSPACE_CLIENT_ID',
      message: 'is required when WORKSPACE_APP_ID_URI does not end in the client ID: v2.0 tokens carry the client ID as their audience',
    });
  }
  return problems;
}

/** Which Graph app-only authentication the settings ask for: stated, or implied by the secret or certificate given. */
function graphAuthKind(env: RawEnvironment): GraphAuthSettings['kind'] | undefined {
  const stated = env.GRAPH_AUTH?.trim();
  if (stated === 'client-secret' || stated === 'certificate' || stated === 'managed-identity') return stated;
  if (env.GRAPH_CLIENT_CERTIFICATE_PATH?.trim()) return 'certificate';
  if (env.GRAPH_CLIENT_SECRET?.trim()) return 'client-secret';
  return undefined;
}

/** Every environment variable the bot reads; .env.example documents each one. */
export const CONFIG_VARIABLES = Object.keys(environmentSchema.shape);

/** The settings services need arrive as their own types (services/ owns them; config.ts never is imported there). */
export interface AppConfig extends DataSourceSettings {
  environment: 'development' | 'test' | 'production';
  /** Listen address: 0.0.0.0 in production, 127.0.0.1 elsewhere, unless HOST says otherwise. */
  host: string;
  port: number;
  logLevel: LogLevel;
  bot: {
    appId: string;
    appPassword?: string;
    appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    appTenantId?: string;
    /** OpenID metadata for tokens from the channel; undefined means the public Bot Framework one. */
    openIdMetadataUrl?: string;
  };
  /** Activities from any other tenant are refused; undefined only outside production. */
  allowedTenantId?: string;
  database: DatabaseSettings;
  /** Undefined baseUrl means: start the sandbox Graph server and use it. */
  graph: { baseUrl?: string; auth?: GraphAuthSettings; sandboxDataFile: string };
  directoryAttributes: { organisation: string; site: string; leaver: string; leaverValue: string };
  /** Sending the affected users' messages from the requester's mailbox: the OAuth connection's name, and the token service. */
  mail: { oauthConnection?: string; tokenServiceUrl?: string };
  /**
   * fhirBaseUrl: the Organisation Data Terminology FHIR R4 API (apiKey is its secret: never logged);
   * baseUrl: the ORD API 2-0-0, the alternative. Neither set means: start the sandbox ODS server and use its FHIR API.
   */
  ods: { fhirBaseUrl?: string; apiKey?: string; baseUrl?: string; sandboxDataFile: string };
  /** dsptMaxAgeDays is undefined for the built-in development sample, whose file date means nothing. */
  registers: { dsptCsv: string; nasSitesCsv: string; dsptMaxAgeDays?: number };
  policyFile: string;
  requesterGroupId: string;
  opsGroupId: string;
  opsChannelId: string;
  maxAccountsPerRequest: number;
  /** Personal data of requests closed longer than this many days is purged (services/store/retention.ts); undefined keeps it. */
  retentionDays?: number;
  /** Requests undecided this many working days (England and Wales) are flagged in the ops channel. */
  chaseAfterWorkingDays: number;
  /** Approved accounts not yet seen moved to NAS are read in the directory this often. */
  transferCheckMinutes: number;
  /** Approved accounts not moved this many working days after the decision are flagged in the ops channel. */
  transferChaseWorkingDays: number;
  /** While the directory cannot answer, a NAS Operations membership confirmed this long ago still stands; older, the click is refused (fail closed). */
  opsMembershipMaxAgeMinutes: number;
  /** How long an owed message a worker took is its alone; a worker that died without settling it loses it after this. */
  outboxLeaseSeconds: number;
  /** The rolling windows what the bot sends on its own is paced to, per conversation and per tenant (defaults: Microsoft's documented limits). */
  teamsPacing: PacingLimits;
  workspace: WorkspaceSettings;
}

/** The NAS Operations workspace tab: whose tokens its API accepts. */
export interface WorkspaceSettings {
  /** The token audience: the application ID URI (webApplicationInfo.resource in the manifest). Unset in production: the workspace is not served. */
  appIdUri?: string;
  /** The app registration's client ID (webApplicationInfo.id): the audience of v2.0 tokens. Default: the GUID ending appIdUri. */
  clientId?: string;
  /** The delegated scope every token must carry (Expose an API), e.g. access_as_user. */
  scope: string;
  /** The tenant whose tokens are accepted (TENANT_ID). */
  tenantId: string;
  /** Entra ID OpenID metadata for the tenant: where its signing keys are published. */
  openIdMetadataUrl: string;
  /** Development only: the page signs in as this demo NAS Operations member without Teams. */
  devSignInUserId?: string;
}

export function loadConfig(env: RawEnvironment = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => ({ setting: issue.path.join('.') || '(environment)', message: issue.message }))),
    ...crossSettingProblems(env),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new AppError('CONFIG_INVALID', `Fix these settings:\n${problems.map(({ setting, message }) => `  - ${setting}: ${message}`).join('\n')}`);
  }
  const e = parsed.data;
  const demoDefault = (value: string | undefined, demo: string) => value ?? demo;
  const graphAuth = graphAuthSettings(e);
  return {
    environment: e.APP_ENV,
    host: e.HOST ?? (e.APP_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    // With no app id (local runs only) there are no credentials to check, which only the multi-tenant factory accepts.
    bot: {
      appId: e.MicrosoftAppId ?? '',
      appPassword: e.MicrosoftAppPassword,
      appType: e.MicrosoftAppType ?? (e.MicrosoftAppId ? 'SingleTenant' : 'MultiTenant'),
      appTenantId: e.MicrosoftAppTenantId,
      openIdMetadataUrl: e.BotOpenIdMetadata,
    },
    allowedTenantId: e.APP_ENV === 'production' ? e.TENANT_ID : demoDefault(e.TENANT_ID, DEMO.tenantId),
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'pglite', dataDir: e.PGLITE_DATA_DIR ?? path.join(repoRoot, '.data', 'pglite') },
    graph: {
      baseUrl: e.GRAPH_BASE_URL,
      auth: graphAuth,
      sandboxDataFile: e.SANDBOX_DIRECTORY_FILE,
    },
    directoryAttributes: {
      organisation: e.DIRECTORY_ORG_ATTRIBUTE,
      site: e.DIRECTORY_SITE_ATTRIBUTE,
      leaver: e.DIRECTORY_LEAVER_ATTRIBUTE,
      leaverValue: e.DIRECTORY_LEAVER_VALUE,
    },
    mail: { oauthConnection: e.MAIL_OAUTH_CONNECTION, tokenServiceUrl: e.MAIL_TOKEN_SERVICE_URL },
    ods: { fhirBaseUrl: e.ODS_FHIR_BASE_URL, apiKey: e.ODS_API_KEY, baseUrl: e.ODS_BASE_URL, sandboxDataFile: e.SANDBOX_ODS_FILE },
    registers: {
      dsptCsv: e.DSPT_REGISTER_CSV,
      nasSitesCsv: e.NAS_SITES_CSV,
      ...(env.DSPT_REGISTER_CSV?.trim() || env.DSPT_MAX_AGE_DAYS?.trim() ? { dsptMaxAgeDays: e.DSPT_MAX_AGE_DAYS } : {}),
    },
    policyFile: e.POLICY_FILE,
    requesterGroupId: demoDefault(e.REQUESTER_GROUP_ID, DEMO.requesterGroupId),
    opsGroupId: demoDefault(e.OPS_GROUP_ID, DEMO.opsGroupId),
    opsChannelId: demoDefault(e.OPS_CHANNEL_ID, DEMO.opsChannelId),
    maxAccountsPerRequest: e.MAX_ACCOUNTS_PER_REQUEST,
    retentionDays: e.RETENTION_DAYS,
    chaseAfterWorkingDays: e.CHASE_AFTER_WORKING_DAYS,
    transferCheckMinutes: e.TRANSFER_CHECK_MINUTES,
    transferChaseWorkingDays: e.TRANSFER_CHASE_WORKING_DAYS,
    opsMembershipMaxAgeMinutes: e.OPS_MEMBERSHIP_MAX_AGE_MINUTES,
    outboxLeaseSeconds: e.OUTBOX_LEASE_SECONDS,
    teamsPacing: { conversation: parseWindows(e.TEAMS_CONVERSATION_LIMITS)!, tenant: parseWindows(e.TEAMS_TENANT_LIMITS)!, marginMs: e.TEAMS_PACING_MARGIN_MS },
    workspace: workspaceSettings(e),
  };
}

function workspaceSettings(e: z.infer<typeof environmentSchema>): WorkspaceSettings {
  const tenantId = e.APP_ENV === 'production' ? (e.TENANT_ID ?? '') : (e.TENANT_ID ?? DEMO.tenantId);
  const devSignIn = e.APP_ENV === 'development' && (e.WORKSPACE_DEV_SIGN_IN ?? 'on') === 'on';
  const appIdUri = e.WORKSPACE_APP_ID_URI ?? (e.APP_ENV === 'production' ? undefined : DEMO.workspaceAppIdUri);
  const clientId = e.WORKSPACE_CLIENT_ID ?? trailingGuid(appIdUri);
  return {
    appIdUri,
    ...(clientId ? { clientId } : {}),
    scope: e.WORKSPACE_SCOPE,
    tenantId,
    openIdMetadataUrl: e.WORKSPACE_OPENID_METADATA ?? `https://login.microsoftonline.com/${tenantId}/v2.0/.well-known/openid-configuration`,
    ...(devSignIn ? { devSignInUserId: DEMO.opsUserId } : {}),
  };
}

/** Teams documents the App ID URI as api://<domain>/<client id> (or .../botid-<client id>): the client ID is its end. */
function trailingGuid(uri: string | undefined): string | undefined {
  return /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(uri ?? '')?.[1]?.toLowerCase();
}

/** Called only after crossSettingProblems found nothing missing, so the required values are present. */
function graphAuthSettings(e: z.infer<typeof environmentSchema>): GraphAuthSettings | undefined {
  const kind = graphAuthKind({
    GRAPH_AUTH: e.GRAPH_AUTH,
    GRAPH_CLIENT_SECRET: e.GRAPH_CLIENT_SECRET,
    GRAPH_CLIENT_CERTIFICATE_PATH: e.GRAPH_CLIENT_CERTIFICATE_PATH,
  });
  switch (kind) {
    case 'client-secret':
      return { kind, tenantId: e.GRAPH_TENANT_ID!, clientId: e.GRAPH_CLIENT_ID!, clientSecret: e.GRAPH_CLIENT_SECRET! };
    case 'certificate':
      return {
        kind,
        tenantId: e.GRAPH_TENANT_ID!,
        clientId: e.GRAPH_CLIENT_ID!,
        certificatePath: e.GRAPH_CLIENT_CERTIFICATE_PATH!,
        certificatePassword: e.GRAPH_CLIENT_CERTIFICATE_PASSWORD,
      };
    case 'managed-identity':
      return { kind, clientId: e.GRAPH_MANAGED_IDENTITY_CLIENT_ID };
    default:
      return undefined;
  }
}

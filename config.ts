import path from 'node:path';
import { z } from 'zod';
import { AppError } from './core/errors';
import type { LogLevel } from './core/log';

/**
 * The only reader of process.env. Development defaults point at the embedded sandbox
 * (PGlite, sandbox Graph and ORD servers, sample registers in dev/) so that the bot runs
 * with no Azure, no Teams tenant and no internet; production must say everything.
 */
export const DEMO = {
  tenantId: '6e6d7300-0000-4000-8000-000000000001',
  requesterGroupId: '6e6d7300-0000-4000-8000-0000000000a1',
  opsGroupId: '6e6d7300-0000-4000-8000-0000000000b1',
  opsChannelId: '19:nas-ops-transfer-requests@thread.tacv2',
} as const;

const repoRoot = __dirname;
const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());

const environmentSchema = z
  .object({
    APP_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
    PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3978)),
    LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info')),

    MicrosoftAppId: optionalString,
    MicrosoftAppPassword: optionalString,
    MicrosoftAppType: z.preprocess(emptyToUndefined, z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional()),
    MicrosoftAppTenantId: optionalString,
    TENANT_ID: optionalString,

    DATABASE_URL: optionalString,
    PGLITE_DATA_DIR: optionalString,

    GRAPH_BASE_URL: optionalUrl,
    GRAPH_TENANT_ID: optionalString,
    GRAPH_CLIENT_ID: optionalString,
    GRAPH_CLIENT_SECRET: optionalString,
    DIRECTORY_ORG_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute1')),
    DIRECTORY_SITE_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute2')),
    DIRECTORY_LEAVER_ATTRIBUTE: z.preprocess(emptyToUndefined, z.string().default('onPremisesExtensionAttributes.extensionAttribute3')),
    DIRECTORY_LEAVER_VALUE: z.preprocess(emptyToUndefined, z.string().default('Leaver')),

    ODS_BASE_URL: optionalUrl,
    DSPT_REGISTER_CSV: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'dspt-register.csv'))),
    NAS_SITES_CSV: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'nas-sites.csv'))),
    POLICY_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'policy', 'nas-transfer-policy.json'))),
    SANDBOX_DIRECTORY_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'demo-directory.json'))),
    SANDBOX_ODS_FILE: z.preprocess(emptyToUndefined, z.string().default(path.join(repoRoot, 'dev', 'demo-ods.json'))),

    REQUESTER_GROUP_ID: optionalString,
    OPS_GROUP_ID: optionalString,
    OPS_CHANNEL_ID: optionalString,
    MAX_ACCOUNTS_PER_REQUEST: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(5000).default(500)),
  })
  .superRefine((env, ctx) => {
    if (env.APP_ENV !== 'production') return;
    const required: Array<keyof typeof env> = ['MicrosoftAppId', 'TENANT_ID', 'DATABASE_URL', 'GRAPH_BASE_URL', 'ODS_BASE_URL', 'REQUESTER_GROUP_ID', 'OPS_GROUP_ID', 'OPS_CHANNEL_ID'];
    for (const key of required) {
      if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production' });
    }
    if (env.MicrosoftAppType !== 'UserAssignedMSI' && env.MicrosoftAppPassword === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MicrosoftAppPassword'], message: 'is required in production unless MicrosoftAppType is UserAssignedMSI' });
    }
    const graphCredentials = [env.GRAPH_TENANT_ID, env.GRAPH_CLIENT_ID, env.GRAPH_CLIENT_SECRET];
    if (graphCredentials.some((value) => value === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['GRAPH_CLIENT_ID'], message: 'GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET are required in production' });
    }
  });

/** Every environment variable the bot reads; .env.example documents each one. */
export const CONFIG_VARIABLES = Object.keys(environmentSchema.shape);

export interface GraphCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface AppConfig {
  environment: 'development' | 'test' | 'production';
  port: number;
  logLevel: LogLevel;
  bot: { appId: string; appPassword?: string; appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI'; appTenantId?: string };
  /** Activities from any other tenant are refused; undefined only outside production. */
  allowedTenantId?: string;
  database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };
  /** Undefined means: start the sandbox Graph server and use it. */
  graph: { baseUrl?: string; credentials?: GraphCredentials; sandboxDataFile: string };
  directoryAttributes: { organisation: string; site: string; leaver: string; leaverValue: string };
  ods: { baseUrl?: string; sandboxDataFile: string };
  registers: { dsptCsv: string; nasSitesCsv: string };
  policyFile: string;
  requesterGroupId: string;
  opsGroupId: string;
  opsChannelId: string;
  maxAccountsPerRequest: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new AppError('CONFIG_INVALID', `Fix these settings:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const demoDefault = (value: string | undefined, demo: string) => value ?? demo;
  const credentials =
    e.GRAPH_TENANT_ID && e.GRAPH_CLIENT_ID && e.GRAPH_CLIENT_SECRET
      ? { tenantId: e.GRAPH_TENANT_ID, clientId: e.GRAPH_CLIENT_ID, clientSecret: e.GRAPH_CLIENT_SECRET }
      : undefined;
  if (e.GRAPH_BASE_URL && !credentials && !isLoopback(e.GRAPH_BASE_URL)) {
    throw new AppError('CONFIG_INVALID', 'Fix these settings:\n  - GRAPH_BASE_URL: a non-loopback Graph needs GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET');
  }
  return {
    environment: e.APP_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    // With no app id (local runs only) there are no credentials to check, which only the multi-tenant factory accepts.
    bot: {
      appId: e.MicrosoftAppId ?? '',
      appPassword: e.MicrosoftAppPassword,
      appType: e.MicrosoftAppType ?? (e.MicrosoftAppId ? 'SingleTenant' : 'MultiTenant'),
      appTenantId: e.MicrosoftAppTenantId,
    },
    allowedTenantId: e.APP_ENV === 'production' ? e.TENANT_ID : demoDefault(e.TENANT_ID, DEMO.tenantId),
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'pglite', dataDir: e.PGLITE_DATA_DIR ?? path.join(repoRoot, '.data', 'pglite') },
    graph: { baseUrl: e.GRAPH_BASE_URL, credentials, sandboxDataFile: e.SANDBOX_DIRECTORY_FILE },
    directoryAttributes: {
      organisation: e.DIRECTORY_ORG_ATTRIBUTE,
      site: e.DIRECTORY_SITE_ATTRIBUTE,
      leaver: e.DIRECTORY_LEAVER_ATTRIBUTE,
      leaverValue: e.DIRECTORY_LEAVER_VALUE,
    },
    ods: { baseUrl: e.ODS_BASE_URL, sandboxDataFile: e.SANDBOX_ODS_FILE },
    registers: { dsptCsv: e.DSPT_REGISTER_CSV, nasSitesCsv: e.NAS_SITES_CSV },
    policyFile: e.POLICY_FILE,
    requesterGroupId: demoDefault(e.REQUESTER_GROUP_ID, DEMO.requesterGroupId),
    opsGroupId: demoDefault(e.OPS_GROUP_ID, DEMO.opsGroupId),
    opsChannelId: demoDefault(e.OPS_CHANNEL_ID, DEMO.opsChannelId),
    maxAccountsPerRequest: e.MAX_ACCOUNTS_PER_REQUEST,
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

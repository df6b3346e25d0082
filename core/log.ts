import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/**
 * Structured JSON-lines logging through pino. Callers pass event names and ids, never
 * message text, addresses or phone numbers: the fields are what an operator needs to
 * trace a turn. Because a caller can still slip, personal data is also removed here,
 * once for every logger: by field name (REDACTED_FIELDS, pino's redaction) and by shape
 * (addresses and UK mobile numbers inside any string value).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Field names whose values are personal data or free text, wherever they appear (up to three levels deep). */
export const REDACTED_FIELDS = [
  'email',
  'mail',
  'upn',
  'userPrincipalName',
  'otherMails',
  'proxyAddresses',
  'mobilePhone',
  'phone',
  'businessPhones',
  'displayName',
  'givenName',
  'surname',
  'name',
  'text',
  'reason',
  'previousText',
  'authorization',
  'password',
  'clientSecret',
] as const;

const REDACTION_PATHS = REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*[*].${field}`, `*.*[*].${field}`]);
const CENSOR = '[redacted]';
// `reason` is both the requester's free-text transfer reason (personal) and, in delivery
// logs, a machine code such as BOT_REMOVED or HTTP_429: a code passes, anything else is censored.
const MACHINE_CODE = /^[A-Z][A-Z0-9_]{1,47}$/;

function censor(value: unknown, path: string[]): unknown {
  if (path[path.length - 1] === 'reason' && typeof value === 'string' && MACHINE_CODE.test(value)) return value;
  return CENSOR;
}

// An address anywhere in a string, and a UK mobile number (07… or +44 7…, spaced or not).
// Deliberately narrow for phones so that GUIDs, NTR references and counts stay readable.
const EMAIL_PATTERN = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const UK_MOBILE_PATTERN = /(?:\+\s?44\s?\(?0?\)?\s?|\b0)7\d{3}[\s-]?\d{3}[\s-]?\d{3}\b/g;

function scrubString(value: string): string {
  return value.replace(EMAIL_PATTERN, '[email]').replace(UK_MOBILE_PATTERN, '[phone]');
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (value instanceof Date) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = scrub(item, depth + 1);
  return copy;
}

const correlation = new AsyncLocalStorage<{ correlationId: string }>();

/**
 * Runs `fn` with a correlation id that every log line written inside it (across awaits)
 * carries, so one turn's lines can be found together across services and instances.
 */
export function withCorrelationId<T>(correlationId: string, fn: () => T): T {
  return correlation.run({ correlationId }, fn);
}

/** The correlation id of the turn being handled, if any. */
export function currentCorrelationId(): string | undefined {
  return correlation.getStore()?.correlationId;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line + '\n')): Logger {
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // Runs before redaction: free text and addresses in any value are masked first.
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      mixin: () => {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlationId } : {};
      },
      redact: { paths: REDACTION_PATHS, censor },
    },
    // Synchronous: a line is written before the call returns, so nothing is lost at process.exit.
    { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) },
  );
  // The event goes first in the object so each line reads "event", then its ids.
  const emit =
    (at: Exclude<LogLevel, 'silent'>) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (logger.isLevelEnabled(at)) logger[at]({ event, ...fields });
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = createLogger('silent');

import { AppError } from '../../core/errors';
import { fetchSameOrigin, RedirectRefused } from '../../core/redirects';
import { retryAfterSeconds } from '../../core/retry-after';
import type { SourceStatus } from './source-status';

export type OdsReservation = { granted: true } | { granted: false; waitMs: number };

/** Whoever grants ODS requests their slot (services/store/ods-budget.ts across instances); asked before each request. */
export interface OdsPacer {
  reserve(): Promise<OdsReservation>;
}

export interface OdsHttpOptions {
  timeoutMs?: number;
  /** How many times one read is tried when ODS throttles (429) or fails (5xx). */
  maxAttempts?: number;
  /** Longest wait for one Retry-After; a longer one is not waited for (the job is retried later instead). */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** The ledger every instance shares, asked before each request: the API's limit is per application, not per instance. */
  pacer?: OdsPacer;
}

export interface OdsAnswer {
  status: number;
  body: unknown;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After in ms; a missing or odd one waits a second. */
function retryAfterMs(header: string | null, now: Date): number {
  return (retryAfterSeconds(header, now) ?? 1) * 1000;
}

/** A redirect ODS gave that the bot would not follow: a setting to check, not a reason to try again. */
function redirectRefused(error: RedirectRefused): AppError {
  return new AppError(
    'ODS_MISCONFIGURED',
    error.reason === 'other-origin'
      ? `ODS redirected the bot to another host (${error.target}); the API key is sent only to the configured ODS host, so the redirect was not followed. Check the ODS base URL.`
      : 'ODS redirected the bot too many times. Check the ODS base URL.',
    { cause: error },
  );
}

/**
 * GETs for the ODS clients: a 429 waits for its Retry-After and tries again, a 5xx backs off
 * and tries again, both a bounded number of times; 401/403 mean the bot's settings are
 * wrong (ODS_MISCONFIGURED), never "no such organisation". Counts what it did for `sources`.
 */
export class OdsHttp {
  private requests = 0;
  private lastSuccessAt: string | undefined;
  private lastError: { message: string; at: string } | undefined;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private readonly pacer: OdsPacer | undefined;

  constructor(
    private readonly headers: Record<string, string>,
    options: OdsHttpOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => new Date());
    this.pacer = options.pacer;
  }

  /**
   * Waits for the shared ledger to grant a slot. A wait longer than maxRetryAfterMs is not waited
   * out: the read fails as ODS being busy, and the screening is tried again later.
   */
  private async paced(): Promise<void> {
    if (!this.pacer) return;
    for (;;) {
      const reservation = await this.pacer.reserve();
      if (reservation.granted) return;
      if (reservation.waitMs > this.maxRetryAfterMs) {
        throw this.failure(new AppError('ODS_UNAVAILABLE', 'The bot has used its share of ODS requests for the moment; screening will be tried again.'));
      }
      await this.sleep(reservation.waitMs);
    }
  }

  /** HTTP requests sent so far (retries included). */
  get requestCount(): number {
    return this.requests;
  }

  async get(url: string): Promise<OdsAnswer> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      await this.paced();
      this.requests++;
      try {
        // Redirects are followed on ODS's own origin only: the key never goes to another host.
        response = await fetchSameOrigin(url, { headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        if (error instanceof RedirectRefused) throw this.failure(redirectRefused(error));
        if (attempt < this.maxAttempts && attempt < 3) {
          await this.sleep(250 * 2 ** attempt);
          continue;
        }
        throw this.failure(new AppError('ODS_UNAVAILABLE', undefined, { cause: error }));
      }
      if (response.status === 429 || response.status >= 500) {
        const wait = response.status === 429 ? retryAfterMs(response.headers.get('retry-after'), this.now()) : 250 * 2 ** attempt;
        await response.body?.cancel().catch(() => undefined);
        if (attempt < this.maxAttempts && wait <= this.maxRetryAfterMs) {
          await this.sleep(wait);
          continue;
        }
        throw this.failure(
          new AppError('ODS_UNAVAILABLE', response.status === 429 ? 'ODS is limiting how often it may be asked; screening will be tried again.' : undefined),
        );
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel().catch(() => undefined);
        throw this.failure(
          new AppError(
            'ODS_MISCONFIGURED',
            `ODS answered HTTP ${response.status}: check the API key (ODS_API_KEY) and that the application is subscribed to the API.`,
          ),
        );
      }
      const body: unknown = await response.json().catch(() => undefined);
      if (response.ok || response.status === 404) this.lastSuccessAt = this.now().toISOString();
      return { status: response.status, body };
    }
  }

  /** Records a failure for `sources`, and returns it to be thrown. */
  failure(error: AppError): AppError {
    this.lastError = { message: error.userMessage, at: this.now().toISOString() };
    return error;
  }

  status(name: string, kind: string, where: string): SourceStatus {
    return {
      name,
      kind,
      where,
      requests: this.requests,
      ...(this.lastSuccessAt ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}

/**
 * Pacing of what the bot sends on its own, so Teams never has to throttle it. Microsoft
 * documents the limits in "Optimize your bot with rate limiting and best practices in Microsoft
 * Teams" (https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/rate-limit):
 * per bot per conversation ("thread"), send to conversation 7 operations a second, 8 per 2 s,
 * 60 per 30 s and 1,800 per 3,600 s; and a global limit per app per tenant in requests per
 * second. Past them Teams answers 429.
 */

/** At most `sends` requests in any `seconds` (a rolling window). */
export interface SendWindow {
  seconds: number;
  sends: number;
}

export interface PacingLimits {
  /** Per conversation: a chat, or a channel with all its threads. */
  conversation: readonly SendWindow[];
  /** Per tenant, whatever the conversation. */
  tenant: readonly SendWindow[];
  /**
   * Added to every window. A slot is taken just before the request leaves, and requests do
   * not reach Teams in exactly the time between: this much slack keeps two requests a full
   * window apart as Teams sees them.
   */
  marginMs: number;
}

/**
 * The documented values. The per-tenant figure is 50 requests a second on the current page;
 * an older revision of it said 30 (configurable: TEAMS_TENANT_LIMITS).
 */
export const TEAMS_DOCUMENTED_LIMITS: PacingLimits = {
  conversation: [
    { seconds: 1, sends: 7 },
    { seconds: 2, sends: 8 },
    { seconds: 30, sends: 60 },
    { seconds: 3600, sends: 1800 },
  ],
  tenant: [{ seconds: 1, sends: 50 }],
  marginMs: 100,
};

/** Where a request goes, as Teams counts it. */
export interface SendDestination {
  /** The conversation id; a channel thread's id (`…;messageid=…`) counts as its channel. */
  conversation: string;
  tenant: string;
}

/** A channel's threads are named `<channel id>;messageid=<first message>`: Teams counts them as the channel. */
export function conversationKeyOf(conversationId: string): string {
  return conversationId.split(';')[0] ?? conversationId;
}

/**
 * How often a destination found down (5xx, no answer) is tried while it stays down: one request
 * at a time, whatever the backlog, spaced by this fraction of how long it has been down, within
 * the bounds. Every message owed there waits for that one (the "half-open" state of a circuit
 * breaker, https://learn.microsoft.com/azure/architecture/patterns/circuit-breaker), and the
 * first it takes makes them all due. So the service is not sent the whole backlog's retries
 * (each row backing off on its own: up to the full budget, 60 in 30 s to a channel, all of it
 * refused and all of it still counting in Teams' windows when it is back), yet it is found back
 * within a second of a short outage, and within about 2% of a long one.
 */
export interface ProbePolicy {
  minSeconds: number;
  maxSeconds: number;
  /** Of the time since the destination was found down. */
  fractionOfOutage: number;
  /**
   * How long a probe granted holds the destination before another may go, should it never say how
   * it went (its instance died, or its sender does not report): longer than a send may take (the
   * delivery engine's 30 s send timeout), so two probes are never in flight at once.
   */
  leaseSeconds: number;
}

export const PROBE_WHILE_DOWN: ProbePolicy = { minSeconds: 1, maxSeconds: 60, fractionOfOutage: 1 / 60, leaseSeconds: 35 };

/**
 * Either the request may go now (its slot is taken; `probe`: the destination was down, and
 * this request is the one that finds out whether it is back), or the earliest moment a slot
 * frees (`waitingForService`: the destination is down and another request is its probe).
 */
export type Reservation = { granted: true; probe?: true } | { granted: false; waitMs: number; waitingForService?: true };

/** Takes a slot for one request, shared by every instance of the bot. */
export interface SendPacer {
  reserve(destination: SendDestination): Promise<Reservation>;
  /** The destination failed as a service that is down does (5xx, no answer): until it takes a request again, it is probed, not sent to. */
  serviceDown?(destination: SendDestination): Promise<void>;
  /** The destination took a request it was probed with: its budget is its limits again. */
  serviceBack?(destination: SendDestination): Promise<void>;
}

/** Paces nothing: for tests of other things. */
export const UNPACED: SendPacer = { reserve: async () => ({ granted: true }) };

/**
 * Parses "1:7,2:8,30:60" (seconds:sends, comma-separated) into windows; undefined when malformed.
 */
export function parseWindows(text: string): SendWindow[] | undefined {
  const windows: SendWindow[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+)\s*$/.exec(part);
    if (!match) return undefined;
    const seconds = Number(match[1]);
    const sends = Number(match[2]);
    if (!(seconds > 0) || !(sends >= 1)) return undefined;
    windows.push({ seconds, sends });
  }
  return windows.length > 0 ? windows : undefined;
}

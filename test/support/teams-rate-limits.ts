import { conversationKeyOf, type PacingLimits, type SendDestination, type SendWindow } from '../../services/outbox/send-pacing';

/**
 * Teams' throttling, as Microsoft documents it, for the fakes that stand in for the Bot
 * Connector (the edge we do not own): every request counts, accepted or not, in its
 * conversation (a channel's threads as the channel) and its tenant; a request that would
 * make any rolling window hold more than its limit is answered 429.
 */
export class RollingLimits {
  private readonly seen = new Map<string, number[]>();
  throttled = 0;
  admitted = 0;

  constructor(private readonly limits: Pick<PacingLimits, 'conversation' | 'tenant'>) {}

  /** Counts a request arriving at `atMs`; false when Teams would answer it 429. */
  admit(destination: SendDestination, atMs: number): boolean {
    const scopes: Array<[string, readonly SendWindow[]]> = [
      [`conversation:${conversationKeyOf(destination.conversation)}`, this.limits.conversation],
      [`tenant:${destination.tenant}`, this.limits.tenant],
    ];
    let within = true;
    for (const [scope, windows] of scopes) {
      const times = this.seen.get(scope) ?? [];
      for (const window of windows) {
        const since = atMs - window.seconds * 1000;
        let inWindow = 0;
        for (let index = times.length - 1; index >= 0 && times[index]! > since; index--) inWindow++;
        if (inWindow >= window.sends) within = false;
      }
      times.push(atMs);
      this.seen.set(scope, times);
    }
    if (within) this.admitted++;
    else this.throttled++;
    return within;
  }
}

/**
 * The least time `count` requests to one conversation can take inside `windows`, from the first
 * to the last: each sent at the earliest moment the windows allow (no schedule does better,
 * since sending earlier never delays a later request).
 */
export function leastTimeMs(count: number, windows: readonly SendWindow[], earlierMs: readonly number[] = []): number {
  // `earlierMs`: requests already made (before 0, ascending), which still count in the windows (Teams counts refused ones too).
  const times: number[] = [...earlierMs];
  for (let index = 0; index < count; index++) {
    let at = 0;
    for (const window of windows) {
      if (times.length >= window.sends) at = Math.max(at, times[times.length - window.sends]! + window.seconds * 1000);
    }
    times.push(at);
  }
  return count > 0 ? Math.max(0, times[times.length - 1]!) : 0;
}

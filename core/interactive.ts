import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whether the work in hand is someone waiting in Teams (a turn, an invoke) rather than the
 * bot's own background work (deliveries, screening, re-checks, retention). The embedded
 * database has one connection: it serves waiting people first (services/store/database.ts).
 */
const lane = new AsyncLocalStorage<true>();

/** Runs `work` as someone waiting; whatever it awaits or starts inherits that, unless started inBackground. */
export function asInteractive<T>(work: () => T): T {
  return lane.run(true, work);
}

export function isInteractive(): boolean {
  return lane.getStore() === true;
}

/** Runs `work` (a timer set, a loop started) outside any turn that happens to start it: background work stays background. */
export function inBackground<T>(work: () => T): T {
  return lane.exit(work);
}

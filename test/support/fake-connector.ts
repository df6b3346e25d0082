import { DEMO } from '../../config';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Bot Connector (the Teams service we do not own), speaking the Bot Framework v3
 * REST routes botbuilder's ConnectorClient calls: reply, send and update an activity. It
 * records every call and can answer as Teams does when it refuses or is slow.
 */
export interface ConnectorCall {
  method: 'POST' | 'PUT';
  conversationId: string;
  /** The activity replied to (POST) or updated (PUT); undefined for a new message in a conversation. */
  activityId?: string;
  activity: { type?: string; text?: string; attachments?: Array<{ content?: unknown }>; [key: string]: unknown };
  /** What the connector answered. */
  status: number;
  /** The id it gave a message it accepted (a POST), or the id it updated (a PUT). */
  answeredId?: string;
  at: number;
}

export interface Fault {
  /** Which call it applies to. */
  matches(call: Omit<ConnectorCall, 'status' | 'at'>): boolean;
  status?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
  /** Never answer (a connector that hangs); the call is recorded and `onHeld` is told. */
  hold?: boolean;
  /** How many calls it applies to (default: every one). */
  times?: number;
}

export interface FakeConnector {
  url: string;
  readonly calls: ConnectorCall[];
  addFault(fault: Fault): void;
  clearFaults(): void;
  /** Resolves when a recorded call satisfies `predicate` (checks calls already made first). */
  waitFor(predicate: (call: ConnectorCall) => boolean, timeoutMs?: number): Promise<ConnectorCall>;
  close(): Promise<void>;
}

const ROUTE = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?\/?$/;

export async function startFakeConnector(options: { keepAliveTimeoutMs?: number } = {}): Promise<FakeConnector> {
  const calls: ConnectorCall[] = [];
  const faults: Fault[] = [];
  const waiters: Array<{ predicate: (call: ConnectorCall) => boolean; resolve: (call: ConnectorCall) => void }> = [];
  const held: http.ServerResponse[] = [];
  let nextId = 1;

  const record = (call: ConnectorCall) => {
    calls.push(call);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(call)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://connector');
      const route = ROUTE.exec(url.pathname);
      if (!route || (req.method !== 'POST' && req.method !== 'PUT')) {
        answer(res, 404, {}, { error: { code: 'NotFound', message: 'no such route' } });
        return;
      }
      const activity = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      const base = {
        method: req.method as 'POST' | 'PUT',
        conversationId: decodeURIComponent(route[1]!),
        activityId: route[2] ? decodeURIComponent(route[2]) : undefined,
        activity,
      };
      const fault = faults.find((candidate) => (candidate.times === undefined || candidate.times > 0) && candidate.matches(base));
      if (fault?.times !== undefined) fault.times--;
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      const status = fault?.status ?? (fault?.hold ? 0 : 200);
      const answeredId = status === 200 ? (base.method === 'PUT' ? base.activityId : `activity-${nextId++}`) : undefined;
      record({ ...base, status, answeredId, at: Date.now() });
      if (fault?.hold) {
        held.push(res);
        return;
      }
      if (status >= 400) {
        const headers: Record<string, string> = {};
        if (fault?.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        answer(res, status, headers, { error: { code: 'Refused', message: 'refused by the fake connector' } });
        return;
      }
      answer(res, 200, {}, { id: answeredId });
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    calls,
    addFault: (fault) => faults.push(fault),
    clearFaults: () => {
      faults.length = 0;
    },
    waitFor(predicate, timeoutMs = 15_000) {
      const done = calls.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const recent = () =>
          calls
            .slice(-4)
            .map((call) => `${call.method} ${call.conversationId} ${call.status}: ${activityText(call).slice(0, 120)}`)
            .join('\n  ');
        const timer = setTimeout(
          () => reject(new Error(`the expected connector call did not come within ${timeoutMs} ms; the last calls were:\n  ${recent()}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(call);
          },
        });
      });
    },
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** restify (loaded in the same test process) patches ServerResponse, so writeHead is not chained. */
function answer(res: http.ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
}

/** Everything an activity says, text and cards, for matching. */
export function activityText(call: ConnectorCall): string {
  return `${call.activity.text ?? ''} ${JSON.stringify(call.activity.attachments?.map((attachment) => attachment.content) ?? [])}`;
}

/** A call to chat `chatId` whose text (or card) says `fragment`. */
export const inChat = (chatId: string, fragment: string) => (call: ConnectorCall) => call.conversationId === chatId && activityText(call).includes(fragment);

/** The ops channel posts Teams accepted for the card of request `reference`. */
export const opsPostsOf = (connector: FakeConnector, reference: string) =>
  connector.calls.filter(
    (call) =>
      call.method === 'POST' &&
      call.conversationId === DEMO.opsChannelId &&
      call.status === 200 &&
      activityText(call).includes(`Transfer request ${reference}`),
  );

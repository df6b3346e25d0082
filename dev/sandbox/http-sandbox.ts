import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface SandboxResponse {
  status: number;
  /** Answer this much later: a slow service. */
  delayMs?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type SandboxRoute = (request: RecordedRequest) => SandboxResponse | undefined;

export interface RunningSandbox {
  url: string;
  /** Every request it answered, in order: tests assert on outgoing HTTP with it. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A small loopback JSON server shared by the sandbox Graph and ODS (FHIR and ORD) servers. It stands in for
 * services this project does not own, speaking their real URL and JSON shapes.
 */
export async function startSandbox(route: SandboxRoute, port = 0, basePath = ''): Promise<RunningSandbox> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      let body: unknown;
      try {
        body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        return send(res, { status: 400, body: { error: { code: 'BadRequest', message: 'Body is not JSON.' } } });
      }
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        body,
        headers: req.headers,
      };
      requests.push(request);
      send(res, route(request) ?? { status: 404, body: { error: { code: 'NotFound', message: 'No such resource.' } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}${basePath}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function send(res: http.ServerResponse, response: SandboxResponse): void {
  const answer = () => {
    if (res.destroyed) return;
    // Not chained: restify, when loaded in the same process, patches ServerResponse.writeHead.
    res.statusCode = response.status;
    for (const [name, value] of Object.entries({ 'content-type': 'application/json', ...response.headers })) res.setHeader(name, value);
    res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
  };
  if (response.delayMs) setTimeout(answer, response.delayMs).unref();
  else answer();
}

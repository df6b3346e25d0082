import { app, authentication } from '@microsoft/teams-js';

/**
 * Who the page is signed in as, and how it asks the API. In Teams: the host's single sign-on
 * token for the app's webApplicationInfo resource (teams-js caches and renews it). Locally
 * (the bot says development): a token for the demo NAS Operations member from the bot itself.
 * Every API call carries the token; the API decides what it may see.
 */
export type Host = { kind: 'teams'; context: app.Context } | { kind: 'browser' };

const TEAMS_HOST_WAIT_MS = 8000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class Session {
  private devToken: Promise<string> | undefined;

  private constructor(readonly host: Host) {}

  static async start(): Promise<Session> {
    const answer = await fetch('session.json', { cache: 'no-store' });
    const { signIn } = (await answer.json()) as { signIn: 'teams' | 'development' };
    if (signIn === 'development') return new Session({ kind: 'browser' });
    // Outside a Teams host there is nobody to answer: say so rather than wait for ever.
    await Promise.race([
      app.initialize(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error('No Teams host answered.')), TEAMS_HOST_WAIT_MS)),
    ]);
    const context = await app.getContext();
    void app.notifySuccess();
    return new Session({ kind: 'teams', context });
  }

  private token(): Promise<string> {
    if (this.host.kind === 'teams') return authentication.getAuthToken();
    this.devToken ??= fetch('dev-sign-in', { method: 'POST' }).then(async (answer) => {
      if (!answer.ok) throw new ApiError(answer.status, 'The local sign-in is not available.');
      return ((await answer.json()) as { token: string }).token;
    });
    return this.devToken;
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const token = await this.token();
    const answer = await fetch(`../api/workspace/${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!answer.ok) {
      const body = (await answer.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      throw new ApiError(answer.status, body?.error?.message ?? `The workspace answered ${answer.status}.`, body?.error?.code);
    }
    return answer;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }

  /** A Teams deep link opens in Teams itself; elsewhere as a link would. */
  openLink(url: string): void {
    if (this.host.kind === 'teams') void app.openLink(url);
    else window.open(url, '_blank', 'noopener');
  }
}

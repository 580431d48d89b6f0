import { loadSession, saveSession, type Session } from './session';

/** A refused or failed call, already put into words for the person at the screen. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The stored session no longer works (expired and not refreshable): the app returns to sign-in. */
export class SessionExpired extends ApiError {
  constructor() {
    super(401, 'UNAUTHORIZED', 'Your session has expired. Please sign in again.');
  }
}

interface ConsoleSettings {
  provisioningUrl: string;
  provisioningPort: number;
}

let provisioningBase: Promise<string> | undefined;

/** Sign-in lives on provisioning; fault-feedback (which serves this page) tells us where. */
export function provisioningUrl(): Promise<string> {
  provisioningBase ??= fetch('/console/config.json', { cache: 'no-store' })
    .then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json() as Promise<ConsoleSettings>;
    })
    .then((settings) => {
      if (settings.provisioningUrl) return settings.provisioningUrl.replace(/\/+$/, '');
      const url = new URL(window.location.href);
      url.port = String(settings.provisioningPort);
      return url.origin;
    })
    .catch((error: unknown) => {
      provisioningBase = undefined;
      throw new ApiError(0, 'NETWORK', `Could not load the console settings (${String(error)}). Check your connection and reload.`);
    });
  return provisioningBase;
}

const faultsUrl = () => window.location.origin;

type Service = 'provisioning' | 'faults';

interface RequestOptions {
  body?: unknown;
  /** Sign-in calls go without a token. */
  anonymous?: boolean;
}

let onExpired: () => void = () => undefined;
/** The app registers how to go back to sign-in when the session ends. */
export function whenSessionExpires(handler: () => void): void {
  onExpired = handler;
}

async function send(service: Service, method: string, path: string, body: unknown, token?: string): Promise<Response> {
  const base = service === 'provisioning' ? await provisioningUrl() : faultsUrl();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      `Could not reach the ${service === 'provisioning' ? 'sign-in' : 'repairs'} service. Check your connection and try again.`,
    );
  }
}

async function readError(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = '';
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: fall back to the status text below
  }
  return new ApiError(response.status, code, message || describeStatus(response.status));
}

function describeStatus(status: number): string {
  if (status === 403) return 'You do not have access to this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many attempts. Wait a while and try again.';
  if (status >= 500) return 'The server could not answer. Try again in a moment.';
  return `The request was refused (HTTP ${status}).`;
}

let refreshing: Promise<Session | null> | undefined;

async function refresh(session: Session): Promise<Session | null> {
  // Another call already renewed it: reusing the old refresh token would end the session.
  const current = loadSession();
  if (current && current.accessToken !== session.accessToken) return current;
  refreshing ??= (async () => {
    try {
      const response = await send('provisioning', 'POST', '/v1/auth/refresh', { refreshToken: session.refreshToken });
      if (!response.ok) return null;
      const pair = (await response.json()) as { accessToken: string; refreshToken: string; user?: Session['user'] };
      const next: Session = { ...session, accessToken: pair.accessToken, refreshToken: pair.refreshToken, user: pair.user ?? session.user };
      saveSession(next);
      return next;
    } catch {
      return null;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** One JSON call. A 401 refreshes the session once; if that fails, the session ends and the app shows sign-in. */
export async function api<T>(service: Service, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let session = options.anonymous ? null : loadSession();
  if (!options.anonymous && !session) {
    onExpired();
    throw new SessionExpired();
  }
  let response = await send(service, method, path, options.body, session?.accessToken);
  if (response.status === 401 && session) {
    session = await refresh(session);
    if (session) response = await send(service, method, path, options.body, session.accessToken);
    if (!session || response.status === 401) {
      saveSession(null);
      onExpired();
      throw new SessionExpired();
    }
  }
  if (!response.ok) throw await readError(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

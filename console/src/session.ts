export type Role = 'user' | 'technician' | 'admin';

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: { id: string; roles: Role[] };
  phone: string;
}

// Per tab, gone when the tab closes: a shared field tablet should not stay signed in.
const KEY = 'service-console.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.accessToken !== 'string' || typeof parsed.refreshToken !== 'string' || !Array.isArray(parsed.user?.roles))
      return null;
    return parsed as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export const hasRole = (session: Session | null, role: Role): boolean => !!session?.user.roles.includes(role);

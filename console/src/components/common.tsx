import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError, SessionExpired } from '../api';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong in the console. Reload the page and try again.';
}

/** An error in words, announced to screen readers, marked by an icon and a heading, not by colour alone. */
export function ErrorNotice({ error, title = 'Could not complete this' }: { error: unknown; title?: string }) {
  if (!error || error instanceof SessionExpired) return null;
  return (
    <div className="notice notice-error" role="alert">
      <strong>
        <span aria-hidden="true">⚠ </span>
        {title}
      </strong>
      <p>{errorText(error)}</p>
    </div>
  );
}

export function SuccessNotice({ children }: { children: ReactNode }) {
  return (
    <div className="notice notice-success" role="status">
      <span aria-hidden="true">✓ </span>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

const SEVERITY_MARK: Record<string, string> = { critical: '▲', warning: '◆', info: '●' };

/** Severity as a word and a shape; the colour only repeats it. */
export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <span className={`badge severity-${severity}`}>
      <span aria-hidden="true">{SEVERITY_MARK[severity] ?? '■'} </span>
      {severity}
    </span>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads once on mount (and again on reload); a stale answer never overwrites a newer one. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    run().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [run, generation]);
  return { data: state.data, error: state.error, loading: state.loading, reload: () => setGeneration((value) => value + 1) };
}

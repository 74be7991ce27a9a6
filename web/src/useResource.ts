// Loads something with the api module, re-loading when `key` changes and,
// when refreshMs is set, every refreshMs without clearing what is shown
// (the live mode). Stale answers of an earlier key are dropped. A 503 with
// Retry-After (the database briefly away, or the ledger busy with another
// request) is asked again after that many seconds, not at the next refresh
// (30 s for the ledger) or never.
import { useEffect, useState } from "react";
import { ApiError } from "./api";

export interface Resource<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
}

export function useResource<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  refreshMs: number | null = null,
): Resource<T> {
  const [state, setState] = useState<Resource<T>>({ data: null, error: null, loading: true });

  useEffect(() => {
    let ctl = new AbortController();
    let alive = true;
    let retry: number | undefined;
    const again = () => {
      ctl.abort();
      ctl = new AbortController();
      run(false);
    };
    const run = (first: boolean) => {
      if (first) setState({ data: null, error: null, loading: true });
      window.clearTimeout(retry);
      load(ctl.signal).then(
        (data) => alive && setState({ data, error: null, loading: false }),
        (error: Error) => {
          if (!alive || error.name === "AbortError") return;
          // A failed refresh keeps the last good data and shows the error.
          setState((s) => ({ data: first ? null : s.data, error, loading: false }));
          if (error instanceof ApiError && error.status === 503 && error.retryAfter !== null)
            retry = window.setTimeout(again, Math.min(error.retryAfter, 60) * 1000);
        },
      );
    };
    run(true);
    const timer = refreshMs ? window.setInterval(again, refreshMs) : undefined;
    return () => {
      alive = false;
      ctl.abort();
      window.clearTimeout(retry);
      if (timer) window.clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, refreshMs]);

  return state;
}

// Loads something with the api module, re-loading when `key` changes and,
// when refreshMs is set, every refreshMs without clearing what is shown
// (the live mode). Stale answers of an earlier key are dropped.
import { useEffect, useState } from "react";

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
    const run = (first: boolean) => {
      if (first) setState({ data: null, error: null, loading: true });
      load(ctl.signal).then(
        (data) => alive && setState({ data, error: null, loading: false }),
        (error: Error) => {
          if (!alive || error.name === "AbortError") return;
          // A failed refresh keeps the last good data and shows the error.
          setState((s) => ({ data: first ? null : s.data, error, loading: false }));
        },
      );
    };
    run(true);
    const timer = refreshMs
      ? window.setInterval(() => {
          ctl.abort();
          ctl = new AbortController();
          run(false);
        }, refreshMs)
      : undefined;
    return () => {
      alive = false;
      ctl.abort();
      if (timer) window.clearInterval(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, refreshMs]);

  return state;
}

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  /** First back-off; doubles on every retry, with jitter. */
  baseDelayMs: number;
  /** What is being tried, for the error message. */
  what: string;
  isTransient(err: unknown): boolean;
  /** Server-requested wait (e.g. HTTP 429 Retry-After), in ms, when the error carries one. */
  retryAfterMs?(err: unknown): number | undefined;
  sleep?(ms: number): Promise<void>;
  onRetry?(attempt: number, delayMs: number, err: unknown): void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, retrying transient failures with exponential back-off. A permanent error (a bad
 * request, a missing collection) is thrown at once: retrying it would only delay the message.
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.retries || !opts.isTransient(err)) {
        if (attempt > 0 && opts.isTransient(err)) {
          throw new Error(`${opts.what}: still failing after ${attempt + 1} attempts (${describeError(err)})`, { cause: err });
        }
        throw err;
      }
      const backoff = opts.baseDelayMs * 2 ** attempt * (0.75 + 0.5 * Math.random());
      const delay = Math.max(backoff, opts.retryAfterMs?.(err) ?? 0);
      opts.onRetry?.(attempt + 1, delay, err);
      await sleep(delay);
    }
  }
}

/** A one-line description of an error, following `cause` to the system error (ECONNREFUSED, ...). */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as { message?: string; code?: string; status?: number; cause?: unknown };
    const message = x.message ?? '';
    const msg = [
      typeof x.status === 'number' ? `HTTP ${x.status}` : '',
      x.code && !message.includes(x.code) ? x.code : '',
      message,
    ].filter(Boolean).join(' ');
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    e = x.cause;
  }
  return (parts.join(': ') || String(err)).split('\n')[0];
}

// Waiting for an event instead of sleeping for it. One helper for every test.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once Date.now() has moved past the millisecond it was called in (RFC 3339 ms stamps differ). */
export async function nextMs(): Promise<void> {
  const t = Date.now();
  while (Date.now() <= t) await sleep(1);
}

/**
 * Polls `fn` until it returns a truthy value, which it returns; throws after `ms` with `what` (a
 * function: built at that moment, e.g. with a child's stderr) and the last error `fn` threw.
 * `every` is the poll interval in ms.
 */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string | (() => string) = "condition",
  ms = 20_000,
  every = 25,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(
        `${typeof what === "string" ? what : what()} not met within ${ms} ms${last ? `: ${String(last)}` : ""}`,
      );
    await sleep(every);
  }
}

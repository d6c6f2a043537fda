/** Runs `fn`, expects it to throw, and returns the error (a failed expectation when it does not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string; details?: Record<string, unknown> };
  }
  throw new Error("expected a throw");
}

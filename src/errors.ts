/**
 * Every error forge-agent raises on purpose carries a stable `code` (FORGE_*), so callers,
 * the socket API and tests branch on the code, never on the message. The message names the fix.
 */
export class ForgeError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ForgeError";
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` carries a FORGE_* code (a ForgeError or a native-boundary error). */
export function hasForgeCode(err: unknown): err is Error & { code: string } {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("FORGE_");
}

/** The stable codes in one place, so a grep finds every producer and consumer of each. */
export const Codes = {
  USAGE: "FORGE_USAGE",
  CONFIG_INVALID: "FORGE_CONFIG_INVALID",
  POLICY_INVALID: "FORGE_POLICY_INVALID",
  POLICY_TEST_FAILED: "FORGE_POLICY_TEST_FAILED",
  ACTION_INVALID: "FORGE_ACTION_INVALID",
  GATE_ERROR: "FORGE_GATE_ERROR",
  NATIVE_BAD_ARGUMENT: "FORGE_NATIVE_BAD_ARGUMENT",
  NATIVE_SYSCALL: "FORGE_NATIVE_SYSCALL",
  NATIVE_UNAVAILABLE: "FORGE_NATIVE_UNAVAILABLE",
  NATIVE_INTERNAL: "FORGE_NATIVE_INTERNAL",
  METRICS_INVALID: "FORGE_METRICS_INVALID",
  EVIDENCE_INVALID: "FORGE_EVIDENCE_INVALID",
  EVIDENCE_FULL: "FORGE_EVIDENCE_FULL",
  EVIDENCE_UNAVAILABLE: "FORGE_EVIDENCE_UNAVAILABLE",
  EVIDENCE_CLOSED: "FORGE_EVIDENCE_CLOSED",
  CHAIN_BROKEN: "FORGE_CHAIN_BROKEN",
  NOT_FOUND: "FORGE_NOT_FOUND",
  BAD_REQUEST: "FORGE_BAD_REQUEST",
  FORBIDDEN: "FORGE_FORBIDDEN",
  UNAUTHENTICATED: "FORGE_UNAUTHENTICATED",
  CONFLICT: "FORGE_CONFLICT",
  PAYLOAD_TOO_LARGE: "FORGE_PAYLOAD_TOO_LARGE",
  TIMEOUT: "FORGE_TIMEOUT",
  BACKEND_UNAVAILABLE: "FORGE_BACKEND_UNAVAILABLE",
  BUNDLE_REJECTED: "FORGE_BUNDLE_REJECTED",
  INFERENCE_FAILED: "FORGE_INFERENCE_FAILED",
  EVIDENCE_RECOVERED: "FORGE_EVIDENCE_RECOVERED",
  KEY_INSECURE: "FORGE_KEY_INSECURE",
  SERVICE_UNSUPPORTED: "FORGE_SERVICE_UNSUPPORTED",
  SERVICE_NOT_ROOT: "FORGE_SERVICE_NOT_ROOT",
  SERVICE_ALREADY_INSTALLED: "FORGE_SERVICE_ALREADY_INSTALLED",
  SERVICE_NOT_INSTALLED: "FORGE_SERVICE_NOT_INSTALLED",
  SERVICE_COMMAND_FAILED: "FORGE_SERVICE_COMMAND_FAILED",
  SERVICE_INVALID: "FORGE_SERVICE_INVALID",
  WEBHOOK_FAILED: "FORGE_WEBHOOK_FAILED",
  INTERNAL: "FORGE_INTERNAL",
  METHOD_NOT_ALLOWED: "FORGE_METHOD_NOT_ALLOWED",
  AGENT_RUNNING: "FORGE_AGENT_RUNNING",
  AGENT_UNREACHABLE: "FORGE_AGENT_UNREACHABLE",
  GATE_STATE_INVALID: "FORGE_GATE_STATE_INVALID",
  MCP_SERVER_FAILED: "FORGE_MCP_SERVER_FAILED",
} as const;

/**
 * The known name closest to `word` (case-insensitive edit distance), if it is close enough to be
 * a typo: within 2 edits, or a third of the word's length. Feeds "did you mean 'effect'?" messages.
 */
export function didYouMean(word: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  const w = word.toLowerCase();
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

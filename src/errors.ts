/**
 * Every error forge-agent raises on purpose carries a stable `code` (FORGE_*), so callers,
 * the socket API and tests branch on the code, never on the message. The message names the fix.
 */
export class ForgeError extends Error {
  readonly code: ForgeCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ForgeCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ForgeError";
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): { code: ForgeCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` carries a declared FORGE_* code (a ForgeError or a native-boundary error). */
export function hasForgeCode(err: unknown): err is Error & { code: ForgeCode } {
  return err instanceof Error && isForgeCode((err as { code?: unknown }).code);
}

/** True when `code` is one of the declared codes (Codes, or an executor's FORGE_EXEC_<errno>). */
export function isForgeCode(code: unknown): code is ForgeCode {
  return typeof code === "string" && (DECLARED.has(code) || EXEC_ERRNO.test(code));
}

/** The stable codes in one place, so a grep finds every producer and consumer of each. */
export const Codes = {
  USAGE: "FORGE_USAGE",
  /** The CLI was given a command (or subcommand) it does not have; exit 2, with "did you mean". */
  UNKNOWN_COMMAND: "FORGE_UNKNOWN_COMMAND",
  /** The CLI was given a flag the command does not take; exit 2, with "did you mean". */
  UNKNOWN_FLAG: "FORGE_UNKNOWN_FLAG",
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
  RATE_LIMITED: "FORGE_RATE_LIMITED",
  UNSUPPORTED_MEDIA_TYPE: "FORGE_UNSUPPORTED_MEDIA_TYPE",
  AGENT_RUNNING: "FORGE_AGENT_RUNNING",
  AGENT_UNREACHABLE: "FORGE_AGENT_UNREACHABLE",
  GATE_STATE_INVALID: "FORGE_GATE_STATE_INVALID",
  /** A session's workspace root lies outside every configured workspace (a session narrows, never widens). */
  WORKSPACE_OUTSIDE: "FORGE_WORKSPACE_OUTSIDE",
  /** A service we called (an inference backend, an agent, the collector) did not answer in time. */
  UPSTREAM_TIMEOUT: "FORGE_UPSTREAM_TIMEOUT",
  /** The collector's HTTP API refused or failed a request the agent made. */
  COLLECTOR_UNAVAILABLE: "FORGE_COLLECTOR_UNAVAILABLE",
  /** The collector's TLS certificate is not the pinned one (or none is pinned yet): nothing was sent. */
  COLLECTOR_UNTRUSTED: "FORGE_COLLECTOR_UNTRUSTED",
  /** The collector refused the agent's handshake: an HTTP status on the upgrade, or a 40xx close. */
  COLLECTOR_REFUSED: "FORGE_COLLECTOR_REFUSED",
  // Built-in executors (agent/executors): the `error.code` of an execution_result.
  EXEC_SPAWN: "FORGE_EXEC_SPAWN",
  EXEC_UNSUPPORTED: "FORGE_EXEC_UNSUPPORTED",
  EXEC_TOO_LARGE: "FORGE_EXEC_TOO_LARGE",
  EXEC_NO_CONTENT: "FORGE_EXEC_NO_CONTENT",
  EXEC_HASH_MISMATCH: "FORGE_EXEC_HASH_MISMATCH",
  EXEC_HTTP: "FORGE_EXEC_HTTP",
  /** The sandbox could not be set up and sandbox.on_unavailable is deny. */
  SANDBOX_UNAVAILABLE: "FORGE_SANDBOX_UNAVAILABLE",
  /** A file action's path is not a regular file (a FIFO, a device, a socket). */
  EXEC_NOT_REGULAR: "FORGE_EXEC_NOT_REGULAR",
  /** A file action's path leads (through a symlink) outside what the sandbox profile allows. */
  EXEC_PATH_DENIED: "FORGE_EXEC_PATH_DENIED",
  /** The sandbox's network profile refused the connection. */
  EXEC_NETWORK_DENIED: "FORGE_EXEC_NETWORK_DENIED",
  REF_INVALID: "FORGE_REF_INVALID",
  REGISTRY_UNAVAILABLE: "FORGE_REGISTRY_UNAVAILABLE",
  REGISTRY_AUTH: "FORGE_REGISTRY_AUTH",
  REGISTRY_NOT_FOUND: "FORGE_REGISTRY_NOT_FOUND",
  REGISTRY_PROTOCOL: "FORGE_REGISTRY_PROTOCOL",
  REGISTRY_INSECURE: "FORGE_REGISTRY_INSECURE",
  DIGEST_MISMATCH: "FORGE_DIGEST_MISMATCH",
  ARTIFACT_INVALID: "FORGE_ARTIFACT_INVALID",
  /** The reviewer is the proposer, runs under it, or under an action the agent executed. */
  SELF_REVIEW: "FORGE_SELF_REVIEW",
  /** The reviewer lacks the role an approval needs (review roles per stage and policy label, src/protocol/review-roles.ts). */
  REVIEWER_ROLE: "FORGE_REVIEWER_ROLE",
  /** A reviewer-only route was called without the review token. */
  REVIEW_TOKEN_REQUIRED: "FORGE_REVIEW_TOKEN_REQUIRED",
  /** A proposal nests deeper than the API allows. */
  INPUT_TOO_DEEP: "FORGE_INPUT_TOO_DEEP",
  /** A proposal holds a value the evidence record cannot encode (a non-finite number, a lone surrogate). */
  INPUT_UNENCODABLE: "FORGE_INPUT_UNENCODABLE",
  /** A policy reload was refused: empty, no rules, a rollback, or widening without a reviewer. */
  POLICY_RELOAD_REFUSED: "FORGE_POLICY_RELOAD_REFUSED",
  TRAINING_JOB_INVALID: "FORGE_TRAINING_JOB_INVALID",
  TRAINING_REFUSED: "FORGE_TRAINING_REFUSED",
  TRAINING_TRANSITION: "FORGE_TRAINING_TRANSITION",
  TRAINING_FAILED: "FORGE_TRAINING_FAILED",
  /** A checkpoint could not be written: the disk or quota is full (ENOSPC, EDQUOT) or a file-size limit (EFBIG). */
  TRAINING_DISK_FULL: "FORGE_TRAINING_DISK_FULL",
  DATASET_UNAVAILABLE: "FORGE_DATASET_UNAVAILABLE",
  MCP_SERVER_FAILED: "FORGE_MCP_SERVER_FAILED",
  /** An eval suite artifact is malformed, or an evaluation could not run. */
  EVAL_INVALID: "FORGE_EVAL_INVALID",
  /** A signature, provenance statement or eval artefact does not verify against the trusted keys. */
  SIGNATURE_INVALID: "FORGE_SIGNATURE_INVALID",
  /** A promotion was not allowed (DENY, an unanswered escalation, a reviewer not on the stage's allowlist). */
  PROMOTION_REFUSED: "FORGE_PROMOTION_REFUSED",
  /** Serving admission: the model lacks a verified promotion, passing eval or provenance for its digest. */
  MODEL_NOT_ADMITTED: "FORGE_MODEL_NOT_ADMITTED",
} as const;

/** A code listed in Codes. */
export type DeclaredCode = (typeof Codes)[keyof typeof Codes];

/** A file executor's failed system call: FORGE_EXEC_ and the errno code (FORGE_EXEC_ENOENT). */
export type ExecErrnoCode = `FORGE_EXEC_E${string}`;

/** Every code an error may carry: the declared ones, and the errno family of the file executor. */
export type ForgeCode = DeclaredCode | ExecErrnoCode;

const DECLARED: ReadonlySet<string> = new Set(Object.values(Codes));
const EXEC_ERRNO = /^FORGE_EXEC_E[A-Z0-9_]+$/;

/** The code of a failed file system call in an executor (`EIO` when node gave none). */
export function execErrnoCode(errno: string | undefined): ExecErrnoCode {
  const e = errno !== undefined && /^E[A-Z0-9_]+$/.test(errno) ? errno : "EIO";
  return `FORGE_EXEC_${e}` as ExecErrnoCode;
}

/**
 * The one table from code to HTTP status: the agent's socket API, the inference facades and the
 * collector all answer from it. A client too slow to send its request is 408; a service we called
 * that did not answer in time is 504. Codes that never reach HTTP (usage, service, executor) are 500
 * should one ever do.
 */
export const HTTP_STATUS = {
  [Codes.EVAL_INVALID]: 400,
  [Codes.SIGNATURE_INVALID]: 403,
  [Codes.PROMOTION_REFUSED]: 403,
  [Codes.MODEL_NOT_ADMITTED]: 403,
  [Codes.USAGE]: 500,
  [Codes.UNKNOWN_COMMAND]: 500,
  [Codes.UNKNOWN_FLAG]: 500,
  [Codes.CONFIG_INVALID]: 500,
  [Codes.POLICY_INVALID]: 500,
  [Codes.POLICY_TEST_FAILED]: 500,
  [Codes.ACTION_INVALID]: 400,
  [Codes.GATE_ERROR]: 500,
  [Codes.NATIVE_BAD_ARGUMENT]: 500,
  [Codes.NATIVE_SYSCALL]: 500,
  [Codes.NATIVE_UNAVAILABLE]: 500,
  [Codes.NATIVE_INTERNAL]: 500,
  [Codes.METRICS_INVALID]: 500,
  [Codes.EVIDENCE_INVALID]: 500,
  [Codes.EVIDENCE_FULL]: 503,
  [Codes.EVIDENCE_UNAVAILABLE]: 503,
  [Codes.EVIDENCE_CLOSED]: 503,
  [Codes.CHAIN_BROKEN]: 500,
  [Codes.NOT_FOUND]: 404,
  [Codes.BAD_REQUEST]: 400,
  [Codes.FORBIDDEN]: 403,
  [Codes.UNAUTHENTICATED]: 401,
  [Codes.CONFLICT]: 409,
  [Codes.PAYLOAD_TOO_LARGE]: 413,
  [Codes.TIMEOUT]: 408,
  [Codes.BACKEND_UNAVAILABLE]: 503,
  [Codes.BUNDLE_REJECTED]: 500,
  [Codes.INFERENCE_FAILED]: 500,
  [Codes.EVIDENCE_RECOVERED]: 500,
  [Codes.KEY_INSECURE]: 500,
  [Codes.SERVICE_UNSUPPORTED]: 500,
  [Codes.SERVICE_NOT_ROOT]: 500,
  [Codes.SERVICE_ALREADY_INSTALLED]: 500,
  [Codes.SERVICE_NOT_INSTALLED]: 500,
  [Codes.SERVICE_COMMAND_FAILED]: 500,
  [Codes.SERVICE_INVALID]: 500,
  [Codes.WEBHOOK_FAILED]: 500,
  [Codes.INTERNAL]: 500,
  [Codes.METHOD_NOT_ALLOWED]: 405,
  [Codes.AGENT_RUNNING]: 500,
  [Codes.AGENT_UNREACHABLE]: 500,
  [Codes.GATE_STATE_INVALID]: 500,
  [Codes.WORKSPACE_OUTSIDE]: 400,
  [Codes.UPSTREAM_TIMEOUT]: 504,
  [Codes.COLLECTOR_UNAVAILABLE]: 502,
  [Codes.COLLECTOR_UNTRUSTED]: 502,
  [Codes.COLLECTOR_REFUSED]: 502,
  [Codes.EXEC_SPAWN]: 500,
  [Codes.EXEC_UNSUPPORTED]: 500,
  [Codes.EXEC_TOO_LARGE]: 500,
  [Codes.EXEC_NO_CONTENT]: 500,
  [Codes.EXEC_HASH_MISMATCH]: 500,
  [Codes.EXEC_HTTP]: 500,
  [Codes.SANDBOX_UNAVAILABLE]: 503,
  [Codes.EXEC_NOT_REGULAR]: 500,
  [Codes.EXEC_PATH_DENIED]: 500,
  [Codes.EXEC_NETWORK_DENIED]: 500,
  [Codes.REF_INVALID]: 400,
  [Codes.REGISTRY_UNAVAILABLE]: 502,
  [Codes.REGISTRY_AUTH]: 502,
  [Codes.REGISTRY_NOT_FOUND]: 404,
  [Codes.REGISTRY_PROTOCOL]: 502,
  [Codes.REGISTRY_INSECURE]: 400,
  [Codes.DIGEST_MISMATCH]: 502,
  [Codes.ARTIFACT_INVALID]: 400,
  [Codes.RATE_LIMITED]: 429,
  [Codes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [Codes.SELF_REVIEW]: 403,
  [Codes.REVIEWER_ROLE]: 403,
  [Codes.REVIEW_TOKEN_REQUIRED]: 401,
  [Codes.INPUT_TOO_DEEP]: 400,
  [Codes.INPUT_UNENCODABLE]: 400,
  [Codes.POLICY_RELOAD_REFUSED]: 409,
  [Codes.TRAINING_JOB_INVALID]: 400,
  [Codes.TRAINING_REFUSED]: 403,
  [Codes.TRAINING_TRANSITION]: 500,
  [Codes.TRAINING_FAILED]: 500,
  [Codes.TRAINING_DISK_FULL]: 507,
  [Codes.DATASET_UNAVAILABLE]: 502,
  [Codes.MCP_SERVER_FAILED]: 502,
} as const satisfies Record<DeclaredCode, number>;

/** The HTTP status an error with `code` is answered with (500 for anything without a declared code). */
export function httpStatus(code: unknown): number {
  return isForgeCode(code) && code in HTTP_STATUS ? HTTP_STATUS[code as DeclaredCode] : 500;
}

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

/** Edits between a and b; swapping two adjacent letters is one edit ("stauts" is one from "status"). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

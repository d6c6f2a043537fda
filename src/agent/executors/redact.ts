/**
 * Known secret formats, cut out of execution-result excerpts before they are recorded (and so
 * before they are shipped to the collector). The hash in the record still covers the raw bytes;
 * the record says what was redacted. A format missing here is not caught: the gate's protected
 * paths and the sandbox's hidden paths are the first line, this is the last.
 */
const PATTERNS: readonly { kind: string; re: RegExp }[] = [
  // A truncated excerpt may end inside the key: redact to the end then.
  {
    kind: "pem-private-key",
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  },
  { kind: "aws-access-key-id", re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g },
  { kind: "aws-secret-access-key", re: /(aws_secret_access_key\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi },
  { kind: "github-token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/g },
  { kind: "slack-token", re: /\bxox[abprse]-[A-Za-z0-9-]{10,}\b/g },
  { kind: "anthropic-key", re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g },
  { kind: "openai-key", re: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}\b/g },
  { kind: "google-api-key", re: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: "azure-account-key", re: /(AccountKey=)[A-Za-z0-9+/=]{40,}/g },
  { kind: "jwt", re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
];

export interface Redaction {
  kind: string;
  count: number;
}

/** `text` with every known secret replaced by `[REDACTED:kind]`, and what was replaced. */
export function redactSecrets(text: string): { text: string; redacted: Redaction[] } {
  const redacted: Redaction[] = [];
  let out = text;
  for (const { kind, re } of PATTERNS) {
    let count = 0;
    out = out.replace(re, (_m, keep?: unknown) => {
      count++;
      return `${typeof keep === "string" ? keep : ""}[REDACTED:${kind}]`;
    });
    if (count > 0) redacted.push({ kind, count });
  }
  return { text: out, redacted };
}

import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { Codes, ForgeError } from "../errors.js";

/**
 * The review capability. Reviewing is not "the same uid": a reviewer presents this token, kept
 * in a 0600 file under the agent's home, which the gate denies to every action (a protected
 * resource) and the sandbox does not mount. The CLI reads it; executed actions cannot.
 */

/** Header a reviewer sends the token in. */
export const REVIEW_TOKEN_HEADER = "x-forge-review-token";

/** Reads the token at `path`, creating it (0600, 32 random bytes as hex) when missing. */
export function ensureReviewToken(path: string): string {
  try {
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString("hex")}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        `cannot create the review token ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}: set review.token_file to a writable place`,
      );
    }
  }
  const fd = openSync(path, "r");
  try {
    // A token others could read is no capability: tighten it rather than serve with it.
    if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } finally {
    closeSync(fd);
  }
  const token = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{32,}$/.test(token)) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `the review token ${path} is not a hex token: delete it and restart to make a new one`,
    );
  }
  return token;
}

/** Reads the token for a client (the CLI); null when the file cannot be read. */
export function readReviewToken(path: string): string | null {
  try {
    const t = readFileSync(path, "utf8").trim();
    return t === "" ? null : t;
  } catch {
    return null;
  }
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenMatches(presented: string | string[] | undefined, token: string): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(presented.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Registry credentials and the distribution auth flows: anonymous, HTTP basic, and the bearer-token
 * flow (401 + `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → GET realm → scoped token).
 * Credentials come from a Docker-style config.json (`auths.<host>.auth` = base64 "user:pass", or
 * `username`/`password`, or `identitytoken`), never from the command line.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), sent to the token endpoint. */
  identityToken?: string;
}

export type CredentialStore = (registry: string) => Credential | null;

/** The auth files looked at, in order: an explicit file, $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json, ~/.docker/config.json. */
export function authFileCandidates(env: Record<string, string | undefined>, explicit?: string): string[] {
  if (explicit) return [explicit];
  const out: string[] = [];
  if (env.FORGE_HOME) out.push(join(env.FORGE_HOME, "registry-auth.json"));
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  out.push(join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json"));
  return out;
}

/**
 * Reads the first auth file that exists. An explicit file that is missing or unparseable is an
 * error (FORGE_CONFIG_INVALID); a default one that is absent means anonymous access.
 */
export function loadCredentials(files: string[], explicit = false): CredentialStore {
  const table = new Map<string, Credential>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (err) {
      if (explicit)
        throw new ForgeError(Codes.CONFIG_INVALID, `cannot read auth file ${f}: ${(err as Error).message}`);
      continue;
    }
    let doc: { auths?: Record<string, Record<string, unknown>> };
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        `auth file ${f} is not JSON (${(err as Error).message}): it must be a Docker-style {"auths": {...}}`,
      );
    }
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      const c = credentialOf(entry);
      if (c) table.set(normaliseKey(key), c);
    }
    break;
  }
  return (registry) => table.get(normaliseKey(registry)) ?? null;
}

function credentialOf(e: Record<string, unknown>): Credential | null {
  if (typeof e.identitytoken === "string" && e.identitytoken) return { identityToken: e.identitytoken };
  if (typeof e.auth === "string" && e.auth) {
    const plain = Buffer.from(e.auth, "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof e.username === "string" && typeof e.password === "string")
    return { username: e.username, password: e.password };
  return null;
}

/** `https://host:5000/v1/` and `host:5000` name the same registry. */
function normaliseKey(k: string): string {
  return k
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` value: `Bearer realm="…",service="…",scope="a,b"` (quoted commas kept). */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(c: Credential): string {
  return `Basic ${Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64")}`;
}

/** The scope a request needs: `repository:NAME:pull` or `repository:NAME:pull,push`. */
export function scopeFor(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? "pull,push" : "pull"}`;
}

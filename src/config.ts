import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { Codes, didYouMean, ForgeError } from "./errors.js";

/**
 * What the agent's and the collector's configuration share: reading a YAML/JSON file, turning a
 * zod issue into a FORGE_CONFIG_INVALID that names the key and the fix, reading a PEM file a key
 * names, and the deep freeze. Each side owns its schema and its sources (file → env → flags).
 */

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Reads a YAML (or, by extension, JSON) file holding a mapping; `keys` names a few for the error,
 * `flag` the option that named the file.
 */
export function readConfigFile(path: string, keys: string, flag = "--config"): Record<string, unknown> {
  const text = readText(path, "config file", `: check ${flag}`);
  let value: unknown;
  try {
    value = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ForgeError(Codes.CONFIG_INVALID, `${path} is not valid YAML/JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ForgeError(Codes.CONFIG_INVALID, `${path} must hold a mapping of keys (${keys}, …)`);
  }
  return value as Record<string, unknown>;
}

/** The SPKI PEM public key in the file `key` names; a missing or non-PEM file is a config error. */
export function readPublicKeyFile(path: string, key: string): string {
  const pem = readText(path, key, "");
  if (!pem.includes("BEGIN PUBLIC KEY"))
    throw new ForgeError(Codes.CONFIG_INVALID, `${key} ${path} is not an SPKI PEM public key`);
  return pem;
}

/** A file's text, or FORGE_CONFIG_INVALID naming `what` it is, the errno and `hint`. */
export function readText(path: string, what: string, hint: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ForgeError(Codes.CONFIG_INVALID, `cannot read ${what} ${path}: ${why}${hint}`, { cause: err });
  }
}

/**
 * The first zod issue as FORGE_CONFIG_INVALID: an unknown key with the known key it probably
 * meant, or the key, the rule and the value it got. `root` is the schema's top-level shape.
 */
export function configError(
  issues: z.core.$ZodIssue[],
  origin: string,
  merged: Record<string, unknown>,
  root: Record<string, unknown>,
): ForgeError {
  const issue = issues[0]!;
  const at = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const full = at === "" ? key : `${at}.${key}`;
    const known = knownKeys(root, issue.path.map(String));
    const near = didYouMean(key, known);
    const hint = near === null ? `known keys: ${known.join(", ")}` : `did you mean '${near}'?`;
    return new ForgeError(Codes.CONFIG_INVALID, `unknown key '${full}' in ${origin}: ${hint}`, {
      details: { key: full },
    });
  }
  const got = issue.path.reduce<unknown>(
    (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k as string] : undefined),
    merged,
  );
  return new ForgeError(
    Codes.CONFIG_INVALID,
    `invalid value for '${at}' in ${origin}: ${issue.message} (got ${JSON.stringify(got) ?? "nothing"})`,
    { details: { key: at } },
  );
}

function knownKeys(root: Record<string, unknown>, path: string[]): string[] {
  let shape = root;
  for (const p of path) {
    let inner = shape[p] as { def?: { innerType?: unknown; type?: string }; shape?: Record<string, unknown> };
    while (inner?.def?.innerType !== undefined) inner = inner.def.innerType as typeof inner;
    shape = inner?.shape ?? {};
  }
  return Object.keys(shape);
}

/** Freezes `v` and everything it holds. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * A program's per-user data directory, the same from any working directory: on Linux
 * $XDG_DATA_HOME/<app> (default ~/.local/share/<app>), on macOS ~/Library/Application Support/<app>.
 * The agent's home (`forge-agent`) and the collector's default database (`forge-collector`) both
 * come from here.
 */
export function userDataDir(
  app: string,
  env: Record<string, string | undefined> = {},
  platform: NodeJS.Platform = process.platform,
): string {
  const h = env.HOME || homedir();
  const data =
    platform === "darwin"
      ? join(h, "Library", "Application Support")
      : env.XDG_DATA_HOME || join(h, ".local", "share");
  return join(data, app);
}

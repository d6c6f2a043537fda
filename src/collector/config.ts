import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import {
  configError,
  type DeepReadonly,
  deepFreeze,
  readConfigFile,
  readPublicKeyFile,
  readText,
  userDataDir,
} from "../config.js";
import { Codes, ForgeError } from "../errors.js";
import { TolerancesConfig } from "../platform/tolerances.js";
import { type KeyRotation, ROTATION_FILE } from "../protocol/collector-auth.js";
import { ReviewRolesSchema } from "../protocol/review-roles.js";
import { identityKeyFile } from "./identity.js";
import { type Operator, parseOperator, parseOperatorsFile } from "./operators.js";

/**
 * The collector's configuration, built like the agent's (src/agent/config.ts): one zod schema
 * with defaults; sources merged in order file (YAML or JSON) → environment (FORGE_COLLECTOR_*) →
 * flags; parsed once, files it names read once, deeply frozen, passed down. Lists that name
 * distinct things (operators, hosts to register or revoke) accumulate across the sources.
 */
const Schema = z.strictObject({
  /**
   * "sqlite:PATH" or "postgres://…". Default (filled in by loadCollectorConfig, never against the
   * working directory): sqlite:<per-user data dir>/forge-collector/collector.db (defaultDatabase).
   */
  database: z.string().min(1).optional(),
  /** HOST:PORT for the WebSocket ingest and the HTTP API; port 0 picks a free one. */
  listen: z.string().min(1).default("127.0.0.1:8787"),
  /** Refuse hosts that are not registered (default: pin a new host's key on first use). */
  require_registered: z.boolean().default(false),
  /** Hosts registered at start: host_id → SPKI PEM file. */
  register_hosts: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Hosts revoked at start. */
  revoke_hosts: z.array(z.string().min(1)).default([]),
  /** SQLite only: the synchronous pragma (default FULL: an ack lets the agent delete its copy). */
  synchronous: z.enum(["FULL", "NORMAL"]).optional(),
  /**
   * Dashboard and review-console operators, "NAME=SECRET" each (from a config file or
   * FORGE_COLLECTOR_OPERATORS, hashed at start). Never a flag: /proc/PID/cmdline is world-readable.
   */
  operators: z.array(z.string()).default([]),
  /**
   * Who may approve what from the dashboard/API: `stages.<stage>` (model.promote) and
   * `labels.<policy label>`, each a list of operator names (src/protocol/review-roles.ts). Unset:
   * every operator may approve, never their own proposal.
   */
  review_roles: ReviewRolesSchema,
  /** A file of "NAME:scrypt-hash" lines (`forge-collector operator add NAME --file FILE`). */
  operators_file: z.string().min(1).optional(),
  /** Bearer token `/metrics` needs off loopback (FORGE_COLLECTOR_METRICS_TOKEN). */
  metrics_token: z.string().min(1).optional(),
  /** Hosts pinned on first use at most (past it a new host is refused with an alert). */
  max_pinned_hosts: z.number().int().min(0).default(1000),
  /** Bearer token of the admin routes (register/revoke over HTTP); unset: those routes answer 403. */
  admin_token: z.string().min(1).optional(),
  /** Directory of signed policy bundles, watched for changes. */
  policy_dir: z.string().min(1).optional(),
  /** SPKI PEM file of the bundle-signing key (needs policy_dir). */
  policy_key: z.string().min(1).optional(),
  /** PEM certificate the collector serves https/wss with (`forge-collector tls init`); needs tls_key. */
  tls_cert: z.string().min(1).optional(),
  /** Its PKCS#8 PEM private key (0600): it also signs every ack and review agents act on. */
  tls_key: z.string().min(1).optional(),
  /**
   * Without tls_cert/tls_key: the file of the key that signs acks and reviews (created 0600 on
   * first start), so agents that pinned it trust the collector across restarts. Default:
   * PATH.key beside a `sqlite:PATH` database; for PostgreSQL, identity.key in the per-user data
   * directory (defaultIdentityKey).
   */
  identity_key: z.string().min(1).optional(),
  /** Indicators and bounds evaluated on every host's heartbeats (src/platform/tolerances.ts). */
  tolerances: TolerancesConfig.optional(),
  /** Drift detection per host and fleet-wide (src/drift/config.ts; validated by the drift plugin). */
  drift: z.unknown().optional(),
});

type Parsed = z.infer<typeof Schema>;

/** The resolved configuration: PEM files read, operators parsed, every default filled in, deeply frozen. */
export type CollectorConfig = DeepReadonly<
  Omit<Parsed, "database" | "register_hosts" | "operators" | "policy_key"> & {
    database: string;
    /** host_id → SPKI PEM (read from the files the sources named). */
    register_hosts: Record<string, string>;
    operators: Operator[];
    policy_key?: string;
    policy_key_pem?: string;
    /** The TLS pair read at load. */
    tls?: { certPem: string; keyPem: string; rotation?: KeyRotation };
    /** Where the config came from, for logs. */
    source: string[];
  }
>;

/** Flags of `forge-collector run`, already split by the CLI. */
export interface CollectorFlags {
  config?: string;
  database?: string;
  listen?: string;
  "require-registered"?: boolean;
  /** ID → PEM file, from `--register-host ID=PEMFILE`. */
  "register-host"?: Record<string, string>;
  "revoke-host"?: string[];
  synchronous?: string;
  "operators-file"?: string;
  "max-pinned-hosts"?: string;
  "policy-dir"?: string;
  "policy-key"?: string;
  "tls-cert"?: string;
  "tls-key"?: string;
  "identity-key"?: string;
  /** A YAML/JSON file holding the tolerances. */
  tolerances?: string;
  /** A YAML/JSON file holding the drift config. */
  drift?: string;
}

export interface LoadCollectorConfigInput {
  flags?: CollectorFlags;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * The database `forge-collector run` uses when nothing names one: collector.db in the per-user data
 * directory (~/.local/share/forge-collector, $XDG_DATA_HOME honoured; macOS ~/Library/Application
 * Support/forge-collector), the same rule as the agent's home, so it is one file from any directory.
 */
export function defaultDatabase(
  env: Record<string, string | undefined> = {},
  platform: NodeJS.Platform = process.platform,
): string {
  return `sqlite:${join(userDataDir("forge-collector", env, platform), "collector.db")}`;
}

/**
 * The signing key file of a collector without a TLS pair: PATH.key beside a `sqlite:PATH`
 * database; for PostgreSQL, identity.key in the per-user data directory (the database has no file
 * to keep it beside, and a key for one run only would make every agent that pinned it refuse the
 * collector after a restart); none for `sqlite::memory:` (a key for this run).
 */
export function defaultIdentityKey(
  database: string,
  env: Record<string, string | undefined> = {},
  platform: NodeJS.Platform = process.platform,
): string | null {
  if (database.startsWith("sqlite:")) return identityKeyFile(database);
  return join(userDataDir("forge-collector", env, platform), "identity.key");
}

/** FORGE_COLLECTOR_* variables and the key each one sets. */
export const COLLECTOR_ENV_KEYS: Readonly<Record<string, keyof Parsed>> = {
  FORGE_COLLECTOR_DATABASE: "database",
  FORGE_COLLECTOR_LISTEN: "listen",
  FORGE_COLLECTOR_ADMIN_TOKEN: "admin_token",
  /** "a=s1,b=s2": added to the file's and the flags' operators. */
  FORGE_COLLECTOR_OPERATORS: "operators",
  FORGE_COLLECTOR_OPERATORS_FILE: "operators_file",
  FORGE_COLLECTOR_METRICS_TOKEN: "metrics_token",
  FORGE_COLLECTOR_TLS_CERT: "tls_cert",
  FORGE_COLLECTOR_TLS_KEY: "tls_key",
  FORGE_COLLECTOR_IDENTITY_KEY: "identity_key",
};

/** Reads, merges and validates the collector's configuration; throws FORGE_CONFIG_INVALID naming the key. */
export function loadCollectorConfig(input: LoadCollectorConfigInput = {}): CollectorConfig {
  const cwd = input.cwd ?? process.cwd();
  const env = input.env ?? {};
  const flags = input.flags ?? {};
  const source: string[] = [];
  let merged: Record<string, unknown> = {};
  let origin = "flags";

  const file = flags.config ?? env.FORGE_COLLECTOR_CONFIG;
  if (file !== undefined && file !== "") {
    merged = readConfigFile(resolve(cwd, file), "database, listen, operators");
    origin = basename(file);
    source.push(`file:${resolve(cwd, file)}`);
  }
  const list = (key: keyof Parsed, more: readonly string[]) => {
    const have = Array.isArray(merged[key]) ? (merged[key] as unknown[]) : [];
    merged[key] = [...have, ...more];
  };
  for (const [name, key] of Object.entries(COLLECTOR_ENV_KEYS)) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    if (key === "operators") list(key, v.split(",").filter(Boolean));
    else merged[key] = v;
    source.push(`env:${name}`);
  }
  const set = (flag: keyof CollectorFlags, apply: () => void) => {
    if (flags[flag] === undefined) return;
    apply();
    source.push(`flag:--${flag}`);
  };
  set("database", () => (merged.database = flags.database));
  set("listen", () => (merged.listen = flags.listen));
  set("require-registered", () => (merged.require_registered = flags["require-registered"]));
  set("register-host", () => {
    const have = (merged.register_hosts ?? {}) as Record<string, unknown>;
    merged.register_hosts = { ...have, ...flags["register-host"] };
  });
  set("revoke-host", () => list("revoke_hosts", flags["revoke-host"]!));
  set("synchronous", () => (merged.synchronous = flags.synchronous!.toUpperCase()));
  set("operators-file", () => (merged.operators_file = flags["operators-file"]));
  set("max-pinned-hosts", () => (merged.max_pinned_hosts = Number(flags["max-pinned-hosts"])));
  set("policy-dir", () => (merged.policy_dir = flags["policy-dir"]));
  set("policy-key", () => (merged.policy_key = flags["policy-key"]));
  set("tls-cert", () => (merged.tls_cert = flags["tls-cert"]));
  set("tls-key", () => (merged.tls_key = flags["tls-key"]));
  set("identity-key", () => (merged.identity_key = flags["identity-key"]));
  set(
    "tolerances",
    () => (merged.tolerances = readConfigFile(resolve(cwd, flags.tolerances!), "indicators", "--tolerances")),
  );

  set("drift", () => (merged.drift = readConfigFile(resolve(cwd, flags.drift!), "mode", "--drift")));

  const r = Schema.safeParse(merged);
  if (!r.success) throw configError(r.error.issues, origin, merged, Schema.shape);
  const c = r.data;
  if (c.policy_key !== undefined && c.policy_dir === undefined) {
    // From the command line it is bad usage (exit 2); from a file, a bad config.
    throw flags["policy-key"] !== undefined
      ? new ForgeError(Codes.USAGE, "--policy-key needs --policy-dir")
      : new ForgeError(Codes.CONFIG_INVALID, `policy_key in ${origin} needs policy_dir`);
  }
  if ((c.tls_cert === undefined) !== (c.tls_key === undefined)) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      "tls_cert and tls_key go together: give both (forge-collector tls init writes the pair)",
    );
  }
  const register_hosts: Record<string, string> = {};
  for (const [id, pemFile] of Object.entries(c.register_hosts))
    register_hosts[id] = readPublicKeyFile(resolve(cwd, pemFile), `register_hosts.${id}`);
  const policyKey = c.policy_key === undefined ? undefined : resolve(cwd, c.policy_key);
  const database = c.database ?? defaultDatabase(env);
  return deepFreeze({
    ...c,
    database,
    identity_key:
      c.identity_key !== undefined
        ? resolve(cwd, c.identity_key)
        : (defaultIdentityKey(database, env) ?? undefined),
    register_hosts,
    operators: [
      ...c.operators.map(parseOperator),
      ...(c.operators_file === undefined
        ? []
        : parseOperatorsFile(
            readText(resolve(cwd, c.operators_file), "operators file", ": check operators_file"),
            c.operators_file,
          )),
    ],
    policy_dir: c.policy_dir === undefined ? undefined : resolve(cwd, c.policy_dir),
    policy_key: policyKey,
    policy_key_pem: policyKey === undefined ? undefined : readPublicKeyFile(policyKey, "policy_key"),
    tls:
      c.tls_cert === undefined || c.tls_key === undefined
        ? undefined
        : {
            certPem: readText(resolve(cwd, c.tls_cert), "tls_cert", ""),
            keyPem: readText(resolve(cwd, c.tls_key), "tls_key", ""),
            ...rotationBeside(resolve(cwd, c.tls_cert)),
          },
    source,
  }) as CollectorConfig;
}

/** The key rotation statement `forge-collector tls rotate` leaves beside the certificate, if any. */
function rotationBeside(certFile: string): { rotation?: KeyRotation } {
  const file = join(dirname(certFile), ROTATION_FILE);
  if (!existsSync(file)) return {};
  try {
    return { rotation: JSON.parse(readFileSync(file, "utf8")) as KeyRotation };
  } catch (err) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `${file}: not a key rotation statement (${(err as Error).message})`,
    );
  }
}

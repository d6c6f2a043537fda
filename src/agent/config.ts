import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
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
import { DriftConfig } from "../drift/config.js";
import { Codes, ForgeError } from "../errors.js";
import { LifecycleConfig } from "../lifecycle/config.js";
import { TolerancesConfig } from "../platform/tolerances.js";
import { publicKeyFromPem } from "../protocol/collector-auth.js";
import { ReviewRolesSchema } from "../protocol/review-roles.js";

/**
 * The daemon's configuration: one zod schema with defaults. Sources are merged in order
 * file (YAML or JSON) → environment (FORGE_*) → flags, parsed once, frozen deeply and passed down.
 * Nothing below the composition root reads process.env.
 */

const uid = z.number().int().min(0);
const ms = z.number().int().positive();

function schema(defaults: { uid: number; hostname: string }) {
  const owners = [...new Set([defaults.uid, 0])];
  return z.strictObject({
    /** State directory: socket, SQLite, keys, models; default: the per-user one (userPaths). */
    home: z.string().min(1).optional(),
    /** Unix socket path; default <home>/agent.sock. */
    socket: z.string().min(1).optional(),
    host_id: z.string().min(1).max(128).default(defaults.hostname),
    /** Policy file or directory; default: the gate's default policy pack. */
    policy: z.string().min(1).optional(),
    /** ws:// or wss:// URL of the collector; unset: records are buffered locally. */
    collector_url: z
      .string()
      .regex(/^wss?:\/\//, "must be a ws:// or wss:// URL")
      .optional(),
    /** Which collector the agent trusts (issue 20, docs/security.md): acks and reviews must carry its signature. */
    collector_trust: z
      .strictObject({
        /** PEM certificate or SPKI public key of the collector (`forge-collector tls init` prints where). */
        key: z.string().min(1).optional(),
        /** Without `key`: pin the first collector key seen (logged loudly, an alert record); false refuses it. */
        pin_first_use: z.boolean().default(true),
        /** Where a first-use pin is kept; default <home>/collector-key.pem. */
        pin_file: z.string().min(1).optional(),
      })
      .prefault({}),
    /** How often the agent sends its health (and pending reviews) to the collector. */
    heartbeat_ms: ms.default(5_000),
    /** Signed policy bundles from the collector (docs/fleet.md). */
    policy_updates: z
      .strictObject({
        /** SPKI PEM file of the pinned bundle-signing key; unset: every bundle is refused. */
        public_key: z.string().min(1).optional(),
      })
      .prefault({}),
    /** Indicators and bounds evaluated on each heartbeat (src/platform/tolerances.ts). */
    tolerances: TolerancesConfig.optional(),
    /** Reconnaissance: drift detection over this host's records and heartbeats (docs/drift.md). */
    drift: DriftConfig.optional(),
    /** Evaluation, promotion, provenance trust and serving admission (docs/lifecycle.md). */
    lifecycle: LifecycleConfig,
    /** Inference backend; "none" serves no /api/* (the facade answers 503). */
    backend: z.enum(["llama", "ollama", "openai", "none"]).default("llama"),
    /** Model: a GGUF path (llama), a model name (ollama/openai); default: the generated tiny model. */
    model: z.string().min(1).optional(),
    /** Base URL of an ollama or OpenAI-compatible server. */
    inference_host: z.string().min(1).optional(),
    /** A system prompt template from a registry (`oci://…`, `--type prompt-template`) for the facade. */
    prompt_template: z.string().startsWith("oci://", "must be an oci:// reference").optional(),
    /** OCI registries for `model: oci://…` and `forge-agent registry` (docs/registry.md). */
    registry: z
      .strictObject({
        /** Docker-style auth file (`{"auths": {...}}`); default <home>/registry-auth.json, then ~/.docker/config.json. */
        auth_file: z.string().min(1).optional(),
        /** Plain HTTP to loopback registries (refused for any other host). */
        insecure: z.boolean().default(false),
      })
      .prefault({}),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Log lines on stdout: pretty on a terminal, JSON otherwise (auto); or always one of them. */
    log_format: z.enum(["auto", "json", "pretty"]).default("auto"),
    evidence: z
      .strictObject({
        /** SQLite file; default <home>/evidence.db. */
        path: z.string().min(1).optional(),
        /** ed25519 key directory; default <home>/keys. */
        keys: z.string().min(1).optional(),
        synchronous: z.enum(["FULL", "NORMAL"]).optional(),
        max_unacked_records: z.number().int().positive().default(1_000_000),
        /** Keep the prompt text in records (the hash is always kept). */
        record_prompts: z.boolean().default(false),
      })
      .prefault({}),
    api: z
      .strictObject({
        max_body_bytes: z
          .number()
          .int()
          .positive()
          .default(1 << 20),
        max_header_bytes: z
          .number()
          .int()
          .positive()
          .default(16 * 1024),
        /** Slow clients: the whole header block must arrive within this. */
        headers_timeout_ms: ms.default(5_000),
        /** Slow clients: the whole request (headers + body) must arrive within this. */
        request_timeout_ms: ms.default(15_000),
        keep_alive_timeout_ms: ms.default(5_000),
        /** Upper bound of GET /v1/actions/:id?wait=MS. */
        max_wait_ms: ms.default(60_000),
        /** Who may propose actions and report results (peer uid). Default: the daemon's owner and root. */
        allowed_proposer_uids: z.array(uid).default(owners),
        /** Who may list and decide reviews (peer uid). Default: the daemon's owner and root. */
        allowed_reviewer_uids: z.array(uid).default(owners),
        /** Upper bound on in-flight requests while shutting down. */
        drain_timeout_ms: ms.default(10_000),
      })
      .refine((a) => a.headers_timeout_ms <= a.request_timeout_ms, {
        message: "headers_timeout_ms must not exceed request_timeout_ms",
        path: ["headers_timeout_ms"],
      })
      .prefault({}),
    review: z
      .strictObject({
        /** An escalation not decided within this is DENY (principal_review "expired"). */
        deadline_ms: ms.default(15 * 60_000),
        /** After a restart: re-arm pending escalations, or resolve them as DENY "agent-restart". */
        on_restart: z.enum(["restore", "deny"]).default("restore"),
        /**
         * The review capability: a 0600 file holding the token a reviewer presents
         * (x-forge-review-token); created at start when missing. Default <home>/review.token.
         */
        token_file: z.string().min(1).optional(),
        /**
         * Who may approve what on this agent's review paths (socket and collector-relayed): per
         * stage (model.promote; merged with lifecycle.reviewers) and per policy label
         * (src/protocol/review-roles.ts). Empty: every reviewer, never the proposer.
         */
        roles: ReviewRolesSchema,
      })
      .prefault({}),
    actions: z
      .strictObject({
        /** An ALLOW the caller executes must report its result within this, or it is recorded "unreported". */
        result_deadline_ms: ms.default(5 * 60_000),
      })
      .prefault({}),
    executors: z
      .strictObject({
        /** Working directory for shell actions without `cwd`; default: the daemon's cwd. */
        cwd: z.string().min(1).optional(),
        /**
         * The workspace roots the gate judges actions against (issue 19 §3): an action's own `cwd`
         * (a model's choice) outside them is judged as outside. Default: [cwd].
         */
        workspaces: z.array(z.string().min(1)).min(1).optional(),
        shell_timeout_ms: ms.default(30_000),
        /** Bytes of stdout/stderr/body kept verbatim in the record (everything is hashed). */
        excerpt_bytes: z.number().int().min(0).default(4096),
        /** Output beyond this kills the process group (bounds disk and time). */
        max_output_bytes: z
          .number()
          .int()
          .positive()
          .default(64 << 20),
        http_timeout_ms: ms.default(10_000),
        http_max_bytes: z
          .number()
          .int()
          .positive()
          .default(8 << 20),
        file_max_bytes: z
          .number()
          .int()
          .positive()
          .default(64 << 20),
        file_timeout_ms: ms.default(10_000),
      })
      .prefault({}),
    /** Containment of executed actions (docs/sandbox.md); profiles are declared in policy. */
    sandbox: z
      .strictObject({
        engine: z.enum(["auto", "bwrap", "seatbelt", "off"]).default("auto"),
        bwrap_path: z.string().min(1).default("/usr/bin/bwrap"),
        prlimit_path: z.string().min(1).default("/usr/bin/prlimit"),
        /** deny: an action that cannot be contained is DENY sandbox-unavailable; unconfined: it runs, recorded as such. */
        on_unavailable: z.enum(["deny", "unconfined"]).default("deny"),
        /** Sandboxes kept started ahead of time for the last shell action's profile (0: cold starts only). */
        warm: z.number().int().min(0).max(4).default(2),
        /** A waiting sandbox is replaced by a fresh one once it is this old. */
        warm_renew_ms: z.number().int().min(200).default(30_000),
        /** Landlock under bwrap where the kernel offers it (then required: DENY/126 if it cannot be applied). */
        landlock: z.boolean().default(true),
      })
      .prefault({}),
    facade: z
      .strictObject({
        /** Also serve /api/* on a loopback TCP port, e.g. "127.0.0.1:11434"; unset: socket only. */
        listen: z
          .string()
          .regex(/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/, "must be a loopback HOST:PORT")
          .optional(),
        max_body_bytes: z
          .number()
          .int()
          .positive()
          .default(4 << 20),
      })
      .prefault({}),
  });
}

type Parsed = z.infer<ReturnType<typeof schema>>;

/** The config file's top-level keys (`forge-agent init`'s template names each one). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema({ uid: 0, hostname: "localhost" }).shape);

/** The resolved configuration: every path absolute, every default filled in, deeply frozen. */
export type AgentConfig = DeepReadonly<
  Omit<
    Parsed,
    "home" | "socket" | "evidence" | "executors" | "policy_updates" | "review" | "collector_trust"
  > & {
    home: string;
    /** The configured collector key is read once, at load. */
    collector_trust: { key?: string; key_pem?: string; pin_first_use: boolean; pin_file: string };
    /** The pinned key is read once, at load: a missing file is a config error, not a runtime surprise. */
    policy_updates: { public_key?: string; public_key_pem?: string };
    socket: string;
    evidence: Parsed["evidence"] & { path: string; keys: string };
    executors: Parsed["executors"] & { cwd: string; workspaces: string[] };
    review: Parsed["review"] & { token_file: string };
    models_dir: string;
    /** Where the config came from, for logs. */
    source: string[];
  }
>;

/** Flags of `forge-agent run`, already split by the CLI. */
export interface ConfigFlags {
  config?: string;
  home?: string;
  socket?: string;
  policy?: string;
  "collector-url"?: string;
  backend?: string;
  model?: string;
  "host-id"?: string;
  "log-level"?: string;
}

export interface LoadConfigInput {
  flags?: ConfigFlags;
  /** The process environment; given, it also names the per-user config file and home (userPaths). */
  env?: Record<string, string | undefined>;
  /** A config object given directly (tests, embedders); merged where the file would be. */
  object?: Record<string, unknown>;
  cwd?: string;
  uid?: number;
  hostname?: string;
}

/** FORGE_* variables and the key each one sets (docs/design.md: each is also a key and a flag). */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  FORGE_HOME: "home",
  FORGE_SOCKET: "socket",
  FORGE_POLICY: "policy",
  FORGE_COLLECTOR_URL: "collector_url",
  FORGE_BACKEND: "backend",
  FORGE_MODEL: "model",
  FORGE_HOST_ID: "host_id",
  FORGE_LOG_LEVEL: "log_level",
  FORGE_LOG_FORMAT: "log_format",
};

const FLAG_KEYS: Readonly<Record<string, string>> = {
  home: "home",
  socket: "socket",
  policy: "policy",
  "collector-url": "collector_url",
  backend: "backend",
  model: "model",
  "host-id": "host_id",
  "log-level": "log_level",
};

/**
 * The per-user defaults, the same from any directory: the state directory (the one a `--user`
 * service uses: ~/.local/share/forge-agent, $XDG_DATA_HOME honoured; on macOS ~/Library/Application
 * Support/forge-agent) and the config file (~/.config/forge-agent/config.yaml, $XDG_CONFIG_HOME
 * honoured), which `forge-agent init` writes.
 */
export function userPaths(
  env: Record<string, string | undefined> = {},
  platform: NodeJS.Platform = process.platform,
): { home: string; config: string } {
  const h = env.HOME || homedir();
  return {
    home: userDataDir("forge-agent", env, platform),
    config: join(env.XDG_CONFIG_HOME || join(h, ".config"), "forge-agent", "config.yaml"),
  };
}

/**
 * Reads, merges and validates the configuration; throws FORGE_CONFIG_INVALID naming the key and the fix.
 * The home is --home, else FORGE_HOME, else the config file's `home`, else the per-user default;
 * the config file is --config, else FORGE_CONFIG, else the per-user one when it exists. A default
 * is never resolved against the current directory, so the CLI finds the agent from anywhere.
 */
export function loadConfig(input: LoadConfigInput = {}): AgentConfig {
  const cwd = input.cwd ?? process.cwd();
  const source: string[] = [];
  let merged: Record<string, unknown> = {};
  let origin = "config";
  const user = userPaths(input.env);

  const file =
    input.flags?.config ??
    (input.env?.FORGE_CONFIG || undefined) ??
    (input.env !== undefined && existsSync(user.config) ? user.config : undefined);
  if (file !== undefined) {
    merged = readConfigFile(resolve(cwd, file), "home, socket, policy");
    origin = basename(file);
    source.push(`file:${resolve(cwd, file)}`);
  }
  if (input.object !== undefined) {
    merged = { ...merged, ...input.object };
    source.push("object");
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = input.env?.[name];
    if (v !== undefined && v !== "") {
      merged[key] = v;
      source.push(`env:${name}`);
    }
  }
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = input.flags?.[flag as keyof ConfigFlags];
    if (v !== undefined) {
      merged[key] = v;
      source.push(`flag:--${flag}`);
    }
  }

  const s = schema({ uid: input.uid ?? process.getuid?.() ?? 0, hostname: input.hostname ?? "localhost" });
  const r = s.safeParse(merged);
  if (!r.success) throw configError(r.error.issues, origin, merged, s.shape);
  const c = r.data;
  const home = resolve(cwd, c.home ?? user.home);
  const resolved = {
    ...c,
    home,
    socket: resolve(cwd, c.socket ?? `${home}/agent.sock`),
    policy: c.policy === undefined ? undefined : resolve(cwd, c.policy),
    model:
      c.model === undefined || c.backend !== "llama" || c.model.startsWith("oci://")
        ? c.model
        : resolve(cwd, c.model),
    registry: {
      ...c.registry,
      ...(c.registry.auth_file === undefined ? {} : { auth_file: resolve(cwd, c.registry.auth_file) }),
    },
    models_dir: `${home}/models`,
    evidence: {
      ...c.evidence,
      path: resolve(cwd, c.evidence.path ?? `${home}/evidence.db`),
      keys: resolve(cwd, c.evidence.keys ?? `${home}/keys`),
    },
    executors: {
      ...c.executors,
      cwd: resolve(cwd, c.executors.cwd ?? cwd),
      workspaces: (c.executors.workspaces ?? [c.executors.cwd ?? cwd]).map((w) => resolve(cwd, w)),
    },
    review: { ...c.review, token_file: resolve(cwd, c.review.token_file ?? `${home}/review.token`) },
    policy_updates: readPolicyKey(c.policy_updates.public_key, cwd),
    collector_trust: {
      pin_first_use: c.collector_trust.pin_first_use,
      pin_file: resolve(cwd, c.collector_trust.pin_file ?? `${home}/collector-key.pem`),
      ...readCollectorKey(c.collector_trust.key, cwd),
    },
    source,
  };
  if (Buffer.byteLength(resolved.socket) > 103) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `socket path is ${Buffer.byteLength(resolved.socket)} bytes; Unix sockets allow 103: set 'socket' (or FORGE_SOCKET) to a shorter path`,
    );
  }
  return deepFreeze(resolved) as AgentConfig;
}

function readCollectorKey(file: string | undefined, cwd: string): { key?: string; key_pem?: string } {
  if (file === undefined) return {};
  const path = resolve(cwd, file);
  const pem = readText(path, "collector_trust.key", "");
  try {
    publicKeyFromPem(pem);
  } catch {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `collector_trust.key ${path} is neither a PEM certificate nor an SPKI PEM public key`,
    );
  }
  return { key: path, key_pem: pem };
}

function readPolicyKey(
  file: string | undefined,
  cwd: string,
): { public_key?: string; public_key_pem?: string } {
  if (file === undefined) return {};
  const path = resolve(cwd, file);
  return { public_key: path, public_key_pem: readPublicKeyFile(path, "policy_updates.public_key") };
}

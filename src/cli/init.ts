/**
 * `forge-agent init [--out FILE] [--force] [--json]`: writes a commented config template, valid
 * against the config schema as written (every key at its default or commented out), to --out, else
 * FORGE_CONFIG, else the per-user config file every command reads (userPaths: ~/.config/forge-agent/
 * config.yaml, $XDG_CONFIG_HOME honoured). An existing file is kept: FORGE_CONFLICT unless --force.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { userPaths } from "../agent/config.js";
import { Codes, ForgeError } from "../errors.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/** The template: each top-level key of the agent's config, at its default or commented out. */
export const CONFIG_TEMPLATE = `# forge-agent configuration, written by \`forge-agent init\` (docs/agent.md lists every key).
# Precedence: flags > FORGE_* environment variables > this file > the defaults shown here.
# Every command finds this file the same way from any directory: --config, FORGE_CONFIG, else
# ~/.config/forge-agent/config.yaml ($XDG_CONFIG_HOME honoured).

# State directory (socket, evidence, keys, models, logs). Default: FORGE_HOME, else the per-user
# home: ~/.local/share/forge-agent ($XDG_DATA_HOME honoured), ~/Library/Application Support/forge-agent
# on macOS. Never resolved against the current directory.
# home: /var/lib/forge-agent

# The Unix socket clients and the CLI talk to. Default: <home>/agent.sock.
# socket: /run/forge-agent/agent.sock

# This host's ID in every evidence record. Default: the hostname.
# host_id: edge-01

# Policy file or directory. Default: the built-in policy pack (policies/default).
# policy: /etc/forge-agent/policies

# The cluster collector (ws:// or wss://; a URL without a path means /v1/ws). Unset: records stay
# in the local store until one is configured.
# collector_url: wss://collector.example:8787
collector_trust:
  # The collector's certificate or public key (forge-collector tls init prints where it is).
  # key: /etc/forge-agent/collector.crt
  # Without a key: pin the first collector key seen (logged loudly, an alert record).
  pin_first_use: true
heartbeat_ms: 5000
policy_updates: {}
  # public_key: /etc/forge-agent/policy-signing.pub   (signed bundles from the collector)
# tolerances: {}   indicators and bounds checked on each heartbeat (docs/fleet.md)
# drift: {}        drift detection (docs/drift.md)
lifecycle:
  # Serving admission for oci:// models: off | registry | strict (docs/lifecycle.md).
  admission: registry
  trust_own_key: true
  trusted_keys: []

# Inference: llama (embedded llama.cpp), ollama, openai (any OpenAI-compatible server), none.
backend: llama
# A GGUF path (llama), a model name (ollama/openai), or oci://REGISTRY/REPO@sha256:…
# Default (llama): the generated tiny smoke-test model (random weights).
# model: /models/qwen2.5-0.5b-instruct-q4_k_m.gguf
# inference_host: http://127.0.0.1:11434
# prompt_template: oci://registry.example/templates/system@sha256:…
registry:
  insecure: false
  # auth_file: ~/.docker/config.json

# fatal | error | warn | info | debug | trace | silent
log_level: info
# auto: human-readable on a terminal, JSON otherwise; or always json | pretty.
log_format: auto

evidence:
  # path: /var/lib/forge-agent/evidence.db
  # keys: /var/lib/forge-agent/keys
  # synchronous: FULL
  max_unacked_records: 1000000
  # Keep the prompt text in records (its hash is always kept).
  record_prompts: false
api:
  max_body_bytes: 1048576
  max_wait_ms: 60000
  # allowed_proposer_uids: [501, 0]   default: the daemon's owner and root
  # allowed_reviewer_uids: [501, 0]
review:
  # An escalation not decided within this is DENY (15 minutes).
  deadline_ms: 900000
  # After a restart: restore pending escalations, or deny them.
  on_restart: restore
  # token_file: /var/lib/forge-agent/review.token
actions:
  result_deadline_ms: 300000
executors:
  # cwd: /srv/work
  # workspaces: [/srv/work]
  shell_timeout_ms: 30000
  excerpt_bytes: 4096
sandbox:
  # auto | bwrap | seatbelt | off (docs/sandbox.md)
  engine: auto
  # An action that cannot be contained: deny it, or run it unconfined (recorded as such).
  on_unavailable: deny
facade:
  # The governed Ollama API on loopback TCP too (npm start picks 11434 itself). Unset: socket only.
  # listen: 127.0.0.1:11434
  max_body_bytes: 4194304
`;

export default async function init(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.init.flags, true);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const file = resolve(values.out ?? (env.FORGE_CONFIG || userPaths(env).config));
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, CONFIG_TEMPLATE, { flag: values.force ? "w" : "wx", mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new ForgeError(Codes.CONFLICT, `${file} exists: kept as it is (pass --force to overwrite it)`, {
        details: { path: file },
      });
    throw err;
  }
  if (values.json) printJson({ written: file });
  else
    process.stdout.write(
      `wrote ${file}\n  every forge-agent command reads it from any directory; edit it, then: forge-agent doctor\n`,
    );
  return 0;
}

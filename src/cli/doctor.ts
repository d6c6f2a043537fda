/**
 * `forge-agent doctor [--json] [--socket PATH] [--home DIR] [--config FILE]`: checks this host the
 * way the agent will meet it — Node, the native addon, the config, the policy, the home and the
 * socket's permissions, whether an agent answers, the collector (reachable, its key configured or
 * pinned), the disk, the model and its admission, an ollama/openai backend (reachable, serving the
 * configured model). Each check is ok, warn (works, but worth knowing),
 * fail (the agent will not work as configured) or skip; a warn or a fail names its fix.
 * Exit 0 when no check failed, 1 otherwise.
 */
import { accessSync, constants, existsSync, lstatSync, readFileSync, statfsSync, statSync } from "node:fs";
import { connect } from "node:net";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { type AgentConfig, loadConfig } from "../agent/config.js";
import { hasForgeCode } from "../errors.js";
import { defaultPolicyPath, initGate, loadPolicy } from "../gate/index.js";
import { defaultAddonPath, loadAddon } from "../platform/native.js";
import { type AgentState, agentState } from "./agent-state.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

export type Status = "ok" | "warn" | "fail" | "skip";

export interface Check {
  name: string;
  status: Status;
  detail: string;
  /** What to do about a warn or a fail. */
  fix?: string;
}

/** Below this much free space on the home's file system the evidence store can stop (fail); 1 GiB warns. */
const DISK_FAIL_BYTES = 256 * 2 ** 20;
const DISK_WARN_BYTES = 2 ** 30;

const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail });
const warn = (name: string, detail: string, fix: string): Check => ({ name, status: "warn", detail, fix });
const fail = (name: string, detail: string, fix: string): Check => ({ name, status: "fail", detail, fix });
const skip = (name: string, detail: string): Check => ({ name, status: "skip", detail });

function message(err: unknown): string {
  return `${hasForgeCode(err) ? `${err.code}: ` : ""}${(err as Error).message ?? String(err)}`;
}

export function checkNode(version = process.versions.node): Check {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  const need = Number(/(\d+)/.exec(String(pkg.engines?.node ?? ">=20"))?.[1] ?? 20);
  const major = Number(version.split(".")[0]);
  return major >= need
    ? ok("node", `Node ${version} (needs >= ${need})`)
    : fail(
        "node",
        `Node ${version}; forge-agent needs >= ${need}`,
        `install Node ${need} or later (nvm install ${need})`,
      );
}

function checkAddon(): Check {
  const file = defaultAddonPath();
  try {
    const a = loadAddon(file);
    return ok("addon", `${file} (ABI ${a.abi})`);
  } catch (err) {
    return fail(
      "addon",
      message(err),
      "npm install (it builds the addon with cmake-js), or: npx cmake-js compile -d native --out native/build",
    );
  }
}

async function checkPolicy(config: AgentConfig): Promise<Check> {
  const path = config.policy ?? defaultPolicyPath();
  try {
    await initGate();
    const p = loadPolicy(path);
    return ok("policy", `${p.ref.id}@${p.ref.version} (${p.rules.length} rules) from ${path}`);
  } catch (err) {
    return fail(
      "policy",
      message(err),
      `fix the file as the message says, then: forge-agent policy test ${path}`,
    );
  }
}

/** Group or others may write a directory: another user could replace what the agent keeps there. */
function looseDir(mode: number): boolean {
  return (mode & 0o022) !== 0 && (mode & 0o1000) === 0;
}

function checkHome(config: AgentConfig): Check {
  const home = config.home;
  if (!existsSync(home))
    return warn(
      "home",
      `${home} does not exist yet`,
      "it is created at the first start (npm start, forge-agent run)",
    );
  const st = statSync(home);
  if (!st.isDirectory())
    return fail("home", `${home} is not a directory`, "set 'home' (FORGE_HOME) to a directory");
  try {
    accessSync(home, constants.W_OK);
  } catch {
    return fail(
      "home",
      `${home} is not writable by uid ${process.getuid?.()}`,
      `chown it to this user, or set FORGE_HOME`,
    );
  }
  if (looseDir(st.mode))
    return fail(
      "home",
      `${home} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
      `chmod 750 ${home}`,
    );
  return ok("home", `${home} (mode ${(st.mode & 0o777).toString(8)})`);
}

function checkSocket(config: AgentConfig): Check {
  const sock = config.socket;
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(sock);
  } catch {
    return skip("socket", `${sock}: none yet (no agent has listened there)`);
  }
  if (!st.isSocket())
    return fail(
      "socket",
      `${sock} exists and is not a socket`,
      `remove it, or set 'socket' (FORGE_SOCKET) elsewhere`,
    );
  const uid = process.getuid?.();
  const mode = st.mode & 0o777;
  if ((mode & 0o007) !== 0)
    return fail(
      "socket",
      `${sock} is open to every local user (mode ${mode.toString(8)})`,
      `chmod 660 ${sock} (the agent sets 660 itself: was it changed, or made by something else?)`,
    );
  if (uid !== undefined && st.uid !== uid && uid !== 0)
    return warn(
      "socket",
      `${sock} belongs to uid ${st.uid}, not to you (uid ${uid})`,
      "run the CLI as the agent's user, or add yourself to api.allowed_reviewer_uids",
    );
  const dir = dirname(sock);
  const d = statSync(dir);
  if (looseDir(d.mode))
    return fail(
      "socket",
      `${dir} (the socket's directory) is writable by group or others (mode ${(d.mode & 0o777).toString(8)}): another user could replace the socket`,
      `chmod 750 ${dir}`,
    );
  return ok("socket", `${sock} (mode ${mode.toString(8)}, uid ${st.uid})`);
}

function checkAgent(a: AgentState): Check {
  if (!a.running)
    return warn(
      "agent",
      `not running (${a.reason ?? "no answer"})`,
      "start it: npm start, forge-agent run, or forge-agent install",
    );
  return ok("agent", `running (pid ${a.pid}, up ${a.uptime_s ?? "?"} s) on ${a.socket}`);
}

/** host:port of a ws(s):// URL. */
function hostPortOf(url: string): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const port = Number(u.port || (u.protocol === "wss:" ? 443 : 80));
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return null;
  }
}

function tcpReachable(host: string, port: number, timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (why: string | null) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    s.once("connect", () => done(null));
    s.once("error", (e) => done((e as Error).message));
  });
}

async function checkCollector(config: AgentConfig, a: AgentState): Promise<Check> {
  const url = a.running ? (a.collector_url ?? undefined) : config.collector_url;
  if (url === undefined || url === null)
    return warn(
      "collector",
      "none configured: records stay in the local store",
      "set collector_url (FORGE_COLLECTOR_URL) to ws://HOST:PORT or wss://…",
    );
  if (a.running && a.collector) {
    const c = a.collector;
    if (c.connected)
      return ok("collector", `connected to ${url} (acked seq ${c.lastAckedSeq}, backlog ${c.backlog})`);
    if (c.error)
      return fail(
        "collector",
        `${url}: ${c.error.code} (${c.error.reason}): ${c.error.message}`,
        c.error.fix,
      );
  }
  const hp = hostPortOf(url);
  if (hp === null)
    return fail("collector", `${url} is not a URL`, "set collector_url to ws://HOST:PORT or wss://HOST:PORT");
  const why = await tcpReachable(hp.host, hp.port);
  return why === null
    ? ok(
        "collector",
        `${url}: ${hp.host}:${hp.port} accepts connections${a.running ? " (the agent is still connecting)" : ""}`,
      )
    : fail(
        "collector",
        `${url}: ${hp.host}:${hp.port} unreachable (${why})`,
        "start the collector (forge-collector run), or fix collector_url",
      );
}

function checkCollectorKey(config: AgentConfig, a: AgentState): Check {
  const t = config.collector_trust;
  const url = a.running ? (a.collector_url ?? undefined) : config.collector_url;
  if (url === undefined && t.key === undefined && !existsSync(t.pin_file))
    return skip("collector-key", "no collector configured");
  if (t.key !== undefined) return ok("collector-key", `configured: ${t.key}`);
  if (existsSync(t.pin_file)) return ok("collector-key", `pinned on first use: ${t.pin_file}`);
  return t.pin_first_use
    ? warn(
        "collector-key",
        "none configured and none pinned yet: the first key the collector shows will be pinned (trust on first use)",
        "set collector_trust.key to the collector's certificate (forge-collector tls init prints it)",
      )
    : fail(
        "collector-key",
        "none configured and pin_first_use is false: every collector is refused",
        "set collector_trust.key to the collector's certificate",
      );
}

function checkDisk(config: AgentConfig): Check {
  let dir = config.home;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const gib = (free / 2 ** 30).toFixed(1);
  if (free < DISK_FAIL_BYTES)
    return fail(
      "disk",
      `${gib} GiB free under ${dir}`,
      "free some space: the evidence store refuses writes when the disk is full",
    );
  if (free < DISK_WARN_BYTES)
    return warn("disk", `${gib} GiB free under ${dir}`, "free some space, or move 'home' to a larger disk");
  return ok("disk", `${gib} GiB free under ${dir}`);
}

function checkModel(config: AgentConfig, a: AgentState): Check {
  if (a.running) {
    const models = a.models ?? [];
    if (models.length === 0)
      return warn(
        "model",
        `none served (backend ${a.backend ?? "none"})`,
        "set backend and model (FORGE_BACKEND, FORGE_MODEL)",
      );
    const bad = models.find((m) => m.admission && !m.admission.exempt && m.admission.stage === null);
    if (bad)
      return fail(
        "model",
        `${bad.model} is served without a verified promotion (unpromoted)`,
        `promote it: forge-agent promote ${bad.model} --stage production (docs/lifecycle.md)`,
      );
    return ok(
      "model",
      models
        .map(
          (m) =>
            `${m.model ?? "the generated smoke-test model"} (${m.backend}; ${m.admission ? (m.admission.exempt ? "exempt smoke-test model" : `stage ${m.admission.stage}`) : "not loaded yet"})`,
        )
        .join(", "),
    );
  }
  if (config.backend === "none")
    return warn(
      "model",
      "backend none: /api/* answers 503",
      "set backend (FORGE_BACKEND) to llama, ollama or openai",
    );
  if (config.backend !== "llama")
    return ok(
      "model",
      `${config.model ?? "(server default)"} from ${config.backend} at ${config.inference_host ?? "its default URL"}`,
    );
  if (config.model === undefined)
    return ok("model", "the generated tiny smoke-test model (random weights; exempt from admission)");
  if (config.model.startsWith("oci://"))
    return config.lifecycle.admission === "off"
      ? warn("model", `${config.model}: admission is off`, "set lifecycle.admission to registry")
      : ok(
          "model",
          `${config.model}: loaded only with a verified promotion (admission ${config.lifecycle.admission})`,
        );
  if (!existsSync(config.model))
    return fail("model", `${config.model} does not exist`, "set model (FORGE_MODEL) to a GGUF file");
  if (config.lifecycle.admission === "strict")
    return fail(
      "model",
      `${config.model} is a local GGUF and lifecycle.admission is strict: it will be refused`,
      "serve it from a registry (oci://…) with a promotion, or set admission: registry",
    );
  return ok("model", `${config.model} (local GGUF; admission ${config.lifecycle.admission})`);
}

/** How long the backend probe waits for the server's model list. */
const BACKEND_TIMEOUT_MS = 5000;

/** Ollama lists "name:tag"; a model configured without a tag means ":latest". */
function listed(names: string[], model: string, backend: "ollama" | "openai"): boolean {
  if (names.includes(model)) return true;
  return backend === "ollama" && !model.includes(":") && names.includes(`${model}:latest`);
}

/**
 * An ollama or OpenAI-compatible backend: reachable, and the configured model is one it serves.
 * It asks through the backend the agent uses (ollama: the official client's list(), GET /api/tags;
 * openai: GET /v1/models), so it fails where the agent's first request would.
 */
export async function checkBackend(config: AgentConfig): Promise<Check> {
  const backend = config.backend;
  if (backend !== "ollama" && backend !== "openai")
    return skip("backend", `backend ${backend}: no inference server to reach`);
  const { createBackend } = await import("../inference/backend.js");
  const b = await createBackend({ backend, model: config.model ?? "", host: config.inference_host });
  const url = (b as { host?: string }).host ?? config.inference_host ?? "its default URL";
  const endpoint = backend === "ollama" ? "/api/tags" : "/v1/models";
  let timer: NodeJS.Timeout | undefined;
  try {
    const names = await Promise.race([
      b.models().then((ms) => ms.map((m) => m.name)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer to GET ${endpoint} in ${BACKEND_TIMEOUT_MS / 1000} s`)),
          BACKEND_TIMEOUT_MS,
        );
      }),
    ]);
    if (config.model === undefined)
      return warn(
        "backend",
        `${backend} at ${url} answers (${names.length} models) but no model is configured`,
        `set model (FORGE_MODEL) to one it serves: ${names.slice(0, 5).join(", ") || "(none listed)"}`,
      );
    if (!listed(names, config.model, backend))
      return fail(
        "backend",
        `${backend} at ${url} does not serve '${config.model}' (it lists ${names.length ? names.slice(0, 5).join(", ") : "no models"})`,
        backend === "ollama"
          ? `ollama pull ${config.model}, or set model (FORGE_MODEL) to one it lists`
          : `start the server with ${config.model}, or set model (FORGE_MODEL) to one GET ${endpoint} lists`,
      );
    return ok("backend", `${backend} at ${url} serves ${config.model}`);
  } catch (err) {
    return fail(
      "backend",
      `${backend} at ${url} is not reachable: ${message(err)}`,
      backend === "ollama"
        ? "start it (ollama serve), or set inference_host in the config to its URL"
        : "start the OpenAI-compatible server, or set inference_host in the config to its URL",
    );
  } finally {
    clearTimeout(timer);
    await b.close().catch(() => {});
  }
}

export async function runChecks(
  env: Env,
  flags: { socket?: string; home?: string; config?: string },
): Promise<Check[]> {
  const checks: Check[] = [checkNode(), checkAddon()];
  let config: AgentConfig;
  try {
    config = loadConfig({
      env,
      hostname: hostname(),
      flags: {
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.home ? { home: flags.home } : {}),
        ...(flags.socket ? { socket: flags.socket } : {}),
      },
    });
    const file = config.source.find((s) => s.startsWith("file:"));
    checks.push(
      ok(
        "config",
        file ? file.slice(5) : "no config file: the defaults and FORGE_* (forge-agent init writes one)",
      ),
    );
  } catch (err) {
    checks.push(
      fail(
        "config",
        message(err),
        "fix the key the message names (forge-agent init writes a valid template)",
      ),
    );
    for (const n of [
      "policy",
      "home",
      "socket",
      "agent",
      "collector",
      "collector-key",
      "disk",
      "model",
      "backend",
    ])
      checks.push(skip(n, "the config does not load"));
    return checks;
  }
  checks.push(await checkPolicy(config), checkHome(config), checkSocket(config));
  const a = await agentState(config.socket);
  checks.push(
    checkAgent(a),
    await checkCollector(config, a),
    checkCollectorKey(config, a),
    checkDisk(config),
    checkModel(config, a),
    await checkBackend(config),
  );
  return checks;
}

const MARK: Record<Status, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

export default async function doctor(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.doctor.flags);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const checks = await runChecks(env, values);
  const failed = checks.filter((c) => c.status === "fail").length;
  if (values.json) printJson({ ok: failed === 0, checks });
  else {
    const w = Math.max(...checks.map((c) => c.name.length));
    const lines = checks.flatMap((c) => [
      `${MARK[c.status]}  ${c.name.padEnd(w)}  ${c.detail}`,
      ...(c.fix ? [`      ${" ".repeat(w)}  fix: ${c.fix}`] : []),
    ]);
    const warned = checks.filter((c) => c.status === "warn").length;
    lines.push(
      "",
      failed === 0
        ? `all checks passed${warned ? ` (${warned} warning${warned > 1 ? "s" : ""})` : ""}`
        : `${failed} check${failed > 1 ? "s" : ""} failed`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return failed === 0 ? 0 : 1;
}

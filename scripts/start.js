#!/usr/bin/env node
// `npm start`: the whole thing on one machine with nothing else installed. State in the per-user
// home (FORGE_HOME, else ~/.local/share/forge-agent; the CLI finds it there from any directory), the
// default policy pack, SQLite evidence, the generated tiny smoke-test model, and a local collector
// with its dashboard on 127.0.0.1:8787. Runs until Ctrl-C. Uses the built output (npm install builds).
import { existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, "dist", "src");
if (!existsSync(join(dist, "agent", "daemon.js"))) {
  process.stderr.write(
    "forge-agent: not built yet: run `npm run build` (npm install does it), then `npm start`\n",
  );
  process.exit(1);
}
const { loadConfig } = await import(join(dist, "agent", "config.js"));
const { startAgent } = await import(join(dist, "agent", "daemon.js"));
const { pino } = await import("pino");

const env = process.env;
const cwd = process.cwd();
const base = loadConfig({ env, cwd, hostname: hostname() });
mkdirSync(base.home, { recursive: true, mode: 0o750 });
const logFile = join(base.home, "agent.log");
const logger = pino({ level: base.log_level }, pino.destination({ dest: logFile, mkdir: true, sync: false }));

// A second `npm start` meets the first one's agent before its collector's port: say so, not "port in use".
const { assertSocketFree } = await import(join(dist, "agent", "server.js"));
try {
  await assertSocketFree(base.socket);
} catch (err) {
  process.stderr.write(`forge-agent: ${err.code ? `${err.code}: ` : ""}${err.message}\n`);
  process.exit(1);
}

// The local collector: one call site, so a deployment without it only drops these lines.
let collector = null;
// The dashboard needs an operator: FORGE_COLLECTOR_OPERATORS ("name=secret,…"), else a one-run token.
let operatorHint = null;
if (!env.FORGE_COLLECTOR_URL) {
  const { startCollector } = await import(join(dist, "collector", "index.js"));
  const { fleetPlugin } = await import(join(dist, "collector", "fleet-plugin.js"));
  const { parseOperator } = await import(join(dist, "collector", "operators.js"));
  let specs = (env.FORGE_COLLECTOR_OPERATORS ?? "").split(",").filter(Boolean);
  if (specs.length === 0) {
    const { randomBytes } = await import("node:crypto");
    const token = randomBytes(18).toString("base64url");
    specs = [`local=${token}`];
    operatorHint = `sign in as 'local' with ${token} (this run only; set FORGE_COLLECTOR_OPERATORS=name=secret to choose)`;
  }
  try {
    collector = await startCollector({
      database: `sqlite:${join(base.home, "collector.db")}`,
      listen: env.FORGE_COLLECTOR_LISTEN ?? "127.0.0.1:8787",
      logger: logger.child({ component: "collector" }),
      plugins: [fleetPlugin({ operators: specs.map(parseOperator) }).plugin],
    });
  } catch (err) {
    process.stderr.write(
      `forge-agent: the local collector could not start (${err.code ?? ""} ${err.message}); ` +
        "set FORGE_COLLECTOR_LISTEN=127.0.0.1:PORT or FORGE_COLLECTOR_URL=ws://…\n",
    );
    process.exit(1);
  }
}

// The governed Ollama endpoint on loopback TCP, so a stock client finds it: FORGE_FACADE_LISTEN
// (HOST:PORT, or "off"), else the config's facade.listen, else 11434 when free, else 11435, else any port.
const { pickFacadeListen } = await import(join(dist, "agent", "server.js"));
let facadeListen = env.FORGE_FACADE_LISTEN || base.facade.listen;
let facadeNote = null;
if (facadeListen === undefined) ({ listen: facadeListen, note: facadeNote } = await pickFacadeListen());
const facade = facadeListen === "off" ? {} : { facade: { ...base.facade, listen: facadeListen } };

const config = loadConfig({
  env,
  cwd,
  hostname: hostname(),
  object: { ...(collector ? { collector_url: collector.url } : {}), ...facade },
});
if (config.backend === "llama" && config.model === undefined) {
  // Generated, never downloaded: random weights, labelled as a smoke-test model.
  const { ensureTinyModel, TINY_MODEL_NAME } = await import(join(dist, "inference", "tiny-model.js"));
  const path = ensureTinyModel(config.models_dir);
  process.stdout.write(`model:     ${path} (${TINY_MODEL_NAME})\n`);
}

let agent;
try {
  agent = await startAgent(config, {
    logger,
    version: "npm-start",
    baseEnv: {
      PATH: env.PATH ?? "/usr/bin:/bin",
      HOME: env.HOME ?? config.home,
      LANG: env.LANG ?? "C.UTF-8",
    },
  });
} catch (err) {
  process.stderr.write(`forge-agent: ${err.code ? `${err.code}: ` : ""}${err.message}\n`);
  await collector?.close();
  process.exit(1);
}

const sock = agent.socketPath;
const example = JSON.stringify({
  session_id: "demo",
  prompt: "show me the repo status",
  proposed_action: { kind: "shell", command: "git status --short" },
  execute: true,
});
process.stdout.write(
  [
    `home:      ${config.home}`,
    `socket:    ${agent.socketPath}`,
    `evidence:  ${config.evidence.path}`,
    `logs:      ${logFile}`,
    collector
      ? `dashboard: ${collector.httpUrl}/  (collector ${collector.url})`
      : `collector: ${config.collector_url}`,
    ...(operatorHint ? [`           ${operatorHint}`] : []),
    ...(agent.facadeAddress
      ? [
          "",
          "Ollama API (governed: every tool call passes the gate), for any Ollama client:",
          ...(facadeNote ? [`  note: ${facadeNote}`] : []),
          `  OLLAMA_HOST=http://${agent.facadeAddress}`,
        ]
      : []),
    "",
    "propose an action:",
    `  curl -s --unix-socket ${sock} http://x/v1/actions -d '${example}'`,
    "then:  node bin/forge-agent.js review list   |   node bin/forge-agent.js trace demo",
    "",
    "Ctrl-C stops (evidence is flushed first).",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write("stopping…\n");
  await agent.close();
  await collector?.close();
  logger.flush();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.on("SIGHUP", () => {
  const r = agent.reloadPolicy();
  process.stdout.write(
    r.ok ? `policy reloaded: ${r.bundle.id}@${r.bundle.version}\n` : `policy reload failed: ${r.error}\n`,
  );
});

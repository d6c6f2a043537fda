import { fileURLToPath } from "node:url";
import { agentPaths } from "../agent/client.js";
import { userPaths } from "../agent/config.js";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { shellArg } from "../gate/shell/words.js";
import {
  defaultTarget,
  installService,
  type Plan,
  planInstall,
  planStatus,
  planUninstall,
  resolveServiceSpec,
  type ServiceHost,
  type ServiceSpec,
  type ServiceStatus,
  type ServiceTarget,
  serviceStatus,
  systemHost,
  uninstallService,
} from "../platform/service/index.js";
import { agentState, formatAgent } from "./agent-state.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

const OPTIONS = AGENT.install.flags;

const host: ServiceHost = systemHost();

// dist/src/cli/service.js -> <package root>/bin/forge-agent.js
const SCRIPT = fileURLToPath(new URL("../../../bin/forge-agent.js", import.meta.url));

/** `status` also takes --socket (the agent it asks) and --config (where it finds the agent). */
const STATUS_OPTIONS = AGENT.status.flags;

function specFrom(
  argv: string[],
  processEnv: Env,
  options: typeof OPTIONS | typeof STATUS_OPTIONS = OPTIONS,
): { spec: ServiceSpec; dryRun: boolean; json: boolean } {
  const { values } = parse(argv, options, false);
  let target: ServiceTarget | null;
  if (values.target === undefined) {
    target = defaultTarget(host.platform());
    if (target === null) {
      throw new ForgeError(
        Codes.SERVICE_UNSUPPORTED,
        `no service manager for platform '${host.platform()}'; pass --target launchd|systemd to print a file with --dry-run`,
      );
    }
  } else if (values.target === "launchd" || values.target === "systemd") {
    target = values.target;
  } else {
    throw new UsageError(`--target must be launchd or systemd, got '${values.target}'`);
  }
  const env: Record<string, string> = {};
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got '${kv}'`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const spec = resolveServiceSpec({
    target,
    scope: values.user ? "user" : "system",
    uid: host.uid(),
    homedir: host.homedir(),
    node: process.execPath,
    script: SCRIPT,
    // A --user service's home is the one every command finds (userPaths: $XDG_DATA_HOME honoured).
    home:
      values.home ??
      (values.user ? userPaths(processEnv, target === "launchd" ? "darwin" : "linux").home : undefined),
    config: values.config,
    env,
  });
  return { spec, dryRun: values["dry-run"] === true, json: values.json === true };
}

/** The dry-run text: each file in full, then each command, in the order they would happen. */
export function formatPlan(plan: Plan): string {
  const out: string[] = [
    `# forge-agent ${plan.action} (${plan.spec.target}, ${plan.spec.scope}): dry run, nothing was changed`,
  ];
  for (const step of plan.steps) {
    if (step.kind === "mkdir") out.push(`mkdir -p ${shellArg(step.path)}`);
    else if (step.kind === "remove") out.push(`rm -f ${shellArg(step.path)}`);
    else if (step.kind === "run") out.push([step.cmd, ...step.args].map(shellArg).join(" "));
    else {
      out.push(`# write ${step.path} (mode ${step.mode.toString(8)}):`);
      out.push(`cat > ${shellArg(step.path)} <<'FORGE_EOF'`, step.content.replace(/\n$/, ""), "FORGE_EOF");
      out.push(`chmod ${step.mode.toString(8)} ${shellArg(step.path)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function printPlan(plan: Plan, json: boolean): void {
  if (json)
    printJson({
      dry_run: true,
      action: plan.action,
      target: plan.spec.target,
      scope: plan.spec.scope,
      steps: plan.steps,
    });
  else process.stdout.write(formatPlan(plan));
}

/** `forge-agent install [--user] [--dry-run] [--target launchd|systemd] [--home DIR] [--config FILE] [--env K=V]…` */
export async function install(argv: string[], env: Env): Promise<number> {
  const { spec, dryRun, json } = specFrom(argv, env);
  if (dryRun) {
    printPlan(planInstall(spec), json);
    return 0;
  }
  installService(host, spec);
  if (json) printJson({ installed: true, target: spec.target, scope: spec.scope, path: spec.filePath });
  else
    process.stdout.write(
      `installed ${spec.filePath} and started ${spec.target === "launchd" ? spec.label : "forge-agent.service"}\n`,
    );
  return 0;
}

/** `forge-agent uninstall [--user] [--dry-run] [--target launchd|systemd]` */
export async function uninstall(argv: string[], env: Env): Promise<number> {
  const { spec, dryRun, json } = specFrom(argv, env);
  if (dryRun) {
    printPlan(planUninstall(spec), json);
    return 0;
  }
  uninstallService(host, spec);
  if (json) printJson({ uninstalled: true, target: spec.target, scope: spec.scope, path: spec.filePath });
  else process.stdout.write(`stopped the service and removed ${spec.filePath} (${spec.home} is kept)\n`);
  return 0;
}

function formatStatus(s: ServiceStatus): string[] {
  const lines = [
    `service:   ${s.label} (${s.target}, ${s.scope})`,
    `file:      ${s.path}${s.installed ? "" : " (absent)"}`,
    `loaded:    ${s.loaded ? "yes" : "no"}`,
    `state:     ${s.state ?? "-"}`,
    `pid:       ${s.pid ?? "-"}`,
    `last exit: ${s.last_exit_code ?? "-"}`,
  ];
  return lines;
}

/**
 * `forge-agent status [--socket PATH] [--home DIR] [--config FILE] [--user] [--target launchd|systemd] [--json]`:
 * whether an agent answers (pid, socket, policy, collector, model), found as every command finds
 * it, then the service's state (or why there is none). Exit 0 when it could be read.
 */
export async function status(argv: string[], env: Env): Promise<number> {
  const { values } = parse(argv, STATUS_OPTIONS, false);
  const socket =
    values.socket ??
    agentPaths(env, {
      ...(values.home === undefined ? {} : { home: values.home }),
      ...(values.config === undefined ? {} : { config: values.config }),
    }).socket;
  let service: ServiceStatus | { error: { code: string; message: string } };
  let dryRun = false;
  let json = values.json === true;
  try {
    const from = specFrom(argv, env, STATUS_OPTIONS);
    ({ dryRun, json } = from);
    if (dryRun) {
      printPlan(planStatus(from.spec), json);
      return 0;
    }
    service = serviceStatus(host, from.spec);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    service = {
      error: { code: hasForgeCode(err) ? err.code : "FORGE_INTERNAL", message: (err as Error).message },
    };
  }
  const agent = await agentState(socket);
  if (json) printJson({ ...service, agent });
  else {
    const svc = "error" in service ? [`service:   none (${service.error.message})`] : formatStatus(service);
    process.stdout.write(`${[...formatAgent(agent), ...svc].join("\n")}\n`);
  }
  return 0;
}

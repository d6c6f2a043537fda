import { fileURLToPath } from "node:url";
import { Codes, ForgeError } from "../errors.js";
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
import { parse, printJson, UsageError } from "./args.js";

const OPTIONS = {
  user: { type: "boolean" },
  "dry-run": { type: "boolean" },
  target: { type: "string" },
  home: { type: "string" },
  config: { type: "string" },
  env: { type: "string", multiple: true },
  json: { type: "boolean" },
} as const;

const host: ServiceHost = systemHost();

// dist/src/cli/service.js -> <package root>/bin/forge-agent.js
const SCRIPT = fileURLToPath(new URL("../../../bin/forge-agent.js", import.meta.url));

function specFrom(argv: string[]): { spec: ServiceSpec; dryRun: boolean; json: boolean } {
  const { values } = parse(argv, OPTIONS, false);
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
    home: values.home,
    config: values.config,
    env,
  });
  return { spec, dryRun: values["dry-run"] === true, json: values.json === true };
}

/** POSIX-shell quoting, so a printed command can be pasted. */
function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The dry-run text: each file in full, then each command, in the order they would happen. */
export function formatPlan(plan: Plan): string {
  const out: string[] = [
    `# forge-agent ${plan.action} (${plan.spec.target}, ${plan.spec.scope}): dry run, nothing was changed`,
  ];
  for (const step of plan.steps) {
    if (step.kind === "mkdir") out.push(`mkdir -p ${shellQuote(step.path)}`);
    else if (step.kind === "remove") out.push(`rm -f ${shellQuote(step.path)}`);
    else if (step.kind === "run") out.push([step.cmd, ...step.args].map(shellQuote).join(" "));
    else {
      out.push(`# write ${step.path} (mode ${step.mode.toString(8)}):`);
      out.push(`cat > ${shellQuote(step.path)} <<'FORGE_EOF'`, step.content.replace(/\n$/, ""), "FORGE_EOF");
      out.push(`chmod ${step.mode.toString(8)} ${shellQuote(step.path)}`);
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
export async function install(argv: string[]): Promise<number> {
  const { spec, dryRun, json } = specFrom(argv);
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
export async function uninstall(argv: string[]): Promise<number> {
  const { spec, dryRun, json } = specFrom(argv);
  if (dryRun) {
    printPlan(planUninstall(spec), json);
    return 0;
  }
  uninstallService(host, spec);
  if (json) printJson({ uninstalled: true, target: spec.target, scope: spec.scope, path: spec.filePath });
  else process.stdout.write(`stopped the service and removed ${spec.filePath} (${spec.home} is kept)\n`);
  return 0;
}

function formatStatus(s: ServiceStatus): string {
  const lines = [
    `service:   ${s.label} (${s.target}, ${s.scope})`,
    `file:      ${s.path}${s.installed ? "" : " (absent)"}`,
    `loaded:    ${s.loaded ? "yes" : "no"}`,
    `state:     ${s.state ?? "-"}`,
    `pid:       ${s.pid ?? "-"}`,
    `last exit: ${s.last_exit_code ?? "-"}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** `forge-agent status [--user] [--target launchd|systemd] [--json]`: exit 0 when it could be read. */
export async function status(argv: string[]): Promise<number> {
  const { spec, dryRun, json } = specFrom(argv);
  if (dryRun) {
    printPlan(planStatus(spec), json);
    return 0;
  }
  const s = serviceStatus(host, spec);
  if (json) printJson(s);
  else process.stdout.write(formatStatus(s));
  return 0;
}

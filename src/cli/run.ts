import { hostname } from "node:os";
import { type ConfigFlags, loadConfig } from "../agent/config.js";
import { startAgent } from "../agent/daemon.js";
import { parse } from "./args.js";
import { type Env, version } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/** `forge-agent run`: the daemon in the foreground. SIGTERM/SIGINT stop it gracefully, SIGHUP reloads policies. */
export default async function run(argv: string[], env: Env): Promise<number> {
  const { values } = parse(argv, AGENT.run.flags, false);
  const config = loadConfig({ flags: values as ConfigFlags, env, hostname: hostname() });
  const agent = await startAgent(config, {
    version: version(),
    baseEnv: {
      PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: env.HOME ?? config.home,
      LANG: env.LANG ?? "C.UTF-8",
    },
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      agent.close().then(
        () => resolve(0),
        (err) => {
          process.stderr.write(`forge-agent: error while stopping on ${signal}: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    const hup = () => {
      if (!stopping) agent.reloadPolicy();
    };
    // `on`, not `once`, and kept for the process's life: libraries built on signal-exit (loaded
    // with node-llama-cpp) re-raise a signal when no other listener is left, which would kill us
    // mid-shutdown, before the evidence is flushed.
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", hup);
  });
}

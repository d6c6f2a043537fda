import { dispatch, type Env, type Loaders } from "./dispatch.js";

/** How each forge-collector command is loaded; what it takes is in spec.ts COLLECTOR. */
const LOADERS: Loaders = {
  run: () => import("./collector-run.js"),
  policy: () => import("./collector-policy.js"),
  tls: () => import("./collector-tls.js"),
  operator: () => import("./collector-operator.js"),
  completion: () => import("./completion.js").then((m) => ({ default: m.command("forge-collector") })),
};

/** Runs one forge-collector invocation and returns its exit code. */
export function main(argv: string[], env: Env): Promise<number> {
  return dispatch("forge-collector", LOADERS, argv, env);
}

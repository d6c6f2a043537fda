import { dispatch, type Env, type Loaders } from "./dispatch.js";

export { type Command, type Env, version } from "./dispatch.js";

/** How each forge-agent command is loaded; what it takes (flags, usage, help) is in spec.ts AGENT. */
const LOADERS: Loaders = {
  run: () => import("./run.js"),
  init: () => import("./init.js"),
  doctor: () => import("./doctor.js"),
  check: () => import("./check.js"),
  policy: () => import("./policy.js"),
  review: () => import("./review.js"),
  trace: () => import("./trace.js"),
  state: () => import("./state.js"),
  session: () => import("./session.js"),
  drift: () => import("./drift.js"),
  train: () => import("./train.js"),
  eval: () => import("./eval.js"),
  promote: () => import("./promote.js"),
  lineage: () => import("./lineage.js"),
  verify: () => import("./verify.js"),
  hook: () => import("./hook.js"),
  mcp: () => import("./mcp.js"),
  metrics: () => import("./metrics.js"),
  install: () => import("./service.js").then((m) => ({ default: m.install })),
  uninstall: () => import("./service.js").then((m) => ({ default: m.uninstall })),
  status: () => import("./service.js").then((m) => ({ default: m.status })),
  registry: () => import("./registry.js"),
  bench: () => import("./bench.js"),
  completion: () => import("./completion.js").then((m) => ({ default: m.command("forge-agent") })),
};

/** Runs one forge-agent invocation and returns its exit code. */
export function main(argv: string[], env: Env): Promise<number> {
  return dispatch("forge-agent", LOADERS, argv, env);
}

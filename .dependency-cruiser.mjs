/**
 * The import rules of docs/architecture.md, as dependency-cruiser rules. `npm test` runs them
 * (test/architecture/deps.test.ts); `npx depcruise src bench --config .dependency-cruiser.mjs` prints them.
 *
 * COMPONENTS is the table: for each folder (or shared file) under src/, the other parts of the
 * repository it may import. Anything else in src/ or bench/ is a violation named
 * `<component>-imports-only-its-row`. npm packages and node builtins are not restricted here.
 */

/** Shared leaves: one file each, imported by every component. */
const LEAVES = ["errors.ts", "http.ts", "config.ts"];

/** component → what it may import besides itself (folders under src/, or LEAVES). */
export const COMPONENTS = {
  "errors.ts": [],
  "http.ts": ["errors.ts"],
  "config.ts": ["errors.ts"],
  // The agent ↔ collector wire: both sides import it, it imports neither.
  protocol: ["errors.ts"],
  // The native boundary, metrics, service files: a leaf.
  platform: ["errors.ts"],
  // Pure, synchronous decisions. The native shell parser is the one edge still imported (issue 11, step 7).
  gate: ["errors.ts", "protocol", "platform/native.ts"],
  // Serves the agent (store, key, verifier, shipper), never the reverse.
  evidence: ["errors.ts", "protocol", "platform"],
  inference: ["errors.ts", "http.ts", "protocol", "platform", "gate", "evidence"],
  // Meets the agent only in protocol.
  collector: ["errors.ts", "http.ts", "config.ts", "protocol", "platform", "drift"],
  // Composition root of the daemon.
  agent: [
    "errors.ts",
    "http.ts",
    "config.ts",
    "protocol",
    "platform",
    "gate",
    "evidence",
    "inference",
    "training",
    "registry",
    "lifecycle",
    "drift",
    "integrations",
  ],
  // Phase 2 (DESIGN.md "Phase 2"): their rows are here before their code.
  registry: ["errors.ts", "http.ts", "protocol", "platform"],
  training: ["errors.ts", "config.ts", "protocol", "platform", "gate", "evidence", "registry"],
  lifecycle: [
    "errors.ts",
    "config.ts",
    "protocol",
    "platform",
    "gate",
    "evidence",
    "inference",
    "registry",
    "training",
  ],
  // Runs on the agent and on the collector: only what both may import.
  drift: ["errors.ts", "protocol", "platform"],
  // The MCP gateway and agent hooks: they reach a running agent through its socket client only.
  integrations: [
    "errors.ts",
    "http.ts",
    "config.ts",
    "protocol",
    "platform",
    "gate",
    "evidence",
    "inference",
    "agent/client.ts",
  ],
};

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A path regex for a component or an allowed target: a folder, a leaf file, or one file in a folder. */
const pathOf = (name) => (name.endsWith(".ts") ? `^src/${esc(name)}$` : `^src/${esc(name)}/`);

const rows = Object.entries(COMPONENTS).map(([name, allowed]) => ({
  name: `${name.replace(/\.ts$/, "")}-imports-only-its-row`,
  comment: `${name} may import ${allowed.length === 0 ? "nothing else in src/" : allowed.join(", ")} (docs/architecture.md)`,
  severity: "error",
  from: { path: pathOf(name) },
  to: { path: "^(src|bench)/", pathNot: [pathOf(name), ...allowed.map(pathOf)] },
}));

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    ...rows,
    {
      name: "nothing-imports-cli",
      comment: "src/cli is the commands' composition root: nothing but cli imports it",
      severity: "error",
      from: { pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "bench-imports-src-not-cli",
      comment: "benchmarks drive the components, not the commands",
      severity: "error",
      from: { path: "^bench/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "src-imports-only-src-and-bench",
      comment: "src/ never imports test/ or scripts/ (cli/bench.ts runs bench/)",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|scripts)/" },
    },
    {
      name: "every-file-has-a-row",
      comment: "a new folder under src/ gets its row in COMPONENTS (and docs/architecture.md) first",
      severity: "error",
      from: {
        path: "^src/",
        pathNot: [
          ...Object.keys(COMPONENTS).map(pathOf),
          "^src/cli/",
          ...LEAVES.map(pathOf),
        ],
      },
      to: {},
    },
    {
      name: "no-circular",
      comment: "a cycle of static runtime imports hides the layering (type-only and dynamic imports are not loads at start)",
      severity: "error",
      from: {},
      to: {
        circular: true,
        dependencyTypesNot: ["type-only", "dynamic-import"],
        viaOnly: { dependencyTypesNot: ["type-only", "dynamic-import"] },
      },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/collector/dashboard/static/" },
    includeOnly: "^(src|bench)/",
  },
};

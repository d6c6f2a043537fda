/**
 * The import rules of docs/architecture.md, as dependency-cruiser rules. `npm test` runs them
 * (test/architecture/deps.test.ts); `npx depcruise src bench --config .dependency-cruiser.mjs` prints them.
 *
 * COMPONENTS is the table: for each folder (or shared file) under src/, the other parts of the
 * repository it may import. Anything else in src/ or bench/ is a violation named
 * `<component>-imports-only-its-row`. npm packages and node builtins are not restricted here.
 */

/** component → what it may import besides itself (folders under src/, or the shared files beside them). */
export const COMPONENTS = {
  "errors.ts": [],
  "http.ts": ["errors.ts"],
  "config.ts": ["errors.ts"],
  // The agent ↔ collector wire: both sides import it, it imports neither.
  protocol: ["errors.ts"],
  // The native boundary, metrics, service files: a leaf.
  platform: ["errors.ts"],
  // Pure, synchronous decisions: the core. Its edges (GATE_EDGES) wire the native parser and read policy files.
  gate: ["errors.ts", "protocol"],
  // Serves the agent (store, key, verifier, shipper), never the reverse.
  evidence: ["errors.ts", "protocol", "platform"],
  inference: ["errors.ts", "http.ts", "protocol", "platform", "gate", "evidence"],
  // Meets the agent only in protocol.
  // lifecycle/lineage.ts is pure over records (it imports protocol only): the collector walks the fleet's copy.
  collector: ["errors.ts", "http.ts", "config.ts", "protocol", "platform", "drift", "lifecycle/lineage.ts"],
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
  // Phase 2 (docs/design.md "Phase 2"): their rows are here before their code.
  registry: ["errors.ts", "http.ts", "protocol", "platform"],
  training: ["errors.ts", "config.ts", "protocol", "platform", "gate", "evidence", "inference", "registry"],
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

/**
 * The gate's edges: they build what the core is given (the native parser binding, policy files
 * read from disk) and may import platform/native.ts; the core may import only its types.
 */
export const GATE_EDGES = ["gate/index.ts", "gate/policy-files.ts"];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A path regex for a component or an allowed target: a folder, a leaf file, or one file in a folder. */
const pathOf = (name) => (name.endsWith(".ts") ? `^src/${esc(name)}$` : `^src/${esc(name)}/`);

/** A forbidden arrow: an import from `from` to `to` is an error named `name`. */
const rule = (name, comment, from, to) => ({ name, comment, severity: "error", from, to });

const NATIVE_TYPES = pathOf("platform/native.ts");
const rows = Object.entries(COMPONENTS).map(([name, allowed]) =>
  rule(
    `${name.replace(/\.ts$/, "")}-imports-only-its-row`,
    `${name} may import ${allowed.length === 0 ? "nothing else in src/" : allowed.join(", ")} (docs/architecture.md)`,
    name === "gate" ? { path: pathOf(name), pathNot: GATE_EDGES.map(pathOf) } : { path: pathOf(name) },
    {
      path: "^(src|bench)/",
      pathNot: [pathOf(name), ...allowed.map(pathOf), ...(name === "gate" ? [NATIVE_TYPES] : [])],
    },
  ),
);
const gateRules = [
  rule(
    "gate-core-imports-only-native-types",
    "the gate's core may import platform/native.ts for its types only: the parser binding is passed in",
    { path: pathOf("gate"), pathNot: GATE_EDGES.map(pathOf) },
    { path: NATIVE_TYPES, dependencyTypesNot: ["type-only"] },
  ),
  rule(
    "gate-edges-import-only-their-row",
    "the gate's edges may import the gate, errors.ts, protocol and platform/native.ts",
    { path: GATE_EDGES.map(pathOf) },
    { path: "^(src|bench)/", pathNot: ["gate", "errors.ts", "protocol", "platform/native.ts"].map(pathOf) },
  ),
];

const STATIC = ["type-only", "dynamic-import"];

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    ...rows,
    ...gateRules,
    rule(
      "nothing-imports-cli",
      "src/cli is the commands' composition root: nothing but cli imports it (bench/ neither)",
      { pathNot: "^src/cli/" },
      { path: "^src/cli/" },
    ),
    rule(
      "every-file-has-a-row",
      "a new folder under src/ gets its row in COMPONENTS (and docs/architecture.md) first",
      { path: "^src/", pathNot: ["^src/cli/", ...Object.keys(COMPONENTS).map(pathOf)] },
      {},
    ),
    rule(
      "no-circular",
      "a cycle of static runtime imports hides the layering (type-only and dynamic imports load nothing at start)",
      {},
      { circular: true, dependencyTypesNot: STATIC, viaOnly: { dependencyTypesNot: STATIC } },
    ),
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/collector/dashboard/static/" },
    includeOnly: "^(src|bench)/",
  },
};

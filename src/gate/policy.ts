/**
 * Policy files → a compiled, indexed bundle. Validation errors name the file, the line and the fix.
 * Reading files happens here, at load time; the decision path (gate.ts) never touches the disk.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { Codes, didYouMean, ForgeError } from "../errors.js";
import type { BundleRef, Effect } from "./decision.js";
import { compilePathMatcher, PathClass, type PathMatcher } from "./path-matcher.js";
import { compilePathGlob, compileWordGlob, compileWordGlobs } from "./paths.js";
import type { SandboxProfile } from "./sandbox-profile.js";
import { KNOWN_KEYS, type MatchSpec, PolicyFileSchema, type RuleSpec, type TestSpec } from "./schema.js";
import { parseYamlDoc } from "./yaml-doc.js";

export interface CompiledWhen {
  labels: string[] | null;
  labelsAll: string[] | null;
  labelsNone: string[] | null;
  count: { key: string; withinMs: number | null; gte: number } | null;
}

/** One rule, ready to match: globs compiled once, at load. */
export interface CompiledRule {
  id: string;
  description: string;
  effect: Effect;
  risk: number;
  labels: string[];
  when: CompiledWhen | null;
  kinds: string[];
  program: RegExp[] | null;
  /** The program list as written (expanded), for the index. */
  programNames: string[] | null;
  /** Programs a shell subject must not be (`program_not`). */
  programNot: RegExp[] | null;
  /**
   * Leading operands, as sequences of word globs: the one-word patterns in one regex for the first
   * operand, and each several-word pattern (`pr list`) one regex per operand.
   */
  subcommand: RegExp[][] | null;
  flags: string[] | null;
  flagsAll: string[] | null;
  flagsNone: string[] | null;
  args: RegExp[] | null;
  /** Exact argvs (words after the program, joined by a space). */
  argv: string[] | null;
  paths: PathMatcher | null;
  /** With `paths`: a path that also matches one of these does not count. */
  pathsExcept: PathMatcher | null;
  pathsWithin: PathMatcher | null;
  pathsOutside: PathMatcher | null;
  programPath: PathMatcher | null;
  /** The sandbox profile an action this rule allows runs under; null: the policy's default. */
  sandbox: string | null;
  writes: PathMatcher | null;
  writesOutside: PathMatcher | null;
  hosts: RegExp[] | null;
  hostsNot: RegExp[] | null;
  urls: PathMatcher | null;
  methods: string[] | null;
  schemes: string[] | null;
  domains: RegExp[] | null;
  domainsNot: RegExp[] | null;
  tool: RegExp[] | null;
  arguments: [string, RegExp][] | null;
  pipedFrom: RegExp[] | null;
  via: RegExp[] | null;
  /** Shell: a mode the command sets has the setuid or setgid bit. */
  modeSetid: boolean;
  repositories: RegExp[] | null;
  pinned: boolean | null;
  signed: boolean | null;
  purpose: string[] | null;
  datasetUnpinned: boolean;
  datasetSourcesNot: RegExp[] | null;
  baseModelsNot: RegExp[] | null;
  budgetOver: [string, number][] | null;
  /** Where it was written, for messages. */
  file: string;
  line: number;
}

export interface PolicyTestCase {
  file: string;
  line: number;
  index: number;
  spec: TestSpec;
}

/** A validated, compiled policy: what a Gate evaluates against. Immutable once built. */
export interface PolicyBundle {
  ref: BundleRef;
  defaultEffect: Effect;
  riskThreshold: number;
  rules: readonly CompiledRule[];
  /** `kind\0program` (shell rules naming exact programs) and `kind\0*` → rules. */
  index: ReadonlyMap<string, readonly CompiledRule[]>;
  tests: readonly PolicyTestCase[];
  files: readonly string[];
  /** Sandbox profiles by name, and the one for rules that name none (null: the built-in profile). */
  sandbox: { default: string | null; profiles: Readonly<Record<string, SandboxProfile>> };
  /** What a loader should say but that does not stop the load (a policy with no tests). */
  warnings: readonly string[];
  /** True when a file says `extends: default` (the default pack's files are in `files`, first). */
  extendsDefault: boolean;
}

/** The default pack's source, read by the I/O layer for `extends: default`. */
export interface BaseSource {
  text: string;
  path: string;
  sha256: string;
}

export const DEFAULT_RISK_THRESHOLD = 80;

interface ParsedFile {
  file: string;
  data: ReturnType<typeof PolicyFileSchema.parse>;
  lineOf: (path: (string | number)[]) => number;
}

function invalid(message: string, details?: Record<string, unknown>): ForgeError {
  return new ForgeError(Codes.POLICY_INVALID, message, details ? { details } : undefined);
}

/** Parses and validates one policy file's text; throws FORGE_POLICY_INVALID with file:line. */
function parseFile(text: string, file: string): ParsedFile {
  const name = basename(file);
  const { js, lineOf, keyLine } = parseYamlDoc(text, file, name, invalid);
  const r = PolicyFileSchema.safeParse(js);
  if (!r.success) {
    // A misspelt key is usually why a required one is missing: report it first.
    const issue = r.error.issues.find((i) => i.code === "unrecognized_keys") ?? r.error.issues[0]!;
    const path = issue.path as (string | number)[];
    const where = describe(js, path);
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0]!;
      const line = keyLine(path, key) ?? lineOf(path);
      const known = KNOWN_KEYS[shapeOf(path)] ?? [];
      const guess = closest(key, known);
      const fix = guess ? `did you mean '${guess}'?` : `known fields: ${known.join(", ")}`;
      throw invalid(`unknown field '${key}' ${where} (${name}:${line}): ${fix}`, { file, line, field: key });
    }
    const line = lineOf(path);
    const hint = issue.message.includes("received null")
      ? ` (an empty value or a bare ~ is null in YAML: quote it, e.g. "~")`
      : "";
    const field = path.length
      ? `field '${path.filter((p) => typeof p === "string").slice(-1)[0] ?? path.join(".")}' `
      : "";
    throw invalid(`${field}${where} (${name}:${line}): ${issue.message}${hint}`, {
      file,
      line,
      path: path.map(String),
    });
  }
  return { file, data: r.data, lineOf };
}

/** "in rule 'ssh-keys'", "in test #3 'curl pipe'", "in 'defaults'", "at the top level". */
function describe(js: unknown, path: (string | number)[]): string {
  const root = js as { rules?: { id?: unknown }[]; tests?: { name?: unknown }[] };
  if (path[0] === "rules" && typeof path[1] === "number") {
    const id = root.rules?.[path[1]]?.id;
    return typeof id === "string" ? `in rule '${id}'` : `in rule #${path[1] + 1}`;
  }
  if (path[0] === "tests" && typeof path[1] === "number") {
    const n = root.tests?.[path[1]]?.name;
    return `in test #${path[1] + 1}${typeof n === "string" ? ` '${n}'` : ""}`;
  }
  if (path.length > 0 && typeof path[0] === "string") return `in '${path[0]}'`;
  return "at the top level";
}

function shapeOf(path: (string | number)[]): string {
  const last = path[path.length - 1];
  if (path.length === 0) return "top";
  if (path[0] === "rules" && path.length === 2) return "rule";
  if (path[0] === "tests" && path.length === 2) return "test";
  if (last === "match" || last === "when" || last === "count" || last === "bundle" || last === "defaults")
    return last;
  return "top";
}

/** The known name closest to `word`, if it is close enough to be a typo. */
export const closest = didYouMean;

const PROGRAM_FIELDS_SHELL_ONLY = [
  "program",
  "program_path",
  "subcommand",
  "flags",
  "flags_none",
  "flags_all",
  "args",
  "argv",
  "piped_from",
  "via",
  "mode_setid",
] as const;

const TRAINING_FIELDS = [
  "dataset_unpinned",
  "dataset_sources_not",
  "base_models_not",
  "budget_over",
] as const;

function compileRule(
  spec: RuleSpec,
  pf: ParsedFile,
  i: number,
  lists: Map<string, string[]>,
  matchers: Map<string, PathMatcher>,
  classes: Map<string, PathClass>,
): CompiledRule {
  const name = basename(pf.file);
  const m = spec.match;
  const at = (field: string) => pf.lineOf(["rules", i, "match", field]);
  const expand = (field: keyof MatchSpec): string[] | null => {
    const v = m[field] as string[] | undefined;
    if (v === undefined) return null;
    const out: string[] = [];
    for (const s of v) {
      if (s.startsWith("@")) {
        const list = lists.get(s.slice(1));
        if (!list) {
          const guess = closest(s.slice(1), [...lists.keys()]);
          throw invalid(
            `unknown list '${s}' in rule '${spec.id}' (${name}:${at(field)}): ${guess ? `did you mean '@${guess}'?` : "define it under 'lists:'"}`,
            { file: pf.file, line: at(field) },
          );
        }
        out.push(...list);
      } else out.push(s);
    }
    return out;
  };
  if (!m.kind.includes("shell")) {
    for (const f of PROGRAM_FIELDS_SHELL_ONLY) {
      if (m[f] !== undefined) {
        throw invalid(
          `field '${f}' in rule '${spec.id}' (${name}:${at(f)}) only applies to kind 'shell': add 'shell' to 'kind' or remove '${f}'`,
          { file: pf.file, line: at(f) },
        );
      }
    }
  }
  if (!m.kind.some((k) => k === "model.pull" || k === "model.push")) {
    for (const f of ["repositories", "pinned", "signed", "purpose"] as const) {
      if (m[f] !== undefined) {
        throw invalid(
          `field '${f}' in rule '${spec.id}' (${name}:${at(f)}) only applies to kinds 'model.pull' and 'model.push'`,
          { file: pf.file, line: at(f) },
        );
      }
    }
  }
  if (!m.kind.includes("training.run")) {
    for (const f of TRAINING_FIELDS) {
      if (m[f] !== undefined) {
        throw invalid(
          `field '${f}' in rule '${spec.id}' (${name}:${at(f)}) only applies to kind 'training.run': add 'training.run' to 'kind' or remove '${f}'`,
          { file: pf.file, line: at(f) },
        );
      }
    }
  }
  const guard =
    <T>(field: string, f: (g: string) => T) =>
    (g: string): T => {
      try {
        return f(g);
      } catch (err) {
        throw invalid(
          `bad pattern '${g}' in rule '${spec.id}' (${name}:${at(field)}): ${(err as Error).message}`,
          {
            file: pf.file,
            line: at(field),
          },
        );
      }
    };
  // Each glob is checked alone (for a message naming the bad one), then the list is compiled into
  // one alternation per field (one trie per base, for paths): one test per value at decision time.
  const words = (field: keyof MatchSpec, ci = false): RegExp[] | null => {
    const l = expand(field);
    if (!l) return null;
    l.forEach(guard(field, (g) => compileWordGlob(g, ci)));
    return [compileWordGlobs(l, ci)];
  };
  // `subcommand: [test, "pr list"]`: `test` names the first operand, `pr list` the first two.
  const subcommands = (): RegExp[][] | null => {
    const l = expand("subcommand");
    if (!l) return null;
    l.forEach(guard("subcommand", (g) => compileWordGlob(g)));
    const one = l.filter((g) => !g.includes(" "));
    const seqs = l
      .filter((g) => g.includes(" "))
      .map((g) =>
        g
          .split(" ")
          .filter(Boolean)
          .map((w) => compileWordGlob(w)),
      );
    return one.length > 0 ? [[compileWordGlobs(one)], ...seqs] : seqs;
  };
  const pathGlobs = (field: keyof MatchSpec): PathMatcher | null => {
    const l = expand(field);
    if (!l) return null;
    l.forEach(guard(field, compilePathGlob));
    // One matcher per distinct list: rules naming the same list share it (and its compile).
    const key = l.join("\0");
    let pm = matchers.get(key);
    if (pm === undefined) {
      // Its path classes: each list it names, and its own globs (path-matcher.ts PathClass).
      const raw = m[field] as string[];
      const parts = raw.filter((s) => s.startsWith("@")).map((s) => lists.get(s.slice(1))!);
      const own = raw.filter((s) => !s.startsWith("@"));
      if (own.length > 0) parts.push(own);
      pm = compilePathMatcher(
        l,
        parts.map((g) => {
          const k = g.join("\0");
          let c = classes.get(k);
          if (c === undefined) {
            c = new PathClass(g);
            classes.set(k, c);
          }
          return c;
        }),
      );
      matchers.set(key, pm);
    }
    return pm;
  };
  if (m.paths_except && !m.paths) {
    const line = pf.lineOf(["rules", i, "match", "paths_except"]);
    throw invalid(
      `'paths_except' in rule '${spec.id}' (${name}:${line}) only narrows 'paths': add 'paths' (e.g. "~/**")`,
      { file: pf.file, line },
    );
  }
  let when: CompiledWhen | null = null;
  if (spec.when) {
    const w = spec.when;
    const c = w.count;
    if (c && (c.rule === undefined) === (c.kind === undefined)) {
      const line = pf.lineOf(["rules", i, "when", "count"]);
      throw invalid(
        `'when.count' in rule '${spec.id}' (${name}:${line}) needs exactly one of 'rule' or 'kind'`,
        {
          file: pf.file,
          line,
        },
      );
    }
    when = {
      labels: w.labels ?? null,
      labelsAll: w.labels_all ?? null,
      labelsNone: w.labels_none ?? null,
      count: c
        ? {
            key: c.rule ? `rule:${c.rule}` : `kind:${c.kind}`,
            withinMs: c.within_s ? c.within_s * 1000 : null,
            gte: c.gte,
          }
        : null,
    };
  }
  return {
    id: spec.id,
    description: spec.description ?? "",
    effect: spec.effect,
    risk: spec.risk,
    labels: spec.labels ?? [],
    when,
    kinds: m.kind,
    program: words("program"),
    programNames: expand("program"),
    programNot: words("program_not"),
    subcommand: subcommands(),
    flags: expand("flags"),
    flagsAll: expand("flags_all"),
    flagsNone: expand("flags_none"),
    args: words("args"),
    argv: m.argv ?? null,
    paths: pathGlobs("paths"),
    pathsExcept: pathGlobs("paths_except"),
    pathsWithin: pathGlobs("paths_within"),
    pathsOutside: pathGlobs("paths_outside"),
    programPath: pathGlobs("program_path"),
    writes: pathGlobs("writes"),
    writesOutside: pathGlobs("writes_outside"),
    hosts: words("hosts", true),
    hostsNot: words("hosts_not", true),
    urls: pathGlobs("urls"),
    methods: expand("methods")?.map((s) => s.toUpperCase()) ?? null,
    schemes: expand("schemes")?.map((s) => s.toLowerCase()) ?? null,
    domains: words("domains", true),
    domainsNot: words("domains_not", true),
    tool: words("tool"),
    arguments: m.arguments
      ? Object.entries(m.arguments).map(([k, g]) => [k, compileWordGlob(g)] as [string, RegExp])
      : null,
    pipedFrom: words("piped_from"),
    via: words("via"),
    modeSetid: m.mode_setid === true,
    repositories: words("repositories"),
    pinned: m.pinned ?? null,
    signed: m.signed ?? null,
    purpose: expand("purpose"),
    sandbox: spec.sandbox ?? null,
    datasetUnpinned: m.dataset_unpinned === true,
    datasetSourcesNot: words("dataset_sources_not"),
    baseModelsNot: words("base_models_not"),
    budgetOver: m.budget_over
      ? Object.entries(m.budget_over).map(([k, v]) => [k, v] as [string, number])
      : null,
    file: pf.file,
    line: pf.lineOf(["rules", i]),
  };
}

/** Builds the bundle from parsed files (one file, or a directory's files in name order). */
function compile(
  files: ParsedFile[],
  sha256: string,
  fallbackId: string,
  baseFiles: ReadonlySet<string> = new Set(),
): PolicyBundle {
  let bundleDecl: { id: string; version: number } | null = null;
  let bundleFrom: string | null = null;
  let defaultsFrom: string | null = null;
  let defaultEffect: Effect = "escalate";
  let riskThreshold = DEFAULT_RISK_THRESHOLD;
  const lists = new Map<string, string[]>();
  const profiles: Record<string, SandboxProfile> = {};
  let sandboxDefault: string | null = null;
  for (const pf of files) {
    const d = pf.data;
    if (d.sandbox) {
      for (const [name, p] of Object.entries(d.sandbox.profiles)) {
        if (name in profiles)
          throw invalid(
            `sandbox profile '${name}' is defined twice (${basename(pf.file)}:${pf.lineOf(["sandbox", "profiles", name])})`,
          );
        profiles[name] = Object.freeze(p);
      }
      if (d.sandbox.default !== undefined) sandboxDefault = d.sandbox.default;
    }
    if (d.bundle) {
      // The extending file names the bundle; the pack's own name gives way.
      if (bundleDecl && !baseFiles.has(bundleFrom ?? "")) {
        throw invalid(
          `'bundle' is declared twice (${basename(pf.file)}:${pf.lineOf(["bundle"])}): keep it in one file`,
        );
      }
      bundleDecl = d.bundle;
      bundleFrom = pf.file;
    }
    if (d.defaults) {
      // A file that extends the pack may override the pack's defaults (not another file's).
      if (defaultsFrom && !baseFiles.has(defaultsFrom)) {
        throw invalid(
          `'defaults' is declared in ${basename(defaultsFrom)} and again (${basename(pf.file)}:${pf.lineOf(["defaults"])}): keep it in one file`,
        );
      }
      defaultsFrom = pf.file;
      defaultEffect = d.defaults.effect ?? defaultEffect;
      riskThreshold = d.defaults.risk_threshold ?? riskThreshold;
    }
    for (const [k, v] of Object.entries(d.lists ?? {})) {
      const had = lists.get(k);
      if (had && baseFiles.size > 0 && !baseFiles.has(pf.file)) {
        // Extending the pack: a list of the same name adds to the pack's.
        lists.set(k, [...new Set([...had, ...v])]);
        continue;
      }
      if (had)
        throw invalid(`list '${k}' is defined twice (${basename(pf.file)}:${pf.lineOf(["lists", k])})`);
      lists.set(k, v);
    }
  }
  const rules: CompiledRule[] = [];
  const matchers = new Map<string, PathMatcher>();
  const classes = new Map<string, PathClass>();
  const seen = new Map<string, string>();
  const tests: PolicyTestCase[] = [];
  for (const pf of files) {
    pf.data.rules.forEach((spec, i) => {
      const where = `${basename(pf.file)}:${pf.lineOf(["rules", i])}`;
      const prev = seen.get(spec.id);
      if (prev)
        throw invalid(`rule id '${spec.id}' is used twice (${prev} and ${where}): rule ids must be unique`);
      seen.set(spec.id, where);
      rules.push(compileRule(spec, pf, i, lists, matchers, classes));
    });
    pf.data.tests.forEach((spec, i) => {
      tests.push({ file: pf.file, line: pf.lineOf(["tests", i]), index: i, spec });
    });
  }
  for (const r of rules) {
    const ref = r.when?.count?.key;
    if (ref?.startsWith("rule:") && !seen.has(ref.slice(5))) {
      throw invalid(
        `'when.count.rule' in rule '${r.id}' (${basename(r.file)}:${r.line}) names unknown rule '${ref.slice(5)}'`,
      );
    }
  }
  // Profile hosts may name lists ("@trusted_hosts"), as match fields do.
  for (const [name, p] of Object.entries(profiles)) {
    const hosts: string[] = [];
    for (const h of p.network.hosts) {
      if (!h.startsWith("@")) {
        hosts.push(h);
        continue;
      }
      const l = lists.get(h.slice(1));
      if (l === undefined)
        throw invalid(`sandbox profile '${name}' names unknown list '${h}' in network.hosts`);
      hosts.push(...l);
    }
    profiles[name] = Object.freeze({ ...p, network: Object.freeze({ ...p.network, hosts }) });
  }
  const known = Object.keys(profiles);
  const unknownProfile = (name: string, where: string) => {
    const near = didYouMean(name, known);
    return invalid(
      `${where} names sandbox profile '${name}', which 'sandbox.profiles' does not define${near ? `: did you mean '${near}'?` : ""}`,
    );
  };
  if (sandboxDefault !== null && !(sandboxDefault in profiles))
    throw unknownProfile(sandboxDefault, "'sandbox.default'");
  for (const r of rules) {
    if (r.sandbox !== null && !(r.sandbox in profiles))
      throw unknownProfile(r.sandbox, `rule '${r.id}' (${basename(r.file)}:${r.line})`);
  }
  const index = new Map<string, CompiledRule[]>();
  const put = (key: string, r: CompiledRule) => {
    const l = index.get(key);
    if (l) l.push(r);
    else index.set(key, [r]);
  };
  for (const r of rules) {
    for (const kind of r.kinds) {
      // Shell rules go under each program they name exactly; a rule naming a program glob (or none)
      // goes under `*`, which every command of that kind consults.
      const names = kind === "shell" ? r.programNames : null;
      if (names?.every((n) => !/[*?{]|\[.*\]/.test(n)))
        for (const n of new Set(names)) put(`${kind}\0${n}`, r);
      else put(`${kind}\0*`, r);
    }
  }
  const ref: BundleRef = { id: bundleDecl?.id ?? fallbackId, version: bundleDecl?.version ?? 0, sha256 };
  const own = files.filter((f) => !baseFiles.has(f.file));
  const warnings: string[] = [];
  if (own.length > 0 && own.every((f) => f.data.tests.length === 0))
    warnings.push(
      `${own.map((f) => basename(f.file)).join(", ")} ${own.length === 1 ? "has" : "have"} no tests: add 'tests:' cases (commands it must ALLOW, ESCALATE and DENY) so that a change which breaks the policy is caught${baseFiles.size > 0 ? " (only the default pack's tests ran)" : ""}`,
    );
  return Object.freeze({
    ref: Object.freeze(ref),
    defaultEffect,
    riskThreshold,
    rules,
    index,
    tests,
    files: files.map((f) => f.file),
    sandbox: Object.freeze({ default: sandboxDefault, profiles: Object.freeze(profiles) }),
    warnings,
    extendsDefault: baseFiles.size > 0,
  });
}

/** Compiles one policy file's text (no embedded tests run; see loadPolicyText in index.ts). */
export function compilePolicyText(text: string, filename: string): PolicyBundle {
  const sha = createHash("sha256").update(text).digest("hex");
  return compilePolicySources([{ text, path: filename }], sha, basename(filename).replace(/\.ya?ml$/, ""));
}

/**
 * Compiles policy files already read (policy-files.ts reads them from disk): `sources` in order,
 * `sha256` the bundle's hash over their bytes, `id` the bundle id unless a file declares one.
 */
export function compilePolicySources(
  sources: readonly { text: string; path: string }[],
  sha256: string,
  id: string,
  base?: () => BaseSource,
): PolicyBundle {
  const parsed = sources.map((f) => parseFile(f.text, f.path));
  const ext = parsed.find((f) => f.data.extends === "default");
  if (ext === undefined) return compile(parsed, sha256, id);
  if (base === undefined)
    throw invalid(
      `${basename(ext.file)}:${ext.lineOf(["extends"])}: 'extends: default' needs the default pack, which this loader has no access to`,
    );
  const b = base();
  const pack = parseFile(b.text, b.path);
  if (pack.data.extends !== undefined)
    throw invalid(`${basename(b.path)}: the default pack cannot itself extend`);
  // The bundle's hash covers the pack it extends: a pack upgrade is a policy change.
  const sha = createHash("sha256").update(`${sha256}\0extends:default\0${b.sha256}`).digest("hex");
  return compile([pack, ...parsed], sha, id, new Set([pack.file]));
}

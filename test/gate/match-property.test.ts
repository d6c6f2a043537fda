import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { matchRule, projectWrapper, type Subject, shellSubject } from "../../src/gate/gate.js";
import { meetSet, meetsSet, shellWord } from "../../src/gate/glob-meet.js";
import {
  defaultPolicyPath,
  initGate,
  loadPolicy,
  type PolicyBundle,
  parseShell,
} from "../../src/gate/index.js";
import type { PathMatcher } from "../../src/gate/path-matcher.js";
import { compilePathGlob, matchPathGlob, matchPathGlobUnder, type PathGlob } from "../../src/gate/paths.js";
import type { CompiledRule } from "../../src/gate/policy.js";

/**
 * Issue 18 target 1: matchRule was rewritten without its per-call closures (`weak`, `and`,
 * `weakW` and the `.some` arrows were a third of the bytes a shell line allocated). The version it
 * replaced is kept here as the oracle: on every rule of the default pack, against subjects from
 * generated shell lines (their dynamic and dynamic-write bits also flipped) and generated
 * structured subjects, the two give the same NO / MAYBE / YES. The oracle tests a rule's path
 * lists glob by glob (compilePathGlob + matchPathGlob), as the gate did before the compiled
 * PathMatcher: so this also holds the matcher to the old answers on every rule.
 */
const NO = 0;
const MAYBE = 1;
const YES = 2;

const anyRe = (res: RegExp[], v: string) => {
  for (const re of res) if (re.test(v)) return true;
  return false;
};

/** A rule's path list as the per-glob regexes it was before the compiled matcher (the oracle's). */
const each = new WeakMap<PathMatcher, PathGlob[]>();
function globsOf(m: PathMatcher): PathGlob[] {
  let l = each.get(m);
  if (l === undefined) {
    l = m.globs.map((g) => compilePathGlob(g));
    each.set(m, l);
  }
  return l;
}

function anyPath(m: PathMatcher, paths: string[], home: string, cwd: string): boolean {
  for (const p of paths) for (const g of globsOf(m)) if (matchPathGlob(g, p, home, cwd)) return true;
  return false;
}

/**
 * Glob words (`cp src/*.ts ~` writes `~/*.ts`) against a list, as the gate meets them: the meet
 * itself has its own property test against brute force (glob-meet.test.ts); this holds the
 * gate's use of it (which words, which lists, paths_except) to the same answers.
 */
const sets = new WeakMap<PathMatcher, ReturnType<typeof meetSet>>();
function meets(m: PathMatcher, words: readonly string[], home: string, cwd: string): boolean {
  if (words.length === 0) return false;
  // One home and one workspace in these tests: a list's set is built once.
  let set = sets.get(m);
  if (set === undefined) {
    set = meetSet(m.globs, home, cwd, true);
    sets.set(m, set);
  }
  const built = set;
  if (words.some((w) => meetsSet(built, shellWord(w)))) return true;
  // gate49: a word with no `*` meets the patterns at any depth too.
  let all = allSets.get(m);
  if (all === undefined) {
    all = meetSet(m.globs, home, cwd, false);
    allSets.set(m, all);
  }
  const every = all;
  return words.some((w) => !w.includes("*") && meetsSet(every, shellWord(w)));
}
const allSets = new Map<PathMatcher, ReturnType<typeof meetSet>>();
/** The glob words a paths_except rule still sees: not those whose fixed directory it excepts. */
function outside(words: readonly string[], except: PathMatcher, home: string, cwd: string): string[] {
  return words.filter((w) => {
    const g = w.search(/[*?[]/);
    const dir = g < 0 ? w : w.slice(0, w.lastIndexOf("/", g));
    return dir === "" || w.slice(g).includes("/..") || !anyPath(except, [dir], home, cwd);
  });
}

/** Tri-state AND over the rule's criteria: NO, MAYBE (dynamic input could match), YES. */
function matchBefore(r: CompiledRule, sub: Subject, home: string): number {
  let res: number = YES;
  const c = sub.cmd;
  const dyn = sub.dynamic;
  const weak = (ok: boolean): number => (ok ? YES : dyn ? MAYBE : NO);
  const and = (t: number): boolean => {
    if (t < res) res = t;
    return res === NO;
  };
  if (r.program && (sub.program === "" || !anyRe(r.program, sub.program))) return NO;
  if (r.programNot && sub.kind === "shell" && anyRe(r.programNot, sub.program)) return NO;
  if (c) {
    if (r.subcommand) {
      // The best sequence of leading operands; within one, the worst position.
      const t = Math.max(
        ...r.subcommand.map((seq) =>
          Math.min(
            ...seq.map((re, i) => {
              const o = c.operands[i];
              return o === undefined ? NO : o.value === null ? MAYBE : re.test(o.value) ? YES : NO;
            }),
          ),
        ),
      );
      if (and(t)) return NO;
    }
    if (r.flags && and(weak(r.flags.some((f) => c.flags.has(f))))) return NO;
    if (r.flagsNone && and(weak(!r.flagsNone.some((f) => c.flags.has(f))))) return NO;
    if (r.flagsAll && and(weak(r.flagsAll.every((f) => c.flags.has(f))))) return NO;
    if (r.args && and(weak(c.operands.some((o) => o.value !== null && anyRe(r.args!, o.value))))) return NO;
    if (r.argv) {
      // The whole argv, or nothing: a dynamic word might be anything, so it is no exact match.
      if (c.words.some((w) => w.value === null)) return NO;
      if (!r.argv.includes(c.words.map((w) => w.value).join(" "))) return NO;
    }
    if (r.pipedFrom && !c.feeders.some((f) => anyRe(r.pipedFrom!, f))) return NO;
    if (r.via && !c.via.some((v) => anyRe(r.via!, v))) return NO;
    // gate65: a mode only known at run time ("maybe") might set the bit.
    if (r.modeSetid && and(c.setid === true ? YES : c.setid === "maybe" ? MAYBE : NO)) return NO;
  } else if (
    r.program ||
    r.subcommand ||
    r.flags ||
    r.flagsAll ||
    r.flagsNone ||
    r.args ||
    r.argv ||
    r.pipedFrom ||
    r.via ||
    r.modeSetid
  )
    return NO;
  if (r.paths) {
    // paths_except (issue 19 §1): a path that also matches these does not count.
    const ex = r.pathsExcept;
    const hit = ex
      ? sub.paths.some((p) => anyPath(r.paths!, [p], home, sub.cwd) && !anyPath(ex, [p], home, sub.cwd))
      : anyPath(r.paths, sub.paths, home, sub.cwd);
    const globs = c?.globs ? (ex ? outside(c.globs, ex, home, sub.cwd) : c.globs) : [];
    if (and(weak(hit || meets(r.paths, globs, home, sub.cwd)))) return NO;
  }
  if (r.pathsWithin) {
    const all = sub.paths.every((p) =>
      globsOf(r.pathsWithin!).some((g) => matchPathGlob(g, p, home, sub.cwd)),
    );
    // Dynamic words might name a path outside: not proven, so at best MAYBE.
    if (and(all ? (dyn ? MAYBE : YES) : NO)) return NO;
  }
  if (
    r.pathsOutside &&
    and(
      weak(sub.paths.some((p) => !globsOf(r.pathsOutside!).some((g) => matchPathGlob(g, p, home, sub.cwd)))),
    )
  ) {
    return NO;
  }
  // gate60: a workspace's build-tool wrapper is matched by no rule by its path.
  if (
    r.programPath &&
    !(c?.path && !projectWrapper(c.path, sub.cwd) && anyPath(r.programPath, [c.path], home, sub.cwd))
  )
    return NO;
  // Only a redirect target makes a write, so only a dynamic target leaves a write rule undecided.
  const weakW = (ok: boolean): number => (ok ? YES : sub.dynamicWrites ? MAYBE : NO);
  // A tree a line writes (an extraction's DEST/**, issue 19 §3) meets a write rule whose glob lies under it.
  const under = (m: PathMatcher) =>
    c?.trees?.some((d) => globsOf(m).some((g) => matchPathGlobUnder(g, d, home, sub.cwd))) === true;
  if (
    r.writes &&
    and(
      weakW(
        anyPath(r.writes, sub.writes, home, sub.cwd) ||
          meets(r.writes, c?.globWrites ?? [], home, sub.cwd) ||
          under(r.writes),
      ),
    )
  )
    return NO;
  if (
    r.writesOutside &&
    and(
      weakW(
        sub.writes.some((p) => !globsOf(r.writesOutside!).some((g) => matchPathGlob(g, p, home, sub.cwd))),
      ),
    )
  ) {
    return NO;
  }
  if (r.hosts && and(weak(sub.hosts.some((h) => anyRe(r.hosts!, h))))) return NO;
  if (r.hostsNot && and(weak(sub.hosts.some((h) => !anyRe(r.hostsNot!, h))))) return NO;
  if (r.urls && and(weak(anyPath(r.urls, sub.urls, home, sub.cwd)))) return NO;
  if (r.methods && !(sub.method !== null && r.methods.includes(sub.method))) return NO;
  if (r.schemes && !(sub.scheme !== null && r.schemes.includes(sub.scheme))) return NO;
  if (r.domains && !sub.domains.some((d) => anyRe(r.domains!, d))) return NO;
  if (r.domainsNot && !sub.domains.some((d) => !anyRe(r.domainsNot!, d))) return NO;
  if (r.tool && !(sub.tool !== null && anyRe(r.tool, sub.tool))) return NO;
  if (r.repositories || r.pinned !== null || r.signed !== null || r.purpose) {
    const art = sub.artifact;
    if (!art) return NO;
    if (r.repositories && !anyRe(r.repositories, art.repository)) return NO;
    if (r.pinned !== null && art.pinned !== r.pinned) return NO;
    if (r.signed !== null && art.signed !== r.signed) return NO;
    if (r.purpose && !r.purpose.includes(art.purpose)) return NO;
  }
  if (r.datasetUnpinned || r.datasetSourcesNot || r.baseModelsNot || r.budgetOver) {
    const t = sub.training;
    if (t === null) return NO;
    if (r.datasetUnpinned && t.datasetPinned) return NO;
    if (r.datasetSourcesNot && anyRe(r.datasetSourcesNot, t.datasetSource)) return NO;
    if (r.baseModelsNot && (t.baseModel === null || anyRe(r.baseModelsNot, t.baseModel))) return NO;
    if (
      r.budgetOver &&
      !r.budgetOver.some(([k, limit]) => (t.budgets[k] ?? Number.POSITIVE_INFINITY) > limit)
    )
      return NO;
  }
  if (r.arguments) {
    const args = sub.args ?? {};
    for (const [k, re] of r.arguments) {
      const v = args[k];
      if (v === undefined) return NO;
      if (!re.test(typeof v === "string" ? v : JSON.stringify(v))) return NO;
    }
  }
  return res;
}

const HOME = "/Users/dev";
const CWD = `${HOME}/project`;
let bundle: PolicyBundle;
let rules: readonly CompiledRule[];

beforeAll(async () => {
  await initGate();
  bundle = loadPolicy(defaultPolicyPath());
  rules = bundle.rules;
});

const word = fc.constantFrom(
  "-rf",
  "-la",
  "-n",
  "--force",
  "-c",
  "-o",
  "out.txt",
  "~/.ssh/id_rsa",
  "~/.aws/credentials",
  ".env",
  "/etc/passwd",
  "/etc/shadow",
  "src/*.ts",
  "~/Library/LaunchAgents/x.plist",
  ".git/hooks/pre-commit",
  "package.json",
  "https://example.com/x.sh",
  "https://api.github.com/repos",
  "user@host.example:repo",
  "$HOME/.bashrc",
  "$X",
  "$(id)",
  '"$TOKEN"',
  "{a,b}.txt",
  "push",
  "log",
  "install",
  "run",
  "build",
  "origin",
  "main",
  "0755",
  "u+s",
  "4755",
  ".",
  "/",
  "~",
  "-exec",
  "{}",
  "\\;",
);
const program = fc.constantFrom(
  "cat",
  "ls",
  "rm",
  "cp",
  "mv",
  "git",
  "npm",
  "curl",
  "wget",
  "sh",
  "bash",
  "python3",
  "node",
  "find",
  "chmod",
  "tee",
  "ssh",
  "scp",
  "docker",
  "kubectl",
  "sudo",
  "env",
  "xargs",
  "echo",
  "base64",
  "nc",
  "make",
  "./run.sh",
  "/usr/bin/env",
  "$CMD",
);
const command = fc
  .tuple(
    program,
    fc.array(word, { maxLength: 5 }),
    fc.option(fc.constantFrom("> out.txt", ">> ~/.zshrc", "> $F", "2>/dev/null", "< in.txt"), {
      nil: undefined,
    }),
  )
  .map(([p, ws, redir]) => [p, ...ws, ...(redir ? [redir] : [])].join(" "));
const line = fc
  .tuple(fc.array(command, { minLength: 1, maxLength: 3 }), fc.constantFrom(" | ", " && ", "; ", " || "))
  .map(([cs, sep]) => cs.join(sep));

const text = fc.constantFrom(
  "",
  "a",
  "x.example.com",
  "api.github.com",
  "GET",
  "POST",
  "read_file",
  "deploy_production",
);
const structured = fc.record({
  kind: fc.constantFrom("file.read", "file.write", "file.delete", "http", "email.send", "tool", "shell"),
  paths: fc.array(
    fc.constantFrom(`${HOME}/.ssh/id_rsa`, `${CWD}/src/a.ts`, "/etc/hosts", `${CWD}/.env`, "/tmp/x"),
    { maxLength: 3 },
  ),
  writes: fc.array(fc.constantFrom(`${HOME}/.zshrc`, `${CWD}/out.txt`, "/tmp/x"), { maxLength: 2 }),
  hosts: fc.array(fc.constantFrom("example.com", "api.github.com", "collect.example.net", "127.0.0.1"), {
    maxLength: 2,
  }),
  urls: fc.array(
    fc.constantFrom(
      "/api.github.com/repos/me/app/collaborators/x",
      "/api.github.com/repos/me/app/issues",
      "/example.com/a",
    ),
    { maxLength: 2 },
  ),
  dynamic: fc.boolean(),
  dynamicWrites: fc.boolean(),
  method: fc.option(fc.constantFrom("GET", "POST", "PUT"), { nil: null }),
  scheme: fc.option(fc.constantFrom("https", "http", "file"), { nil: null }),
  domains: fc.array(fc.constantFrom("example.com", "gmail.com", "corp.example"), { maxLength: 2 }),
  tool: fc.option(text, { nil: null }),
});

function agree(sub: Subject): void {
  for (const r of rules) {
    const want = matchBefore(r, sub, HOME);
    const got = matchRule(r, sub, HOME);
    if (got !== want)
      expect({ rule: r.id, text: sub.text, got }).toEqual({ rule: r.id, text: sub.text, got: want });
  }
}

describe("matchRule (no closures) equals the version it replaced", () => {
  it("on shell subjects from generated lines, every default-pack rule", () => {
    fc.assert(
      fc.property(line, fc.boolean(), fc.boolean(), (l, flipDyn, flipW) => {
        const parsed = parseShell(l, CWD, HOME);
        for (const c of parsed.commands) {
          const sub = shellSubject(c, CWD);
          agree(sub);
          if (flipDyn || flipW)
            agree({
              ...sub,
              dynamic: flipDyn ? !sub.dynamic : sub.dynamic,
              dynamicWrites: flipW ? !sub.dynamicWrites : sub.dynamicWrites,
            });
        }
      }),
      { numRuns: 3000, seed: 1830 },
    );
  });

  it("on generated structured subjects (no command), every default-pack rule", () => {
    fc.assert(
      fc.property(structured, (s) => {
        agree({
          ...s,
          cmd: null,
          program: "",
          cwd: CWD,
          args: null,
          artifact: null,
          training: null,
          text: `${s.kind} subject`,
          endpoint: null,
        });
      }),
      { numRuns: 3000, seed: 1831 },
    );
  });

  it("a subject that writes nothing is NO for every rule naming writes or writes_outside", () => {
    // perf42: decide consults an index without these rules for such a subject (gate.ts readIndex).
    // The same subjects with a write (or a dynamic one) reach YES or MAYBE on some of them.
    const writeRules = rules.filter((r) => r.writes !== null || r.writesOutside !== null);
    expect(writeRules.length).toBeGreaterThan(10);
    const reached = new Set<number>();
    fc.assert(
      fc.property(line, fc.constantFrom(`${CWD}/.git/hooks/pre-commit`, "/etc/x", ""), (l, w) => {
        for (const c of parseShell(l, CWD, HOME).commands) {
          const sub = shellSubject(c, CWD);
          const quiet = {
            ...sub,
            writes: [],
            dynamicWrites: false,
            cmd: { ...c, writes: [], globWrites: undefined, trees: undefined },
          };
          for (const r of writeRules) expect([r.id, matchRule(r, quiet, HOME)]).toEqual([r.id, NO]);
          const writing =
            w === ""
              ? { ...quiet, dynamicWrites: true }
              : { ...quiet, writes: [w], cmd: { ...quiet.cmd, writes: [w] } };
          for (const r of writeRules) reached.add(matchRule(r, writing, HOME));
        }
      }),
      { numRuns: 1000, seed: 1842 },
    );
    expect(reached.has(YES) || reached.has(MAYBE)).toBe(true);
  });

  it("the oracle is not vacuous: the generated subjects reach YES, MAYBE and NO", () => {
    const seen = new Set<number>();
    fc.assert(
      fc.property(line, (l) => {
        for (const c of parseShell(l, CWD, HOME).commands)
          for (const r of rules) seen.add(matchBefore(r, shellSubject(c, CWD), HOME));
      }),
      { numRuns: 500, seed: 1832 },
    );
    expect([...seen].sort()).toEqual([NO, MAYBE, YES]);
  });
});

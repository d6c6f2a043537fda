/**
 * The built-in rules that guard the governor itself: evaluated before any policy pack, and no
 * policy can allow what they deny (a deny outranks every allow). The daemon injects what to
 * protect (paths resolved with realpath at config time); everything here is pure string work.
 */

import { canonicalHost, classifyHost, endpointOf, isInternal } from "./hosts.js";
import { collapse, foldPath, stripProcRoot, unalias } from "./paths.js";
import { propertyKind } from "./program-keys.js";
import type { SimpleCommand } from "./shell/index.js";
import { DATABASE_CLIENTS } from "./shell/queries.js";

/** What no action may touch. Paths are absolute; the daemon passes both their lexical and realpath forms. */
export interface ProtectedResources {
  /** No access at all (read, write, list, connect, link to) to these or anything below. A trailing `*` protects every path with that prefix (`evidence.db*` → -wal, -shm). */
  paths: readonly string[];
  /** No write, delete, chmod, move or link over these (reading is fine): the agent's own code. */
  readOnly: readonly string[];
  /** Distinctive file names (the socket, the review token): any mention in a command, script or argument is DENY. */
  names: readonly string[];
  /** The agent's processes: no signal, trace, or /proc access. */
  pids: readonly number[];
  /** Process groups of the agent (`kill -- -PGID`). */
  pgids: readonly number[];
  /** Process names a pattern-kill (`pkill`, `killall`) must not match. */
  processNames: readonly string[];
  /** `host:port` the agent itself talks to or serves: the collector (and its review API), the facade. */
  endpoints: readonly { host: string; port: number }[];
}

export const NO_PROTECTION: ProtectedResources = {
  paths: [],
  readOnly: [],
  names: [],
  pids: [],
  pgids: [],
  processNames: [],
  endpoints: [],
};

export interface Finding {
  rule:
    | "protected-resource"
    | "process-secrets"
    | "env-injection"
    | "internal-address"
    | "untrusted-program"
    | "git-repo"
    | "session-artefact"
    | "cloud-metadata"
    | "self-clear"
    | "header-injection"
    | "credential-literal"
    | "network-upload"
    | "network-data"
    | "dependency-source"
    | "review-control"
    | "arrived-tree"
    | "decompress-download"
    | "carried-command";
  /** allow: the finding only labels the session (`labels`); its reason says why. */
  effect: "deny" | "escalate" | "allow";
  reason: string;
  labels?: string[];
}

/** Built-in rule ids as they appear in `policy_matched` (prefixed so no pack rule can collide). */
export const BUILTIN_PREFIX = "builtin:";

/**
 * Variables in an action's `env` that change which program runs or what it loads. A policy
 * could never see what they do, so they are refused outright (the line itself may still set
 * them, where the shell walker judges them).
 */
/**
 * Variables that make an allowed build tool, test runner or interpreter load or run other code,
 * use another toolchain, or talk to another host (issue 19 §3, red31's code-runner-flags): each
 * names the program that reads it. Joined into ENV_INJECTION below.
 */
const TOOL_LOADERS = [
  "MAKEFILES", // make: extra makefiles read before the project's
  "RUSTFLAGS", // cargo/rustc: -C linker=PROG, -Z plugins
  "RUSTC_WORKSPACE_WRAPPER", // cargo: a program run in place of rustc
  "RUSTUP_TOOLCHAIN", // rustup: a toolchain directory whose cargo/rustc run
  "RUSTUP_HOME",
  "JAVA_HOME", // gradle, mvn, ant, sbt: $JAVA_HOME/bin/java runs
  "JAVA_OPTS", // JVM options (-XX:OnOutOfMemoryError=PROG, -javaagent)
  "GRADLE_OPTS",
  "GRADLE_USER_HOME", // gradle: init.d/*.gradle scripts run on every build
  "ANT_OPTS",
  "MAVEN_OPTS",
  "MAVEN_ARGS",
  "SBT_OPTS",
  "GOROOT", // go: $GOROOT/bin/go and its tools run
  "GOENV", // go: a file of GOFLAGS (-toolexec=PROG) and friends
  // gate56: where go fetches modules from and whether it checks them (go help module-auth,
  // go help private): another checksum database (a host it asks, whose answers it trusts), none
  // (off), modules exempt from it or from the proxy (fetched from their origin unchecked), plain
  // HTTP, the version-control tools it may run. GOPROXY and GOFLAGS (-insecure) are named above.
  "GOSUMDB",
  "GONOSUMDB",
  "GONOSUMCHECK",
  "GOINSECURE",
  "GOPRIVATE",
  "GONOPROXY",
  "GOVCS",
  "PYTEST_ADDOPTS", // pytest: -p MODULE imports a plugin
  "PYTEST_PLUGINS",
  "PYTHONWARNINGS", // python: a category ignore::mod.Class imports mod
  "TOX_OVERRIDE", // tox: testenv.commands
  "UV_PYTHON", // uv: the interpreter it runs
  "UV_CONFIG_FILE", // uv: indexes, build settings
  "RIPGREP_CONFIG_PATH", // rg: --pre=PROG
  "PHPRC", // php: php.ini with auto_prepend_file
  "PHP_INI_SCAN_DIR",
  "LUA_INIT(?:_5_[1-4])?", // lua: code or @file run at start
  "ERL_AFLAGS", // erl, mix, elixir: -eval CODE
  "ERL_ZFLAGS",
  "ERL_FLAGS",
  "ELIXIR_ERL_OPTIONS",
  "MIX_EXS", // mix: the project file it runs
  "CCC_OVERRIDE_OPTIONS", // clang: edits its own arguments (`+-fplugin=P`)
  "OCAMLPARAM", // ocaml compilers: extra options (ppx=P)
  "LDSHARED", // python setup.py build_ext: the linker program
  "LDCXXSHARED",
  "PKG_CONFIG", // configure, meson, cargo build scripts: the pkg-config program run
  "TOOLCHAINS", // xcrun: the toolchain whose clang, swift, ld run
  "CMAKE_TOOLCHAIN_FILE", // cmake: a script run at configure
  "CMAKE_PROJECT_INCLUDE(?:_BEFORE)?",
  "SYSTEM_WGETRC", // wget: post_file=, use_askpass=
  "SWIFT_EXEC", // swift build: the compiler it runs
  "DEVELOPER_DIR", // xcodebuild, xcrun: the Xcode whose tools run
  "DOTNET_STARTUP_HOOKS", // dotnet: assemblies run before main
  "DOTNET_ROOT",
  "COREPACK_NPM_REGISTRY", // corepack: where the package manager is downloaded from
  "OLLAMA_HOST", // ollama: where prompts and files are sent
  "HOMEBREW_[A-Z_]*GIT_REMOTE", // brew update: the repository brew (or a tap) is pulled from, then run
  "HOMEBREW_(?:API|BOTTLE|ARTIFACT)_DOMAIN", // brew: where formulae and bottles come from
  "RUSTUP_DIST_SERVER", // rustup: where toolchains are downloaded from, then run
  "RUSTUP_UPDATE_ROOT",
  "BAZELISK_BASE_URL", // bazelisk: where the bazel it runs is downloaded from
  "BAT_CONFIG_PATH", // bat: a config file of flags (--pager=PROG)
  "DOCKER_CONFIG", // docker: config.json's cliPluginsExtraDirs, credsStore and helpers are programs it runs
  "COMPOSE_FILE", // docker compose: the compose file it runs (as -f)
  "COMPOSE_PROJECT_NAME", // docker compose: the project whose containers and volumes it acts on (as -p)
  "GH_HOST", // gh: the host its requests (and that host's token) go to
  "GH_REPO", // gh: the repository a `gh pr create` writes to (gate60: another one than the checkout names)
  "AWS_ENDPOINT_URL(?:_[A-Z0-9_]+)?", // aws: the endpoint its signed requests go to (--endpoint-url)
  "AWS_CA_BUNDLE", // aws: the certificates it trusts (--ca-bundle)
  "CLOUDSDK_API_ENDPOINT_OVERRIDES_[A-Z0-9_]+", // gcloud: an API's endpoint
];

const ENV_INJECTION = new RegExp(
  `^(PATH|LD_[A-Z0-9_]+|DYLD_[A-Z0-9_]+|BASH_ENV|ENV|PROMPT_COMMAND|IFS|PS4|SHELLOPTS|BASHOPTS|BASH_FUNC_.*|CDPATH|GLOBIGNORE|ZDOTDIR|NODE_OPTIONS|NODE_PATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|PERLLIB|RUBYOPT|RUBYLIB|LESSOPEN|LESSCLOSE|GCONV_PATH|HOSTALIASES|LOCPATH|MALLOC_[A-Z_]+|GIT_(SSH|SSH_COMMAND|EXEC_PATH|CONFIG_[A-Z0-9_]+|CONFIG|CONFIG_GLOBAL|CONFIG_SYSTEM|PAGER|EDITOR|SEQUENCE_EDITOR|ASKPASS|EXTERNAL_DIFF|PROXY_COMMAND|TEMPLATE_DIR|DIR|WORK_TREE)|SSH_ASKPASS|SUDO_ASKPASS|EDITOR|VISUAL|PAGER|MANPAGER|SYSTEMD_PAGER|BROWSER|RSYNC_RSH|PYTHONPATH|PYTHONUSERBASE|PYTHONEXECUTABLE|PYTHONBREAKPOINT|PIP_[A-Z0-9_]+|UV_[A-Z0-9_]*INDEX[A-Z0-9_]*|HOME|XDG_CONFIG_HOME|XDG_DATA_HOME|CURL_HOME|WGETRC|CC|CXX|LD|AR|CPP|RUSTC|RUSTC_WRAPPER|RUSTDOCFLAGS|CARGO_[A-Z0-9_]+|GOFLAGS|GOPROXY|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|MANOPT|BAT_PAGER|GH_PAGER|DELTA_PAGER|DOCKER_HOST|KUBECONFIG|(ALL|HTTPS?|FTP)_PROXY|GEM_HOME|GEM_PATH|BUNDLE_GEMFILE|LUA_C?PATH|TCLLIBPATH|COMPOSER_HOME)$|^(?:${TOOL_LOADERS.join("|")})$|^(npm_config_|yarn_|bun_config_)|_proxy$`,
  "i",
);

/** Credential formats with a recognisable shape (provider prefixes, PEM private keys). */
const CREDENTIAL_SHAPES: [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}/, "a GitHub token"],
  [/\bgithub_pat_[A-Za-z0-9_]{30,}/, "a GitHub token"],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\bsk-(ant-|proj-)?[A-Za-z0-9_-]{20,}/, "an API secret key"],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, "a Google API key"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
];

/** Every shape at once: one scan of the text in the common case (no credential). */
const CREDENTIAL_ANY = new RegExp(CREDENTIAL_SHAPES.map(([re]) => re.source).join("|"));

/**
 * An ESCALATE finding when the action's text carries a credential literal (a token in a URL, a
 * header, a command line): whoever receives it can use it, so a person decides.
 */
export function credentialFinding(text: string): Finding | null {
  if (text.length > 65_536) text = text.slice(0, 65_536);
  if (!CREDENTIAL_ANY.test(text)) return null;
  for (const [re, what] of CREDENTIAL_SHAPES)
    if (re.test(text))
      return {
        rule: "credential-literal",
        effect: "escalate",
        reason: `credential-literal: the action carries what looks like ${what}`,
      };
  return null;
}

/** True when setting `name` changes which program runs or what it loads (the action's env and the line's assignments). */
export function injectsEnv(name: string): boolean {
  // gate54: a name whose parts say it names a program, a compiler's program directory or a
  // toolchain's home (COMPILER_PATH, GCC_EXEC_PREFIX, PUPPETEER_EXECUTABLE_PATH, CHROME_BIN,
  // MSBuild's CscToolPath, which MSBuild takes from the environment as a property).
  return ENV_INJECTION.test(name) || (name.length > 2 && propertyKind(name) === "program");
}

/** DENY findings for variables of an action's env that inject code or change program lookup. */
export function envFindings(env: Readonly<Record<string, string>> | undefined): Finding[] {
  if (env === undefined) return [];
  const out: Finding[] = [];
  for (const k of Object.keys(env)) {
    if (injectsEnv(k) || k.includes("=") || k.includes("\0")) {
      out.push({
        rule: "env-injection",
        effect: "deny",
        reason: `env-injection: '${k}' in the action's env changes which program runs or what it loads: remove it (set variables inside the command, where the gate judges them)`,
      });
    }
  }
  return out;
}

const PROC_OPAQUE =
  /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/(?:cwd|fd|map_files)(?:\/|$)|^\/dev\/fd\//;
const PROC_SECRET =
  /^\/proc\/(\d+)(?:\/task\/\d+)?\/(environ|mem|maps|smaps|smaps_rollup|pagemap|auxv|syscall|stack|cmdline|fd|fdinfo|map_files|cwd|exe|root|mountinfo)(?:\/|$)/;

/**
 * A path with its kernel aliases taken out: `/proc/self/root/etc/x` and `/proc/42/root/etc/x`
 * are `/etc/x`; on macOS `/private/var/x` is `/var/x` and `/Volumes/Macintosh HD/x` is `/x` (unalias). Folded
 * (foldPath) and lower-cased, since APFS makes `~/.SSH`, `~/.sſh` and NFD spellings the same file (a
 * false match is a DENY, never an ALLOW).
 */
export function canonicalPath(abs: string): string {
  for (let i = 0; i < KEPT; i++) if (asked[i] === abs) return answers[i]!;
  const c = foldPath(unalias(stripProcRoot(collapse(abs)))).toLowerCase();
  asked[next] = abs;
  answers[next] = c;
  next = (next + 1) % KEPT;
  return c;
}

/**
 * canonicalPath's answers for the last KEPT paths asked (it is pure): an action asks for each of
 * its paths several times (protected resources, its artefacts' spellings, their lookups), so each
 * is folded once (issue 18). A ring compared by ===, no hashing: most asks are of a path just asked.
 */
const KEPT = 8;
const asked: (string | undefined)[] = new Array<string | undefined>(KEPT).fill(undefined);
const answers: string[] = new Array<string>(KEPT).fill("");
let next = 0;

/** True when `p` (canonical) is `prot` (canonical, maybe ending in `*`) or below it. */
function within(p: string, prot: string): boolean {
  if (prot.endsWith("*")) return startsWithHead(p, prot, prot.length - 1);
  return (
    p === prot || (p.length > prot.length && p.startsWith(prot) && (prot === "/" || p[prot.length] === "/"))
  );
}

/** True when `p` is a proper ancestor directory of `prot` (removing or moving it takes `prot` along). */
function ancestorOf(p: string, prot: string): boolean {
  // The directory a `dir/name*` pattern lies in, or the path: `base` is a prefix of `prot`.
  const base = prot.endsWith("*") ? prot.lastIndexOf("/") : prot.length;
  return p === "/" || (base > p.length && prot.startsWith(p) && prot[p.length] === "/");
}

/** `p.startsWith(q.slice(0, n))`, without the slice (this runs for every path of every command). */
function startsWithHead(p: string, q: string, n: number): boolean {
  if (p.length < n) return false;
  for (let i = 0; i < n; i++) if (p.charCodeAt(i) !== q.charCodeAt(i)) return false;
  return true;
}

/** What the text search looks for, for one set of protected paths and names and one cwd. */
interface Needles {
  cwd: string;
  /** Each protected path without its `*`, and its spelling relative to the cwd (null: not below it). */
  paths: { needle: string; rel: string | null }[];
  names: { name: string; low: string }[];
}

function sameNames(n: Needles, names: readonly string[]): boolean {
  if (n.names.length !== names.length) return false;
  for (let i = 0; i < names.length; i++) if (n.names[i]!.name !== names[i]) return false;
  return true;
}

/** The last Needles built for a protected-path list: the cwd seldom changes between actions. */
const NEEDLES = new WeakMap<readonly string[], Needles>();

function needlesFor(canonPaths: readonly string[], names: readonly string[], cwd: string): Needles {
  const had = NEEDLES.get(canonPaths);
  if (had !== undefined && had.cwd === cwd && sameNames(had, names)) return had;
  const low = cwd.toLowerCase();
  const n: Needles = {
    cwd,
    paths: canonPaths.map((q) => {
      const needle = q.endsWith("*") ? q.slice(0, -1) : q;
      // Also the spelling relative to the cwd: `var/agent.sock` from the workspace.
      return { needle, rel: needle.startsWith(`${low}/`) ? needle.slice(low.length + 1) : null };
    }),
    names: names.map((name) => ({ name, low: name.toLowerCase() })),
  };
  NEEDLES.set(canonPaths, n);
  return n;
}

/** Programs that change, move or remove the files they name (an ancestor of a protected path included). */
const MUTATORS = new Set([
  "rm",
  "rmdir",
  "mv",
  "cp",
  "chmod",
  "chown",
  "chgrp",
  "chattr",
  "chflags",
  "shred",
  "srm",
  "unlink",
  "truncate",
  "touch",
  "ln",
  "install",
  "tee",
  "dd",
  "rsync",
  "sed",
  "perl",
  "tar",
  "unzip",
  "mount",
  "umount",
  "setfacl",
  "xattr",
  "find",
  "git",
]);
const KILLERS = new Set(["kill", "skill", "tkill", "killpg"]);
const PATTERN_KILLERS = new Set(["pkill", "killall", "pgrep", "pidof", "snice"]);
const TRACERS = new Set([
  "gdb",
  "lldb",
  "strace",
  "ltrace",
  "perf",
  "gcore",
  "pstack",
  "eu-stack",
  "dtrace",
  "dtruss",
  "sample",
  "spindump",
  "criu",
  "pmap",
  "pwdx",
  "lsof",
  "prlimit",
  "renice",
  "taskset",
  "ionice",
  "chrt",
  "bpftrace",
  "reptyr",
  "procdump",
  "gdbserver",
  "valgrind",
  "node",
]);

/** Adds one finding (no closures per call in protectFindings). */
function push(out: Finding[], effect: Finding["effect"], rule: Finding["rule"], reason: string): void {
  out.push({ rule, effect, reason });
}

/** The first of `prots` that `p` is or lies below, or undefined. */
function firstWithin(p: string, prots: readonly string[]): string | undefined {
  for (const q of prots) if (within(p, q)) return q;
  return undefined;
}

/** The first of `prots` that `p` is a proper ancestor of, or undefined. */
function firstAncestor(p: string, prots: readonly string[]): string | undefined {
  for (const q of prots) if (ancestorOf(p, q)) return q;
  return undefined;
}

/** The first of `prots` that `p` is, lies below, or is a proper ancestor of, or undefined. */
function firstAncestorOrWithin(p: string, prots: readonly string[]): string | undefined {
  for (const q of prots) if (within(p, q) || ancestorOf(p, q)) return q;
  return undefined;
}

/** The resources an action touches, gathered once per subject by the gate. */
export interface Touches {
  /** Absolute paths named (operands, redirect targets, file.* path, tool arguments). */
  paths: readonly string[];
  /** Absolute paths written. */
  writes: readonly string[];
  /** Hosts (already canonical or raw: canonicalised again here). */
  hosts: readonly string[];
  /** Text to search for protected names and paths (the command line, a written file's content, argument strings). */
  text: string;
  /** Words, for host:port endpoints (URLs, `nc host port`, socat addresses). */
  words: readonly string[];
  /** The shell command, when the subject is one. */
  cmd: SimpleCommand | null;
  /** Endpoints already parsed (an `http` action's URL). */
  endpoints?: readonly { host: string; port: number }[];
  /** The action kind. */
  kind: string;
  cwd: string;
}

/**
 * The built-in verdicts for one subject: protected paths, the agent's processes, its endpoints,
 * other processes' secrets under /proc, internal addresses. Empty when nothing applies.
 */
export function protectFindings(
  t: Touches,
  prot: ProtectedResources,
  canonPaths: readonly string[],
  canonRO: readonly string[],
): Finding[] {
  const out: Finding[] = [];
  const cmd = t.cmd;
  const mutating =
    t.kind === "file.write" || t.kind === "file.delete" || (cmd !== null && MUTATORS.has(cmd.program));
  for (const raw of t.paths) {
    const p = canonicalPath(raw);
    const hit = firstWithin(p, canonPaths);
    if (hit !== undefined) {
      push(
        out,
        "deny",
        "protected-resource",
        `protected-resource: '${raw}' is the agent's own state (${hit.replace(/\*$/, "")}): no action may touch it`,
      );
      continue;
    }
    if (mutating) {
      const anc = firstAncestor(p, canonPaths) ?? firstAncestorOrWithin(p, canonRO);
      if (anc !== undefined) {
        push(
          out,
          "deny",
          "protected-resource",
          `protected-resource: '${raw}' holds the agent's own state or code (${anc.replace(/\*$/, "")}): no action may change it`,
        );
        continue;
      }
    }
    if (!p.startsWith("/proc/") && !p.startsWith("/dev/")) continue;
    const s = PROC_SECRET.exec(p);
    if (s !== null && !prot.pids.includes(Number(s[1]))) {
      push(
        out,
        "deny",
        "process-secrets",
        `process-secrets: '${raw}' exposes another process's ${s[2]}: no action may read it`,
      );
    } else if (s !== null || (prot.pids.length > 0 && prot.pids.some((pid) => within(p, `/proc/${pid}`)))) {
      push(out, "deny", "protected-resource", `protected-resource: '${raw}' is the agent's own process`);
    } else if (PROC_OPAQUE.test(p)) {
      push(
        out,
        "escalate",
        "protected-resource",
        `protected-resource: '${raw}' goes through a process's cwd or file descriptors: the gate cannot tell what it names`,
      );
    }
    const dev = /^\/dev\/(?:tcp|udp)\/([^/]+)\/(\d+)/.exec(p);
    if (dev) hostFindings(out, [dev[1]!], [{ host: canonicalHost(dev[1]!), port: Number(dev[2]) }], prot);
  }
  for (const raw of t.writes) {
    const p = canonicalPath(raw);
    const hit = firstWithin(p, canonRO);
    if (hit !== undefined && !out.some((f) => f.rule === "protected-resource" && f.effect === "deny"))
      push(
        out,
        "deny",
        "protected-resource",
        `protected-resource: '${raw}' is the agent's own code (${hit}): no action may change it`,
      );
  }
  // Names and absolute paths anywhere in the text: a script, a heredoc, `socat UNIX-CONNECT:…`.
  if (t.text.length > 0) {
    // Case-folded only where it is cheap; a long text is searched as written.
    const low = t.text.length <= 1 << 16 ? t.text.toLowerCase() : t.text;
    const nd = needlesFor(canonPaths, prot.names, t.cwd);
    for (const { needle, rel } of nd.paths) {
      if (
        (needle.length > 1 && low.includes(needle)) ||
        (rel !== null && rel.length > 3 && low.includes(rel))
      ) {
        push(
          out,
          "deny",
          "protected-resource",
          `protected-resource: the action names the agent's own state (${needle})`,
        );
        break;
      }
    }
    for (const { name: n, low: ln } of nd.names) {
      if (low.includes(ln)) {
        push(out, "deny", "protected-resource", `protected-resource: the action names the agent's '${n}'`);
        break;
      }
    }
  }
  if (cmd !== null) processFindings(out, cmd, prot);
  const eps: { host: string; port: number }[] = t.endpoints ? [...t.endpoints] : [];
  for (const w of t.words) {
    // Only words that can name an endpoint: a URL, a socat address (`TCP:h:p`).
    if (!w.includes(":")) continue;
    const e = endpointOf(w) ?? socatEndpoint(w);
    if (e) eps.push(e);
  }
  if (
    cmd !== null &&
    (cmd.program === "nc" || cmd.program === "ncat" || cmd.program === "netcat" || cmd.program === "telnet")
  ) {
    const ops = cmd.operands.map((o) => o.value).filter((v): v is string => v !== null);
    if (ops.length >= 2 && /^\d+$/.test(ops[1]!))
      eps.push({ host: canonicalHost(ops[0]!), port: Number(ops[1]) });
  }
  // A registry on an internal address is the agent's own OCI client talking to it, judged by the
  // pack's trusted_registries, not an action's egress: the internal-address escalation is for egress.
  const registry = t.kind.startsWith("model.");
  // gate60: a database client speaks its own protocol to its server: one on this machine (a dev
  // database) is not an HTTP request into a loopback service. Private addresses stay reviewed.
  const db = cmd !== null && DATABASE_CLIENTS.has(cmd.program);
  const local = db || (cmd !== null && browserOpen(cmd));
  if (t.hosts.length > 0 || eps.length > 0) hostFindings(out, t.hosts, eps, prot, registry, local);
  return out;
}

/**
 * gate65: macOS `open URL…` with no flag hands each http(s) URL to the default browser: a page
 * view of the developer's own local app (`open http://localhost:5173`), not a request of the
 * agent's. Loopback is then no finding (the agent's own endpoints stay protected, metadata and
 * private addresses stay what they are); a flag (`-a APP`, `-b ID`) or another operand keeps it.
 */
function browserOpen(cmd: SimpleCommand): boolean {
  if (cmd.program !== "open" || cmd.operands.length === 0 || cmd.operands.length !== cmd.words.length)
    return false;
  for (const w of cmd.words) if (w.value === null || !/^https?:\/\/[^\s]+$/i.test(w.value)) return false;
  return true;
}

/** Same host, or both this machine (any loopback spelling, or 0.0.0.0 which connects here too). */
function sameHost(a: string, b: string): boolean {
  if (canonicalHost(a) === canonicalHost(b)) return true;
  const local = (h: string) => {
    const c = classifyHost(h);
    return c === "loopback" || c === "unspecified";
  };
  return local(a) && local(b);
}

function socatEndpoint(w: string): { host: string; port: number } | null {
  const m =
    /^(?:tcp[46]?|tcp[46]?-connect|openssl|openssl-connect|udp[46]?|udp-connect)?:?([^:,]+|\[[^\]]+\]):(\d+)(?:,|$)/i.exec(
      w,
    );
  if (m === null || !/[a-z]/i.test(w.slice(0, 3)) || !/^(tcp|openssl|udp)/i.test(w)) return null;
  return { host: canonicalHost(m[1]!), port: Number(m[2]) };
}

function hostFindings(
  out: Finding[],
  hosts: readonly string[],
  eps: readonly { host: string; port: number }[],
  prot: ProtectedResources,
  internalOk = false,
  loopbackOk = false,
): void {
  for (const e of eps) {
    if (prot.endpoints.some((p) => p.port === e.port && sameHost(p.host, e.host))) {
      out.push({
        rule: "protected-resource",
        effect: "deny",
        reason: `protected-resource: ${e.host}:${e.port} is the agent's own collector or service: no action may reach it`,
      });
    }
  }
  const seen = new Set<string>();
  for (const raw of [...hosts, ...eps.map((e) => e.host)]) {
    const h = canonicalHost(raw);
    if (seen.has(h)) continue;
    seen.add(h);
    const c = classifyHost(h);
    if (c === "metadata")
      out.push({
        rule: "cloud-metadata",
        effect: "deny",
        reason: `cloud-metadata: ${h} is a cloud instance-metadata endpoint (credentials): no action may reach it`,
      });
    else if (isInternal(c) && !internalOk && !(loopbackOk && c === "loopback"))
      out.push({
        rule: "internal-address",
        effect: "escalate",
        reason: `internal-address: ${h} is a ${c} address, not the public internet: a reviewer decides (no policy trusts internal addresses)`,
      });
  }
}

function processFindings(out: Finding[], cmd: SimpleCommand, prot: ProtectedResources): void {
  const prog = cmd.program;
  // The lists below are built only for the programs that need them (most commands need none).
  if (KILLERS.has(prog)) {
    const groups = [...prot.pgids, ...prot.pids].map((g) => `-${g}`);
    const agent = prot.pids.map(String);
    // Inside an executed action `$PPID` is the agent itself (the shell's parent).
    if (/\$\{?PPID\b/.test(cmd.text)) {
      out.push({
        rule: "protected-resource",
        effect: "deny",
        reason: `protected-resource: '${cmd.text}' signals $PPID, which is the agent itself`,
      });
      return;
    }
    for (const v of cmd.words.map((w) => w.value)) {
      if (v === null) {
        out.push({
          rule: "protected-resource",
          effect: "escalate",
          reason: `protected-resource: '${cmd.text}' signals a process only known at run time (it could be the agent)`,
        });
        break;
      }
      if (agent.includes(v) || groups.includes(v)) {
        out.push({
          rule: "protected-resource",
          effect: "deny",
          reason: `protected-resource: '${cmd.text}' signals the agent's own process`,
        });
        break;
      }
    }
  } else if (PATTERN_KILLERS.has(prog) && prog !== "pgrep" && prog !== "pidof") {
    const names = prot.processNames.map((n) => n.toLowerCase());
    for (const o of cmd.operands) {
      const v = o.value?.toLowerCase() ?? null;
      if (v === null || (v.length > 0 && names.some((n) => n.includes(v) || v.includes(n)))) {
        out.push({
          rule: "protected-resource",
          effect: "deny",
          reason: `protected-resource: '${cmd.text}' could signal the agent's own process`,
        });
        break;
      }
    }
  } else if (TRACERS.has(prog)) {
    const agent = prot.pids.map(String);
    for (const v of cmd.words.map((w) => w.value)) {
      if (v === null) continue;
      const m = /^(?:-p|--pid=|--attach=|-pid=|--pid)?(\d+)$/.exec(v) ?? /[=,:](\d+)$/.exec(v);
      if (m && agent.includes(m[1]!)) {
        out.push({
          rule: "protected-resource",
          effect: "deny",
          reason: `protected-resource: '${cmd.text}' attaches to the agent's own process`,
        });
        break;
      }
    }
  } else if (prog === "ps") {
    // BSD-style `ps e`/`ps eww`, and `ps -E` on macOS, print other processes' environments.
    const all = cmd.words.map((w) => w.value);
    const first = all[0];
    if (
      first != null &&
      (/^[a-z]*e[a-z]*$/.test(first) || all.some((v) => v !== null && /^-[A-Za-z]*E/.test(v)))
    ) {
      out.push({
        rule: "process-secrets",
        effect: "deny",
        reason: `process-secrets: '${cmd.text}' prints other processes' environments`,
      });
    }
  }
}

/**
 * What a written code file can do, read from its text (issue 19 §3): a project runner (npm test,
 * pytest, go test, cargo run …) later loads it, so a file that reaches for a capability the gate
 * cannot bound (a process, the network, native code, code built at run time, home) is reviewed,
 * and one that uses only its language's pure modules and project files is not.
 *
 * The tables are data: one list of patterns per language, each with the capability it shows.
 * The scan is over the text as written (comments and strings included): a pattern in a comment is
 * a false alarm the review clears, never a miss. A name built at run time cannot reach a module or
 * a function without one of the dynamic forms the tables name (`__import__`, `getattr(o, x)`,
 * `require(x)`, `globalThis[x]`, `eval`), so those are capabilities themselves. A file whose language the gate has no table for
 * (C, Java, PHP …) is "cannot bound"; shell files and runner configs are judged by the gate
 * itself (gate.ts), not here.
 */

import { type Lang, readCapability } from "./code-reader.js";
import { shellQuote } from "./shell/words.js";

/** The language of a written file, by name (and a `#!` line): what the scan reads it as. */
export type CodeLanguage =
  | "python"
  | "js"
  | "go"
  | "rust"
  | "ruby"
  /** sh-family text: judged as shell by the gate when run or loaded. */
  | "shell"
  /** package.json: its scripts are shell lines the runner runs. */
  | "package.json"
  /** Makefile: its recipes are shell lines. */
  | "make"
  /** Dockerfile/Containerfile: its RUN lines are shell lines a build runs (with the context). */
  | "dockerfile"
  /**
   * gate62: SQL with Jinja (dbt's models, macros, tests, snapshots): `dbt parse|compile|ls` render
   * it, and the macros it calls run statements against the warehouse while rendering.
   */
  | "jinja"
  /** Code of a language with no table here, or a runner's config that names programs. */
  | "unknown";

interface Capability {
  re: RegExp;
  what: string;
}

const cap = (what: string, ...res: RegExp[]): Capability[] => res.map((re) => ({ re, what }));

/** A `#!` line naming a shell of the sh family (through env or not). */
const SH_SHEBANG = /^#!\s*\S*?(?:\/env\s+(?:-\S+\s+)*)?\/?\b(?:ba|z|k|da|a|)sh\b/;

const ext = (list: string, lang: CodeLanguage): [string, CodeLanguage][] =>
  list.split(" ").map((e) => [e, lang]);

/** Languages by extension (lowercase, without the dot); other code is "unknown" (loaded, not bounded). */
const BY_EXT = new Map<string, CodeLanguage>([
  ...ext("sh bash zsh ksh dash command", "shell"),
  ...ext("py pyw pyi", "python"),
  ...ext("js mjs cjs jsx ts mts cts tsx vue svelte astro", "js"),
  ...ext("go", "go"),
  ...ext("rs", "rust"),
  ...ext("rb rake gemspec", "ruby"),
  ...ext("mk", "make"),
  ...ext("sql", "jinja"),
  ...ext(
    "c cc cpp cxx h hh hpp m mm java kt kts scala groovy gradle clj cljs php pl pm t lua swift cs fs vb ex exs erl hrl zig nim dart r jl hs ml elm cr v tcl ps1 psm1 bat cmd vbs wasm so dylib node jar pyc pyd whl egg",
    "unknown",
  ),
]);

/** Files by name: runner inputs, and configs that name programs or load paths (they choose what runs). */
const BY_NAME = new Map<string, CodeLanguage>([
  ["package.json", "package.json"],
  ...ext("Makefile makefile GNUmakefile", "make"),
  ...ext("Dockerfile dockerfile Containerfile containerfile", "dockerfile"),
  ...ext(
    ".npmrc .yarnrc .yarnrc.yml .yarnrc.yaml bunfig.toml .pnpmfile.cjs pytest.ini tox.ini setup.cfg pyproject.toml Cargo.toml go.mod go.work deno.json deno.jsonc justfile Justfile Taskfile.yml Taskfile.yaml Rakefile Gemfile .babelrc",
    "unknown",
  ),
]);

/**
 * The language of a file a runner may load, or null when it is not code (docs, data, styles).
 * `head` is the file's first line when known (a `#!` line makes any name shell).
 */
export function codeLanguage(path: string, head: string | null): CodeLanguage | null {
  if (head?.startsWith("#!")) {
    if (SH_SHEBANG.test(head)) return "shell";
    if (/python/.test(head)) return "python";
    if (/\b(node|deno|bun|tsx|ts-node)\b/.test(head)) return "js";
    if (/ruby/.test(head)) return "ruby";
    return "unknown";
  }
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  const named = BY_NAME.get(base);
  if (named !== undefined) return named;
  // `.cargo/config.toml` names build programs and rustflags.
  if ((base === "config.toml" || base === "config") && path.endsWith(`/.cargo/${base}`)) return "unknown";
  if (base.startsWith(".mocharc.")) return "unknown";
  // `Dockerfile.dev`, `api.Dockerfile`, `Containerfile.x`.
  if (/^(docker|container)file\.|\.(docker|container)file$/i.test(base)) return "dockerfile";
  const dot = base.lastIndexOf(".");
  if (dot < 0) return null;
  return BY_EXT.get(base.slice(dot + 1).toLowerCase()) ?? null;
}

/**
 * A Dockerfile's RUN lines as shell lines (continuations joined, `RUN <<EOF` heredocs read, the
 * exec form `RUN ["sh", "-c", "…"]` taken as its words; ONBUILD RUN too), or a reason the gate
 * cannot bound it: a RUN that mounts the SSH agent or a build secret (`--mount=type=ssh|secret`),
 * a SHELL instruction (RUN lines are then not sh), an exec form the gate cannot read.
 */
export function dockerfileRuns(text: string): string[] | string {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    while (/\\\s*$/.test(l) && i + 1 < lines.length) l = `${l.replace(/\\\s*$/, "")} ${lines[++i]!}`;
    const m = /^\s*(?:ONBUILD\s+)?(RUN|SHELL)\b\s*(.*)$/is.exec(l);
    if (!m) continue;
    if (m[1]!.toUpperCase() === "SHELL") return "a SHELL instruction changes what runs its RUN lines";
    let body = m[2]!;
    for (;;) {
      const f = /^--([a-z-]+)(?:=(\S*))?\s*/i.exec(body);
      if (!f) break;
      if (f[1] === "mount" && /(^|,)type=(ssh|secret)\b/i.test(f[2] ?? ""))
        return `a RUN line is given the ${/type=ssh/i.test(f[2]!) ? "SSH agent" : "build secrets"} (--mount=${f[2]})`;
      body = body.slice(f[0].length);
    }
    const here = /^<<-?\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1\s*$/.exec(body.trim());
    if (here) {
      const end = lines.findIndex((x, k) => k > i && x.trim() === here[2]);
      if (end < 0) return "a RUN heredoc has no end";
      out.push(lines.slice(i + 1, end).join("\n"));
      i = end;
      continue;
    }
    if (body.trimStart().startsWith("[")) {
      let argv: unknown;
      try {
        argv = JSON.parse(body);
      } catch {
        return "a RUN line in exec form the gate cannot read";
      }
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string"))
        return "a RUN line in exec form the gate cannot read";
      out.push(argv.map((a) => shellQuote(a as string)).join(" "));
      continue;
    }
    if (body.trim() !== "") out.push(body);
  }
  return out;
}

const PYTHON: Capability[] = [
  ...cap(
    "runs processes",
    /\b(subprocess|pexpect|plumbum)\s*\./,
    /^\s*(from|import)\s+(subprocess|pty|pexpect|plumbum|commands|sh|posix|nt)\b/m,
    /^\s*import\s+[^\n]*\bos\s+as\b|^\s*from\s+os\s+import\s+\*/m,
    /\bos\s*\.\s*(system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork\w*|startfile|kill\w*)\b/,
    /^\s*from\s+os\s+import\b[^\n]*\b(system|popen|exec\w*|spawn\w*|posix_spawn\w*|fork|startfile|kill)\b/m,
  ),
  ...cap(
    "uses the network",
    /^\s*(from|import)\s+(socket|ssl|urllib|urllib2|urllib3|http|httplib|requests|httpx|aiohttp|ftplib|smtplib|poplib|imaplib|telnetlib|xmlrpc|paramiko|websocket|websockets|asyncssh|pycurl|grpc|socketserver|webbrowser|dns)\b/m,
  ),
  ...cap("loads native code", /^\s*(from|import)\s+(ctypes|cffi|_ctypes|mmap)\b/m),
  ...cap(
    "runs code built at run time",
    /(^|[^\w.])(eval|exec|compile|__import__|execfile|breakpoint)\s*\(/m,
    /^\s*(from|import)\s+(importlib|runpy|code|codeop|pickle|cPickle|marshal|shelve|dill|imp|pkgutil|builtins|__builtin__|zipimport)\b/m,
    /\b(getattr|setattr|delattr|hasattr)\s*\(\s*[^,)]+,\s*(?!['"]\w*['"]\s*[,)])/,
    /\b(globals|locals|vars)\s*\(/,
    /__(builtins|globals|subclasses|class|bases|mro|code|loader|dict|getattribute)__/,
  ),
  ...cap("loads code from a path it chooses", /\bsys\s*\.\s*(path|meta_path|path_hooks)\b|\bPYTHONPATH\b/),
  ...cap(
    "reaches home or system files",
    /\b(expanduser|home\s*\(\s*\))|\benviron\s*(\[|\.get\s*\()\s*['"]HOME|['"]~[/'"]|['"]\/(Users|home|root|etc|var|Library|System)\//,
    /\bos\s*\.\s*(chmod|chown|symlink|link)\b/,
  ),
];

const JS: Capability[] = [
  ...cap(
    "runs processes",
    /\b(child_process|execa|shelljs|cross-spawn|zx|node-pty|execSync|spawnSync|execFileSync|execFile|spawn|fork)\b/,
    /\bBun\s*\.\s*(\$|spawn\w*|which|openInEditor)/,
    /\bDeno\s*\.\s*(run|Command|kill)\b/,
    /\bfrom\s*['"]bun['"]|\brequire\s*\(\s*['"]bun['"]\s*\)/,
    /\bprocess\s*\.\s*(binding|_linkedBinding|dlopen|kill|setuid|setgid|chdir)\b/,
    // gate44: JXA (`osascript -l JavaScript x.js`): shell scripts, other apps, and the ObjC bridge.
    /\b(doShellScript|currentApplication|ObjC\s*\.\s*(import|bindFunction)|NSTask|NSAppleScript)\b|\bApplication\s*\(/,
  ),
  ...cap(
    "uses the network",
    /['"`](node:)?(net|dgram|tls|http|https|http2|dns|inspector)['"`]/,
    /\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon)\b/,
    /['"`](axios|node-fetch|undici|got|superagent|request|ws|socket\.io-client|ky|needle|phin)['"`]/,
    /\bDeno\s*\.\s*(connect\w*|listen\w*)\b/,
    /\bBun\s*\.\s*(connect|listen|serve|udpSocket)\b/,
  ),
  ...cap(
    "loads native code",
    /['"`](bun:ffi|ffi-napi|node-ffi|koffi|ref-napi)['"`]|\bDeno\s*\.\s*dlopen\b|\.node['"`]/,
  ),
  ...cap(
    "runs code built at run time",
    /(^|[^\w.$])(eval|Function)\s*\(|\bnew\s+Function\b|['"`](node:)?(vm|worker_threads|module|repl|wasi)['"`]/,
    /\b(import|require)\s*\(\s*[^'"`\s)]/,
    /\b(import|require)\s*\(\s*`[^`]*\$\{/,
    /\b(import|require)\s*\(\s*['"][^'"]*['"]\s*\+/,
    /\b(globalThis|global|window|self|process|Reflect|module|require|Bun|Deno)\s*\[/,
    /\.constructor\b|\b(Reflect\s*\.\s*(apply|construct|get)|setTimeout\s*\(\s*['"`]|setInterval\s*\(\s*['"`])/,
    /\bDeno\s*\.\s*eval\b|\bWebAssembly\b/,
  ),
  ...cap(
    "loads code from a path it chooses",
    /(\brequire\s*\(|\bimport\s*\(|\bimport\s+|\bfrom)\s*['"`](\/|~|file:)|\bmodule\s*\.\s*paths\b|\bNODE_PATH\b|\bcreateRequire\b/,
  ),
  ...cap(
    "reaches home or system files",
    /\bhomedir\b|\bprocess\s*\.\s*env\s*(\.\s*|\[\s*['"`])(HOME|USERPROFILE)\b|['"`]~\/|['"`]\/(Users|home|root|etc|var|Library|System)\//,
  ),
];

const GO: Capability[] = [
  ...cap("runs processes", /"os\/exec"|\bsyscall\.(Exec|ForkExec|StartProcess)|\bos\.StartProcess\b/),
  ...cap(
    "uses the network",
    /"net(\/(?!url")[\w/]+)?"|"golang\.org\/x\/net[\w/]*"|"google\.golang\.org\/grpc[\w/]*"/,
  ),
  ...cap(
    "loads native code",
    /"(syscall|unsafe|plugin|C)"|"golang\.org\/x\/sys[\w/]*"|\/\/\s*#cgo|\/\/go:linkname/,
  ),
  ...cap("runs code built at run time", /"go\/(build|importer)"/),
  ...cap(
    "reaches home or system files",
    /\bos\.(UserHomeDir|Getenv\s*\(\s*"HOME"|Chmod|Chown|Symlink|Link)\b|"~\/|"\/(Users|home|root|etc|var|Library|System)\//,
  ),
  ...cap("runs commands at generate time", /\/\/go:generate\b/),
];

const RUST: Capability[] = [
  ...cap(
    "runs processes",
    /\b(std\s*::\s*)?process\s*::|\bCommand\s*::\s*new\b|\btokio\s*::\s*process\b|\bduct\b|\bxshell\b/,
  ),
  ...cap(
    "uses the network",
    /\b(std\s*::\s*)?net\s*::|\b(TcpStream|TcpListener|UdpSocket|reqwest|hyper|ureq|surf|isahc|curl|attohttpc)\b|\btokio\s*::\s*net\b/,
  ),
  ...cap(
    "loads native code",
    /\bunsafe\b|\bextern\s+(crate\s+libc|"C"|"system")|#\s*!?\[\s*link\b|\blibloading\b|\blibc\s*::|\basm!|\bglobal_asm!/,
  ),
  ...cap("runs code built at run time", /\binclude!\s*\(\s*concat!/),
  ...cap("loads code from a path it chooses", /#\s*\[\s*path\s*=|\binclude(_str|_bytes)?!\s*\(\s*"(\/|~)/),
  ...cap(
    "reaches home or system files",
    /\bhome_dir\b|\benv\s*::\s*var(_os)?\s*\(\s*"HOME"|"~\/|"\/(Users|home|root|etc|var|Library|System)\//,
  ),
];

const RUBY: Capability[] = [
  ...cap(
    "runs processes",
    /`|%x[{[(<|!]|\b(system|exec|spawn|fork|syscall|popen\w*|capture[23]\w*|pipeline\w*)\b|\b(Open3|PTY|IO\s*\.\s*popen|Process\s*\.\s*(spawn|exec|kill))\b/,
  ),
  ...cap(
    "uses the network",
    /\brequire\s*\(?\s*['"](socket|net\/\w+|open-uri|resolv|httparty|faraday|rest-client|excon|typhoeus)['"]|\b(Net\s*::|TCPSocket|UDPSocket|URI\s*\.\s*open|Socket\b)/,
  ),
  ...cap("loads native code", /\b(Fiddle|FFI|DL)\b|\brequire\s*\(?\s*['"](fiddle|ffi)['"]/),
  ...cap(
    "runs code built at run time",
    /\b(eval|instance_eval|class_eval|module_eval|instance_exec|class_exec)\b/,
    /\b(send|__send__|public_send|const_get|constantize)\s*\(?\s*[^:'"\s(]/,
    /\b(require|require_relative|load)\b\s*\(?\s*[^'"\s(]/,
  ),
  ...cap(
    "loads code from a path it chooses",
    /\b(require|require_relative|load)\b\s*\(?\s*['"](\/|~)|\$LOAD_PATH|\$:\s*(<<|\.unshift|\.push)|\bRUBYLIB\b/,
  ),
  ...cap(
    "reaches home or system files",
    /\bDir\s*\.\s*home\b|\bENV\s*\[\s*['"]HOME|['"]~\/|['"]\/(Users|home|root|etc|var|Library|System)\//,
  ),
];

const TABLES: Partial<Record<CodeLanguage, readonly Capability[]>> = {
  python: PYTHON,
  js: JS,
  go: GO,
  rust: RUST,
  ruby: RUBY,
};

/**
 * Each table as one alternation (every pattern is `m`-only or flagless, so `m` keeps each one's
 * meaning): a file with no capability costs one scan, not one per pattern.
 */
const ANY: Partial<Record<CodeLanguage, RegExp>> = Object.fromEntries(
  Object.entries(TABLES).map(([lang, t]) => {
    for (const c of t!)
      if (c.re.flags.replace("m", "") !== "") throw new Error(`capability ${c.re} has flags`);
    return [lang, new RegExp(t!.map((c) => `(?:${c.re.source})`).join("|"), "m")];
  }),
);

/** The capabilities each language's table names (for docs and tests). */
export function capabilityTable(lang: CodeLanguage): readonly { re: RegExp; what: string }[] {
  return TABLES[lang] ?? [];
}

/**
 * The first capability `text` (a file of `lang`, or a fragment an edit inserts) shows that the
 * gate cannot bound, as a reason; null when it shows none. A language with no table: always one.
 */
export function unboundCapability(lang: CodeLanguage, text: string, whole = true): string | null {
  if (lang === "jinja") return jinjaCapability(text);
  const table = TABLES[lang];
  if (!table) return `it is ${lang === "unknown" ? "code of a kind" : `${lang} code`} the gate cannot read`;
  // One pass for the usual answer (none); the table is walked only to name what was found.
  if (ANY[lang]!.test(text))
    for (const c of table) {
      const m = c.re.exec(text);
      if (m) return `it ${c.what} ('${m[0].trim().slice(0, 40)}')`;
    }
  // The tables read raw text; the reader reads the code (gate58): imports, names, paths, env, loops.
  return readCapability(lang as Lang, text, whole);
}

/** Jinja calls that render text and run nothing: dbt's context (docs.getdbt.com/reference/dbt-jinja-functions) and Jinja's own. */
const JINJA_PURE = new Set(
  "ref source config var env_var is_incremental this target return log print doc range dict list zip enumerate lookup caller super namespace cycler joiner loop exceptions.raise_compiler_error exceptions.warn fromjson tojson fromyaml toyaml as_bool as_number as_text set local_md5 modules.datetime.datetime.now modules.datetime.date.today".split(
    " ",
  ),
);
/** Heads of dotted calls that render text: Jinja values' methods, dbt_utils' SQL generators, python modules dbt exposes. */
const JINJA_PURE_HEAD =
  /^(?:dbt_utils|modules\.(?:datetime|re|pytz|itertools)|loop|this|target|graph|model|builtins\.(?:ref|source|config))\./;
const JINJA_METHOD =
  /\.(?:append|extend|insert|pop|items|keys|values|get|update|upper|lower|title|capitalize|replace|split|rsplit|join|format|strip|lstrip|rstrip|startswith|endswith|count|index|render|identifier|include|is_table|is_view|quote|strftime|isoformat|timestamp)$/;

/**
 * What a file of SQL with Jinja runs while dbt renders it (gate62), as a reason, or null when it
 * only renders text: a query or statement it runs (`run_query`, `{% call statement %}`, the
 * adapter's methods), or a macro it calls whose body the gate has not read (a project's or a
 * package's macro may run either).
 */
function jinjaCapability(text: string): string | null {
  for (const block of text.matchAll(/\{\{([\s\S]*?)\}\}|\{%-?([\s\S]*?)-?%\}/g)) {
    // A macro's definition names it and its parameters (`{% macro grant(role, x=none) %}`): not a call.
    const body = (block[1] ?? block[2] ?? "").replace(/^\s*macro\s+\w+\s*\(/, "(");
    if (/^\s*call\s+statement\b/.test(body))
      return `it runs a statement against the warehouse ('${body.trim().slice(0, 40)}')`;
    if (/^\s*(?:call|filter|import|from|include|extends)\b/.test(body))
      return `it renders another template or macro the gate has not read ('${body.trim().slice(0, 40)}')`;
    // A filter (`| join(', ')`) is Jinja's own: dbt projects cannot add one.
    for (const m of body.matchAll(/(\|\s*)?([A-Za-z_][\w.]*)\s*\(/g)) {
      if (m[1] !== undefined) continue;
      const name = m[2]!;
      if (/^(?:run_query|statement|adapter\.|dbt\.run_query)/.test(name))
        return `it runs a query against the warehouse ('${name}(')`;
      if (JINJA_PURE.has(name) || JINJA_PURE_HEAD.test(name) || JINJA_METHOD.test(name)) continue;
      return `it calls '${name}', a macro the gate has not read (it may run statements while dbt renders it)`;
    }
  }
  return null;
}

/**
 * Code that writes files (gate57): the names it writes are strings inside it the gate does not
 * track, so a run of it leaves files nobody read (`open('Makefile','w')`, `fs.writeFileSync`,
 * `os.WriteFile`, `std::fs::write`, `File.write`). Not a capability a run is reviewed for (writing
 * files is what programs do); the run marks its workspace blind instead (gate.ts). Broad on purpose:
 * a mode or helper the table misses is a write the gate never sees, a false match only a mark.
 */
const WRITES: Partial<Record<CodeLanguage, RegExp>> = {
  python:
    /\bopen\s*\([^\n]*?,\s*(?:mode\s*=\s*)?[rbtU]*['"][rbtU]*[wax+]|\.open\s*\(\s*['"][rbtU]*[wax+]|\.(write_text|write_bytes|touch|mkdir|rename|replace|symlink_to|hardlink_to|link_to|extractall|extract|save\w*|to_\w+|dump)\s*\(|\b(shutil|os)\s*\.\s*(copy\w*|move|rename\w*|replace|makedirs|mkdir|link|symlink|open|write)\b|\b(urlretrieve|FileHandler|mkstemp)\b|\bjson\s*\.\s*dump\b/,
  js: /\b(writeFile\w*|appendFile\w*|createWriteStream|copyFile\w*|cpSync|rename\w*|symlink\w*|linkSync|mkdir\w*|outputFile\w*|outputJson\w*|writeJson\w*|mkdtemp\w*|openSync|ftruncate\w*|truncate\w*)\b|\bfs\s*\.\s*(cp|link|open|write\w*)\b|\bBun\s*\.\s*(write|file)\b|\bDeno\s*\.\s*(write\w*|copyFile\w*|rename\w*|create\w*|open\w*|symlink\w*|link\w*|mkdir\w*|makeTemp\w*|truncate\w*)\b/,
  go: /\b(os|ioutil)\s*\.\s*(WriteFile|Create\w*|OpenFile|Rename|Symlink|Link|Mkdir\w*|TempFile|MkdirTemp|CreateTemp|CopyFS)\b/,
  rust: /\bfs\s*::\s*(write|copy|rename|create_dir\w*|hard_link|soft_link|OpenOptions|File)\b|\b(File\s*::\s*(create\w*|options)|OpenOptions|symlink\w*)\b/,
  ruby: /\b(File|IO|Pathname|FileUtils|Dir|Tempfile)\s*\.\s*(write|binwrite|open|new|rename|symlink|link|mkdir\w*|cp\w*|mv|copy\w*|move|install|touch|ln\w*)\b|\.(write|binwrite|puts)\b|\bopen\s*\(?\s*[^)\n]*,\s*['"][^'"]*[wa+]/,
};

/**
 * How `text` (a file of `lang`) writes files, as a reason, or null when it shows no write. A
 * language with no table (shell: the gate reads its writes; unknown: never cleared) is null.
 */
export function writesFiles(lang: CodeLanguage, text: string): string | null {
  const m = WRITES[lang]?.exec(text);
  return m ? `it writes files ('${m[0].trim().slice(0, 40)}')` : null;
}

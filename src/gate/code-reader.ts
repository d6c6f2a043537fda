/**
 * What a written code file does, read as code (gate58, issue 19 §3): the regex tables of
 * capabilities.ts read raw text, so a writer stepped around them (`import json, socket`, a module
 * named with escapes `require('\x68ttps')`, `getattr(os, 'system')`, `open('../.zshrc')`,
 * `os.UserConfigDir()`, `dict(os.environ)`, a loop with no exit). This reader lexes the file
 * (code-lexer.ts: comments and strings apart, each literal decoded as its language does) and reads
 * from the tokens:
 * - every module it imports (all names of `import a, b as c`, `from m import x`, `require`/`import`
 *   of a literal after decoding and `+` folding, Go import blocks, Rust `use` and paths, Ruby
 *   require), judged by an allowlist where the language's standard library is closed (Python,
 *   Node, Go, Rust's std): a standard module not on the reviewed pure list is a capability;
 *   third-party and project modules stay allowed unless the known lists name them;
 * - the names it reaches through those modules (`os.system`, `from os import system as s`,
 *   `getattr(os, 'system')`, `mod['exec']`, `send(:system)`);
 * - every string value that is a path outside the workspace: home or system roots, `~`, and a
 *   relative path that climbs above where it starts (`../.ssh`), unless it is anchored at the
 *   file's own directory (`path.join(__dirname, '..', 'fixtures')`) or names a module;
 *   `os.path.join('/', 'Users', …)` and `[…].join('/')` are folded first;
 * - environment reads by key: the whole environment is a secret read, HOME/USERPROFILE/XDG_* and
 *   the config-dir helpers reach home, a key naming a token or secret is a secret read, an
 *   ordinary key (NODE_ENV, PORT) is not, a key computed at run time cannot be bounded;
 * - loops that cannot end (`while True`, `for (;;)`, `for {}`, `loop {}`) with no exit in them.
 * A text the lexer cannot read is "cannot bound", never a pass (for a whole file; an edit's
 * fragment may cut a literal, so its tokens are read as far as they go).
 */

import { type Lang, lex, type Token } from "./code-lexer.js";

export type { Lang } from "./code-lexer.js";

/** Why `text` (`lang`) shows a capability the gate cannot bound, or null. */
export function readCapability(lang: Lang, text: string, whole = true): string | null {
  const { toks, error } = lex(lang, text);
  if (error !== null && whole) return `it cannot be read as ${lang} (${error}): the gate cannot bound it`;
  const r = new Reader(lang, toks);
  return r.judge();
}

/** Python's standard modules (sys.stdlib_module_names, 3.11, public names) the gate reviewed as pure. */
const PY_PURE = new Set(
  "__future__ abc aifc argparse array ast asyncio atexit audioop base64 binascii bisect bz2 calendar cgi cgitb chunk cmath codecs collections colorsys compileall concurrent configparser contextlib contextvars copy copyreg crypt csv dataclasses datetime dbm decimal difflib dis doctest email encodings enum errno faulthandler fcntl filecmp fileinput fnmatch fractions functools gc genericpath getopt getpass gettext glob graphlib gzip hashlib heapq hmac html http http.cookies http.cookiejar imghdr inspect io ipaddress itertools json keyword linecache locale logging lzma mailbox mimetypes multiprocessing numbers opcode operator optparse os ntpath posixpath pathlib pickletools platform plistlib pprint pstats py_compile pyclbr queue quopri random re readline reprlib resource sched secrets select selectors shlex shutil signal sndhdr sqlite3 sre_compile sre_constants sre_parse stat statistics string stringprep struct sunau symtable sys sysconfig syslog tabnanny tarfile tempfile termios textwrap this threading time token tokenize tomllib traceback tracemalloc tty types typing unicodedata unittest urllib urllib.parse urllib.error uu uuid warnings wave weakref xdrlib xml zipapp zipfile zlib zoneinfo".split(
    " ",
  ),
);

/** Python's other standard modules (the closed list): each is a capability, by its reason. */
const PY_STDLIB_OTHER = new Map<string, string>(
  [
    [
      "runs processes",
      "subprocess pty pipes posix nt webbrowser pydoc pydoc_data ensurepip venv idlelib turtledemo antigravity mailcap",
    ],
    [
      "uses the network",
      "socket ssl socketserver ftplib poplib imaplib smtplib smtpd nntplib telnetlib xmlrpc asynchat asyncore wsgiref http.client http.server urllib.request urllib.robotparser",
    ],
    ["loads native code", "ctypes mmap msvcrt winreg winsound msilib ossaudiodev nis"],
    [
      "runs code built at run time",
      "importlib runpy code codeop pickle marshal shelve imp pkgutil builtins zipimport timeit cProfile profile trace bdb pdb site modulefinder lib2to3 distutils rlcompleter",
    ],
    ["reaches home or system files", "pwd grp spwd netrc"],
    ["opens windows or the terminal", "tkinter turtle curses"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

/** Names reached through a Python module (dotted, after aliases) that are capabilities. */
const PY_REFS: [RegExp, string][] = [
  [
    /^(os|posix|nt)\.(system|popen\w*|exec\w*|spawn\w*|posix_spawn\w*|fork\w*|startfile|kill\w*|plock)$/,
    "runs processes",
  ],
  [/^asyncio\.(create_subprocess_\w+|subprocess)$/, "runs processes"],
  [
    /^asyncio\.(open_connection|start_server|open_unix_connection|start_unix_server)$|^logging\.handlers\.(SocketHandler|DatagramHandler|SysLogHandler|SMTPHandler|HTTPHandler)$|^logging\.config\.listen$|^multiprocessing\.(connection|managers)\b/,
    "uses the network",
  ],
  [
    /^(os|posix)\.(chmod|lchmod|fchmod|chown|lchown|fchown|symlink|link|chroot|setuid|setgid)$/,
    "reaches home or system files",
  ],
  [/^os\.path\.expanduser$|^pathlib\.(Path|PosixPath|WindowsPath)\.home$/, "reaches home or system files"],
];

/** Modules whose `from m import *` brings in names PY_REFS judges. */
const PY_STAR = /^(os|posix|nt|asyncio|logging\.handlers|logging\.config|multiprocessing)$/;

/** Attribute names that are a capability whatever they are called on (loop methods, not modules). */
const PY_METHODS = new Map<string, string>(
  Object.entries({
    create_subprocess_exec: "runs processes",
    create_subprocess_shell: "runs processes",
    subprocess_exec: "runs processes",
    subprocess_shell: "runs processes",
    create_connection: "uses the network",
    create_server: "uses the network",
    create_datagram_endpoint: "uses the network",
    create_unix_connection: "uses the network",
    create_unix_server: "uses the network",
    sock_connect: "uses the network",
    enable_load_extension: "loads native code",
    load_extension: "loads native code",
    pipepager: "runs processes",
  }),
);

/** Third-party Python modules the tables name (kept as they were). */
const PY_THIRD = new Map<string, string>(
  [
    ["runs processes", "pexpect plumbum sh sarge delegator envoy invoke fabric"],
    [
      "uses the network",
      "requests httpx aiohttp urllib3 urllib2 httplib paramiko websocket websockets asyncssh pycurl grpc dns treq twisted tornado",
    ],
    ["loads native code", "cffi _ctypes"],
    ["runs code built at run time", "dill cPickle __builtin__ cloudpickle"],
    ["runs processes", "commands"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

/** Node's builtin modules (the closed list) the gate reviewed as pure. */
const NODE_PURE = new Set(
  "assert assert/strict async_hooks buffer console constants crypto diagnostics_channel domain events fs fs/promises os path path/posix path/win32 perf_hooks process punycode querystring readline readline/promises stream stream/consumers stream/promises stream/web string_decoder sys test test/reporters timers timers/promises tty url util util/types zlib".split(
    " ",
  ),
);

const NODE_OTHER = new Map<string, string>(
  [
    ["runs processes", "child_process cluster"],
    [
      "uses the network",
      "dgram dns dns/promises http http2 https inspector inspector/promises net tls _http_agent _http_client _http_common _http_incoming _http_outgoing _http_server _tls_common _tls_wrap",
    ],
    ["runs code built at run time", "vm worker_threads module repl wasi v8 trace_events sea"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

/** Third-party JS modules the tables name (kept as they were). */
const JS_THIRD = new Map<string, string>(
  [
    ["runs processes", "execa shelljs cross-spawn zx node-pty bun"],
    ["uses the network", "axios node-fetch undici got superagent request ws socket.io-client ky needle phin"],
    ["loads native code", "bun:ffi ffi-napi node-ffi koffi ref-napi"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

const JS_REFS: [RegExp, string][] = [[/^os\.(homedir|userInfo)$/, "reaches home or system files"]];

/** Go's standard packages the gate reviewed as pure (any other std package is a capability). */
const GO_PURE = new Set(
  "archive/tar archive/zip bufio bytes cmp compress/bzip2 compress/flate compress/gzip compress/lzw compress/zlib container/heap container/list container/ring context crypto crypto/aes crypto/cipher crypto/des crypto/dsa crypto/ecdh crypto/ecdsa crypto/ed25519 crypto/elliptic crypto/hkdf crypto/hmac crypto/md5 crypto/mlkem crypto/pbkdf2 crypto/rand crypto/rc4 crypto/rsa crypto/sha1 crypto/sha256 crypto/sha3 crypto/sha512 crypto/subtle crypto/x509 crypto/x509/pkix database/sql database/sql/driver debug/buildinfo debug/dwarf debug/elf debug/gosym debug/macho debug/pe embed encoding encoding/ascii85 encoding/asn1 encoding/base32 encoding/base64 encoding/binary encoding/csv encoding/gob encoding/hex encoding/json encoding/pem encoding/xml errors flag fmt go/ast go/constant go/doc go/format go/parser go/printer go/scanner go/token go/types hash hash/adler32 hash/crc32 hash/crc64 hash/fnv hash/maphash html html/template image image/color image/color/palette image/draw image/gif image/jpeg image/png index/suffixarray io io/fs io/ioutil iter log log/slog maps math math/big math/bits math/cmplx math/rand math/rand/v2 mime mime/multipart mime/quotedprintable net/netip net/url net/mail os os/signal path path/filepath reflect regexp regexp/syntax runtime runtime/debug runtime/pprof runtime/trace slices sort strconv strings structs sync sync/atomic testing testing/fstest testing/iotest testing/quick testing/slogtest testing/synctest text/scanner text/tabwriter text/template text/template/parse time time/tzdata unicode unicode/utf16 unicode/utf8 unique weak".split(
    " ",
  ),
);

const GO_OTHER: [RegExp, string][] = [
  [/^os\/exec$/, "runs processes"],
  [/^(net|net\/.*|crypto\/tls|log\/syslog|expvar)$/, "uses the network"],
  [/^(syscall|unsafe|plugin|C|runtime\/cgo|runtime\/race)$/, "loads native code"],
  [/^(go\/build|go\/importer)$/, "runs code built at run time"],
  [/^os\/user$/, "reaches home or system files"],
];

const GO_REFS: [RegExp, string][] = [
  [/^os\.(StartProcess)$|^syscall\./, "runs processes"],
  [
    /^os\.(UserHomeDir|UserConfigDir|UserCacheDir|Chmod|Chown|Lchown|Symlink|Link)$/,
    "reaches home or system files",
  ],
];

/** Rust's std modules the gate reviewed as pure (`std::x`, `core::x`, `alloc::x`). */
const RUST_PURE = new Set(
  "alloc any array ascii backtrace borrow boxed cell char clone cmp collections convert default env error f32 f64 ffi fmt fs future hash hint i8 i16 i32 i64 i128 isize io iter marker mem num ops option panic path pin prelude primitive ptr rc result slice str string sync task thread time u8 u16 u32 u64 u128 usize vec ".split(
    " ",
  ),
);
const RUST_OTHER = new Map<string, string>([
  ["process", "runs processes"],
  ["net", "uses the network"],
  ["os", "reaches the system's own interfaces"],
  ["arch", "loads native code"],
  ["intrinsics", "loads native code"],
]);
const RUST_CRATES = new Map<string, string>(
  [
    ["reaches home or system files", "dirs dirs_next directories home etcetera xdg"],
    ["runs processes", "duct xshell subprocess"],
    ["uses the network", "reqwest hyper ureq surf isahc curl attohttpc"],
    ["loads native code", "libc libloading"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

const RUBY_LIBS = new Map<string, string>(
  [
    ["runs processes", "open3 pty shellwords_exec"],
    [
      "uses the network",
      "socket open-uri resolv httparty faraday rest-client excon typhoeus webrick drb net/http net/https net/ftp net/smtp net/pop net/imap net/telnet net/ssh",
    ],
    ["loads native code", "fiddle ffi"],
    ["reaches home or system files", "etc"],
  ].flatMap(([why, names]) => names!.split(" ").map((n) => [n, why!])),
);

/** Literal names reached by getattr/send/Reflect/brackets that are capabilities, per language. */
const DANGER_NAMES: Record<Lang, RegExp> = {
  python:
    /^(system|popen\w*|exec\w*|spawn\w*|posix_spawn\w*|fork\w*|startfile|eval|compile|__import__|__builtins__|__globals__|__subclasses__|import_module|create_subprocess_\w+)$/,
  js: /^(eval|Function|constructor|require|exec|execSync|spawn|spawnSync|fork|execFile|execFileSync|binding|_linkedBinding|dlopen|mainModule|_load|__proto__)$/,
  go: /^$/,
  rust: /^$/,
  ruby: /^(system|exec|spawn|syscall|popen\w*|fork|`|eval|instance_eval|class_eval|module_eval|instance_exec|class_exec|require|require_relative|load|open|const_get|send|__send__|public_send|capture[23]\w*)$/,
};

/** Calls that join path pieces (`os.path.join`, `path.resolve`, `File.join`, `filepath.Join`). */
const JOINS = new Set(["join", "Join", "resolve", "joinpath", "join_paths", "expand_path"]);

/** Roots of home and system files (the tables' list). */
const SYSTEM_ROOT = /^\/(Users|home|root|etc|var|private|Library|System)\//;

/** Identifiers that anchor a path at the file's own directory. */
const ANCHORS: Record<Lang, Set<string>> = {
  python: new Set(["__file__"]),
  js: new Set(["__dirname", "__filename", "meta"]),
  go: new Set(),
  rust: new Set(["CARGO_MANIFEST_DIR", "file"]),
  ruby: new Set(["__dir__", "__FILE__"]),
};

/** Calls whose first string argument names a module or a file beside the code, not a run path. */
const SPECIFIER_CALLS = new Set([
  "require",
  "import",
  "mock",
  "doMock",
  "unmock",
  "dontMock",
  "setMock",
  "requireActual",
  "requireMock",
  "importActual",
  "importMock",
  "require_relative",
  "autoload",
  "include_str",
  "include_bytes",
  "include",
  "import_module",
]);

/** An environment key's meaning: null when ordinary. */
function envKey(key: string): string | null {
  const k = key.toUpperCase();
  if (/^(HOME|USERPROFILE|HOMEDRIVE|HOMEPATH|APPDATA|LOCALAPPDATA|XDG_\w+)$/.test(k))
    return `it reaches home or system files (the environment's ${key})`;
  if (
    /TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION|(^|_)KEY$|^AWS_|SSH_AUTH_SOCK|GPG/.test(
      k,
    )
  )
    return `it reads a secret (the environment's ${key})`;
  return null;
}

const WHOLE_ENV = "it reads a secret (the whole environment)";
const DYN_ENV = "it reads the environment by a name computed at run time: the gate cannot bound it";

class Reader {
  /** Tokens without line ends. */
  readonly t: Token[];
  /** Alias → the dotted (Rust: `::`) name it stands for. */
  readonly alias = new Map<string, string>();
  /** Indexes of string tokens that name modules (not run paths). */
  readonly specifiers = new Set<number>();
  /** Identifiers that hold a path anchored at the file's directory. */
  readonly anchors: Set<string>;
  found: string | null = null;

  constructor(
    readonly lang: Lang,
    readonly all: Token[],
  ) {
    this.t = all.filter((x) => x.k !== "nl");
    this.anchors = new Set(ANCHORS[lang]);
  }

  private note(why: string | null, what?: string): undefined {
    if (why !== null && this.found === null) this.found = what ? `${why} ('${what.slice(0, 60)}')` : why;
  }

  private is(i: number, v: string): boolean {
    const x = this.t[i];
    return x !== undefined && (x.k === "op" || x.k === "id") && x.v === v;
  }

  private id(i: number): string | null {
    const x = this.t[i];
    return x?.k === "id" ? x.v : null;
  }

  /** A literal at `i`: strings joined by `+` (and Rust's `concat!`), or null. Returns [value, end]. */
  literal(i: number): [string, number] | null {
    const x = this.t[i];
    if (x?.k !== "str") return null;
    let v = x.v;
    let j = i + 1;
    while (this.is(j, "+") && this.t[j + 1]?.k === "str") {
      v += this.t[j + 1]!.v;
      j += 2;
    }
    return [v, j];
  }

  judge(): string | null {
    switch (this.lang) {
      case "python":
        this.python();
        break;
      case "js":
        this.js();
        break;
      case "go":
        this.go();
        break;
      case "rust":
        this.rust();
        break;
      case "ruby":
        this.ruby();
        break;
    }
    if (this.found) return this.found;
    this.paths();
    if (this.found) return this.found;
    this.loops();
    return this.found;
  }

  // ---------------------------------------------------------------- Python

  private pyModule(name: string): string | null {
    const parts = name.split(".");
    if (parts[0] === "") return null; // relative: the project's
    const top = parts[0]!;
    for (let n = parts.length; n >= 1; n--) {
      const p = parts.slice(0, n).join(".");
      if (PY_STDLIB_OTHER.get(p) !== undefined) return `it ${PY_STDLIB_OTHER.get(p)}`;
      if (PY_PURE.has(p)) return null;
    }
    if (PY_THIRD.get(top) !== undefined) return `it ${PY_THIRD.get(top)}`;
    if (top.startsWith("_")) return "it imports a private standard module the gate has not reviewed";
    if (STDLIB_PY_TOP.has(top)) return "it imports a standard module the gate has not reviewed as pure";
    return null;
  }

  private pyRef(dotted: string): string | null {
    for (const [re, why] of PY_REFS) if (re.test(dotted)) return `it ${why}`;
    return this.pyModule(dotted.split(".").slice(0, -1).join(".") || dotted);
  }

  private dotted(i: number): [string, number] | null {
    let j = i;
    let v = "";
    while (this.is(j, ".")) {
      v += ".";
      j++;
    }
    const first = this.id(j);
    if (first === null) return v !== "" ? [v, j] : null;
    v += first;
    j++;
    while (this.is(j, ".") && this.id(j + 1) !== null) {
      v += `.${this.id(j + 1)}`;
      j += 2;
    }
    return [v, j];
  }

  private python(): void {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k !== "id") continue;
      if (x.v === "import" && !this.is(i - 1, ".")) {
        // `from m import a as b, (c, d)` or `import a.b as c, d`.
        let from: string | null = null;
        let k = i - 1;
        while (
          k >= 0 &&
          (this.is(k, ".") || (t[k]!.k === "id" && t[k]!.v !== "from" && t[k]!.v !== "import"))
        )
          k--;
        if (this.id(k) === "from")
          from = t
            .slice(k + 1, i)
            .map((y) => y.v)
            .join("");
        let j = i + 1;
        if (this.is(j, "(")) j++;
        for (;;) {
          if (this.is(j, "*")) {
            if (from !== null && PY_STAR.test(from))
              this.note(
                `it imports every name of ${from}, its process and network functions with them`,
                `from ${from} import *`,
              );
            if (from !== null) this.note(this.pyModule(from), from);
            j++;
            break;
          }
          const d = this.dotted(j);
          if (d === null) break;
          let [name, e] = d;
          let as = name.split(".")[0]!;
          if (this.is(e, "as") && this.id(e + 1) !== null) {
            as = this.id(e + 1)!;
            e += 2;
          } else if (from !== null) as = name;
          const full = from !== null ? `${from}${from.endsWith(".") ? "" : "."}${name}` : name;
          if (from !== null) {
            this.note(this.pyModule(from), from);
            this.note(this.pyRef(full), full);
            this.alias.set(as, full);
          } else {
            this.note(this.pyModule(name), name);
            this.alias.set(as, this.is(e - 2, "as") ? name : as);
          }
          j = e;
          if (!this.is(j, ",")) break;
          j++;
        }
        // The names the statement binds are not uses of them.
        i = j - 1;
        continue;
      }
      // `__import__('x')`, `importlib.import_module('x')`: the module a literal names.
      if ((x.v === "__import__" || x.v === "import_module") && this.is(i + 1, "(")) {
        const lit = this.literal(i + 2);
        if (lit) {
          this.specifiers.add(i + 2);
          this.note(this.pyModule(lit[0]), lit[0]);
        }
      }
      if ((x.v === "getattr" || x.v === "setattr" || x.v === "hasattr") && this.is(i + 1, "("))
        this.pyGetattr(i);
      if (this.is(i - 1, ".") && PY_METHODS.get(x.v) !== undefined)
        this.note(`it ${PY_METHODS.get(x.v)}`, x.v);
      if (this.is(i - 1, ".")) continue;
      const bound = this.alias.get(x.v);
      if (bound === undefined) continue;
      let ref = bound;
      let j = i + 1;
      while (this.is(j, ".") && this.id(j + 1) !== null) {
        ref += `.${this.id(j + 1)}`;
        j += 2;
      }
      if (ref !== bound) this.note(this.pyRef(ref), ref);
      this.pyEnv(ref, i, j);
    }
  }

  /** getattr(o, 'name'): the name, and through a module alias the name it reaches. */
  private pyGetattr(i: number): void {
    const d = this.dotted(i + 2);
    if (d === null || !this.is(d[1], ",")) return;
    const lit = this.literal(d[1] + 1);
    if (lit === null) return;
    if (DANGER_NAMES.python.test(lit[0])) this.note("it reaches a dangerous name by getattr", lit[0]);
    const base = this.alias.get(d[0].split(".")[0]!);
    if (base !== undefined) {
      const ref = `${[base, ...d[0].split(".").slice(1)].join(".")}.${lit[0]}`;
      this.note(this.pyRef(ref), ref);
      this.pyEnv(ref, i, lit[1] + 1);
    }
  }

  /** os.environ read at [i, j): by a literal key, or whole. */
  private pyEnv(ref: string, i: number, j: number): undefined {
    if (ref === "os.getenv" || ref === "os.environ.get" || ref === "os.getenvb") {
      if (!this.is(j, "(")) return this.note(WHOLE_ENV, ref);
      const lit = this.literal(j + 1);
      return lit ? this.note(envKey(lit[0]), lit[0]) : this.note(DYN_ENV, ref);
    }
    if (ref === "os.environ.setdefault" || ref === "os.environ.pop") {
      const lit = this.literal(j + 1);
      return lit ? this.note(envKey(lit[0]), lit[0]) : this.note(DYN_ENV, ref);
    }
    if (ref !== "os.environ" && ref !== "os.environb") {
      if (/^os\.environ\.(copy|items|keys|values|__\w+__|get_?\w*)$/.test(ref)) this.note(WHOLE_ENV, ref);
      return;
    }
    if (this.is(i - 1, "in")) return;
    if (this.is(j, "[")) {
      const lit = this.literal(j + 1);
      return lit ? this.note(envKey(lit[0]), lit[0]) : this.note(DYN_ENV, ref);
    }
    if (this.is(j, ".") && /^(update|clear|__setitem__|__delitem__)$/.test(this.id(j + 1) ?? "")) return;
    this.note(WHOLE_ENV, ref);
  }

  // ---------------------------------------------------------------- JS / TS

  private jsModule(spec: string): string | null {
    if (/^[a-z][\w+.-]*:\/\//i.test(spec) || spec.startsWith("data:"))
      return "it loads code from a URL the gate does not read";
    const name = spec.replace(/^npm:/, "");
    const bare = name.replace(/^node:/, "");
    if (
      spec.startsWith("node:") ||
      NODE_PURE.has(bare) ||
      NODE_OTHER.get(bare) !== undefined ||
      NODE_OTHER.get(bare.split("/")[0]!) !== undefined
    ) {
      if (NODE_PURE.has(bare)) return null;
      const why = NODE_OTHER.get(bare) ?? NODE_OTHER.get(bare.split("/")[0]!);
      return why ? `it ${why}` : "it imports a builtin module the gate has not reviewed as pure";
    }
    if (JS_THIRD.get(name) !== undefined) return `it ${JS_THIRD.get(name)}`;
    if (name.startsWith("bun:") && name !== "bun:test" && name !== "bun:sqlite")
      return "it imports a Bun builtin the gate has not reviewed as pure";
    if (/\.node$/.test(name)) return "it loads native code";
    if (/^(\/|~|file:)/.test(name)) return "it loads code from a path it chooses";
    return null;
  }

  private js(): void {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k === "id" && (x.v === "import" || x.v === "export") && !this.is(i - 1, ".")) {
        // `import 'm'`, `import x, {a as b} from 'm'`, `export * from 'm'`, `import('m')`.
        if (x.v === "import" && this.is(i + 1, "(")) {
          this.jsSpec(i + 2, null);
          continue;
        }
        if (x.v === "import" && t[i + 1]?.k === "str") {
          this.jsSpec(i + 1, null);
          continue;
        }
        let j = i + 1;
        const names: [string, string][] = [];
        let star: string | null = null;
        let def: string | null = null;
        for (; j < t.length && j < i + 400; j++) {
          const y = t[j]!;
          if (y.k === "id" && y.v === "from" && t[j + 1]?.k === "str") break;
          if (
            this.is(j, ";") ||
            this.is(j, "=") ||
            (y.k === "id" && (y.v === "import" || y.v === "export")) ||
            (y.k === "id" &&
              /^(const|let|var|function|class|default|async|interface|type|enum|declare|abstract|namespace)$/.test(
                y.v,
              ) &&
              x.v === "export")
          ) {
            j = -1;
            break;
          }
          if (this.is(j, "*") && this.is(j + 1, "as") && this.id(j + 2)) star = this.id(j + 2);
          if (this.is(j, "{")) {
            for (j++; j < t.length && !this.is(j, "}"); j++) {
              const n = this.id(j) ?? (t[j]?.k === "str" ? t[j]!.v : null);
              if (n === null || n === "type") continue;
              if (this.is(j + 1, "as") && this.id(j + 2) !== null) {
                names.push([n, this.id(j + 2)!]);
                j += 2;
              } else names.push([n, n]);
            }
            continue;
          }
          if (
            y.k === "id" &&
            def === null &&
            star === null &&
            names.length === 0 &&
            y.v !== "type" &&
            y.v !== "typeof"
          )
            def = y.v;
        }
        if (j < 0 || j >= t.length || !this.is(j, "from")) continue;
        const spec = this.jsSpec(j + 1, null);
        if (spec === null) continue;
        if (def !== null) this.alias.set(def, spec);
        if (star !== null) this.alias.set(star, spec);
        for (const [n, as] of names) {
          this.alias.set(as, `${spec}.${n}`);
          this.jsRef(`${spec}.${n}`);
        }
        continue;
      }
      if (x.k === "id" && x.v === "require" && this.is(i + 1, "(")) {
        const spec = this.jsSpec(i + 2, null);
        if (spec === null) continue;
        // `const h = require('m')`, `const {a, b: c} = require('m')`, `require('m').x`.
        if (this.is(i - 1, "=")) {
          const n = this.id(i - 2);
          if (n !== null) this.alias.set(n, spec);
          else if (this.is(i - 2, "}")) {
            let k = i - 3;
            while (k >= 0 && !this.is(k, "{")) {
              const key = this.id(k);
              if (key !== null) {
                const prop = this.is(k - 1, ":") ? this.id(k - 2) : key;
                if (prop !== null) {
                  this.alias.set(key, `${spec}.${prop}`);
                  this.jsRef(`${spec}.${prop}`);
                }
                if (this.is(k - 1, ":")) k -= 2;
              }
              k--;
            }
          }
        }
        continue;
      }
      if (
        x.k === "op" &&
        x.v === "[" &&
        (t[i - 1]?.k === "id" || this.is(i - 1, ")") || this.is(i - 1, "]"))
      ) {
        const lit = this.literal(i + 1);
        if (lit && this.is(lit[1], "]")) {
          if (DANGER_NAMES.js.test(lit[0]))
            this.note("it reaches a dangerous name by a computed member", lit[0]);
          const base = t[i - 1]?.k === "id" ? this.alias.get(t[i - 1]!.v) : undefined;
          if (base !== undefined && !this.is(i - 2, ".")) this.jsRef(`${base}.${lit[0]}`);
        }
      }
      // `globalThis.process.env` is `process.env`.
      const global =
        x.k === "id" && this.is(i - 1, ".") && /^(globalThis|global|window|self)$/.test(this.id(i - 2) ?? "");
      if (x.k !== "id" || ((this.is(i - 1, ".") || this.is(i - 1, "?.")) && !global)) continue;
      if (x.v === "process" && this.is(i + 1, ".") && this.id(i + 2) === "env") this.jsEnv(i, i + 3);
      else if ((x.v === "Bun" || x.v === "Deno") && this.is(i + 1, ".") && this.id(i + 2) === "env")
        this.jsEnv(i, i + 3);
      else if (
        x.v === "import" &&
        this.is(i + 1, ".") &&
        this.id(i + 2) === "meta" &&
        this.is(i + 3, ".") &&
        this.id(i + 4) === "env"
      )
        this.jsEnv(i, i + 5);
      const bound = this.alias.get(x.v);
      if (bound === undefined) continue;
      let ref = bound;
      let j = i + 1;
      while ((this.is(j, ".") || this.is(j, "?.")) && this.id(j + 1) !== null) {
        ref += `.${this.id(j + 1)}`;
        j += 2;
      }
      if (ref !== bound) this.jsRef(ref);
    }
  }

  /** A module specifier at `i` (a literal, decoded and folded): judged, marked; null if none. */
  private jsSpec(i: number, _: null): string | null {
    const lit = this.literal(i);
    if (lit === null) return null;
    this.specifiers.add(i);
    const spec = lit[0];
    this.note(this.jsModule(spec), spec);
    const bare = spec.replace(/^(node:|npm:)/, "");
    return bare;
  }

  private jsRef(ref: string): void {
    for (const [re, why] of JS_REFS) if (re.test(ref)) this.note(`it ${why}`, ref);
    if (/^(child_process|node:child_process)\./.test(ref)) this.note("it runs processes", ref);
  }

  /** process.env / Deno.env / Bun.env at `i`, its member at `j`. */
  private jsEnv(i: number, j: number): undefined {
    const t = this.t;
    const who = t[i]!.v;
    if ((this.is(j, ".") || this.is(j, "?.")) && this.id(j + 1) !== null) {
      const m = this.id(j + 1)!;
      if (who === "Deno") {
        if (m === "get" && this.is(j + 2, "(")) {
          const lit = this.literal(j + 3);
          return lit ? this.note(envKey(lit[0]), lit[0]) : this.note(DYN_ENV, "Deno.env.get");
        }
        if (m === "set" || m === "delete" || m === "has") return;
        return this.note(WHOLE_ENV, `Deno.env.${m}`);
      }
      if (/^(hasOwnProperty)$/.test(m)) return;
      return this.note(envKey(m), m);
    }
    if (this.is(j, "[")) {
      const lit = this.literal(j + 1);
      return lit && this.is(lit[1], "]")
        ? this.note(envKey(lit[0]), lit[0])
        : this.note(DYN_ENV, `${who}.env[…]`);
    }
    // `const { PORT, NODE_ENV } = process.env`: the keys destructured.
    if (this.is(i - 1, "=") && this.is(i - 2, "}")) {
      let k = i - 3;
      for (; k >= 0 && !this.is(k, "{"); k--) {
        if (this.is(k, "...")) return this.note(WHOLE_ENV, `${who}.env`);
        if (this.is(k, ".")) return this.note(WHOLE_ENV, `${who}.env`);
        const key = this.id(k);
        if (
          key !== null &&
          (this.is(k + 1, ",") || this.is(k + 1, "}") || this.is(k + 1, ":") || this.is(k + 1, "=")) &&
          !this.is(k - 1, ":")
        )
          this.note(envKey(key), key);
      }
      return;
    }
    // `'X' in process.env`: a key test.
    if (this.is(i - 1, "in")) return;
    this.note(WHOLE_ENV, `${who}.env`);
  }

  // ---------------------------------------------------------------- Go

  private goImport(i: number): number {
    let j = i;
    let as: string | null = null;
    if (this.id(j) !== null || this.is(j, ".") || this.is(j, "_")) {
      as = this.t[j]!.v;
      j++;
    }
    const x = this.t[j];
    if (x?.k !== "str") return j;
    this.specifiers.add(j);
    const path = x.v;
    const std = !path.split("/")[0]!.includes(".");
    if (std && !GO_PURE.has(path)) {
      const why = GO_OTHER.find(([re]) => re.test(path))?.[1];
      this.note(why ? `it ${why}` : "it imports a standard package the gate has not reviewed as pure", path);
    }
    if (/^golang\.org\/x\/(net|sys)\b|^google\.golang\.org\/grpc\b/.test(path))
      this.note("it uses the network or native code", path);
    const name =
      as ??
      path
        .split("/")
        .pop()!
        .replace(/^go-|\.v\d+$/g, "");
    if (name !== "_" && name !== ".") this.alias.set(name, path);
    return j + 1;
  }

  private go(): void {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k === "id" && x.v === "import") {
        if (this.is(i + 1, "(")) {
          let j = i + 2;
          while (j < t.length && !this.is(j, ")")) {
            const e = this.goImport(j);
            j = e > j ? e : j + 1;
            if (this.is(j, ";")) j++;
          }
          i = j;
        } else i = this.goImport(i + 1) - 1;
        continue;
      }
      if (x.k !== "id" || this.is(i - 1, ".")) continue;
      const bound = this.alias.get(x.v);
      if (bound === undefined || !this.is(i + 1, ".") || this.id(i + 2) === null) continue;
      const ref = `${bound}.${this.id(i + 2)}`;
      for (const [re, why] of GO_REFS) if (re.test(ref)) this.note(`it ${why}`, ref);
      if (bound === "os" || bound === "syscall") {
        const m = this.id(i + 2)!;
        if (m === "Environ") this.note(WHOLE_ENV, ref);
        if ((m === "Getenv" || m === "LookupEnv") && this.is(i + 3, "(")) {
          const lit = this.literal(i + 4);
          if (lit) this.note(envKey(lit[0]), lit[0]);
          else this.note(DYN_ENV, ref);
        }
        if ((m === "ExpandEnv" || m === "Expand") && this.is(i + 3, "(")) {
          const lit = this.literal(i + 4);
          if (!lit) this.note(DYN_ENV, ref);
          else for (const k of lit[0].matchAll(/\$\{?(\w+)/g)) this.note(envKey(k[1]!), k[1]!);
        }
      }
    }
  }

  // ---------------------------------------------------------------- Rust

  /** A `use` tree at `i` with prefix; returns the index after it. */
  private rustUse(i: number, prefix: string[]): number {
    const path = [...prefix];
    let j = i;
    if (this.is(j, "::")) j++;
    for (;;) {
      if (this.is(j, "{")) {
        j++;
        while (j < this.t.length && !this.is(j, "}")) {
          j = this.rustUse(j, path);
          if (this.is(j, ",")) j++;
          else if (!this.is(j, "}")) j++;
        }
        return j + 1;
      }
      if (this.is(j, "*")) {
        this.rustPath(path, "*");
        return j + 1;
      }
      const n = this.id(j);
      if (n === null) return j;
      j++;
      if (n !== "self") path.push(n);
      if (this.is(j, "::")) {
        j++;
        continue;
      }
      let as = n === "self" ? path[path.length - 1]! : n;
      if (this.is(j, "as") && this.id(j + 1) !== null) {
        as = this.id(j + 1)!;
        j += 2;
      }
      this.alias.set(as, path.join("::"));
      this.rustPath(path, "");
      return j;
    }
  }

  private rustPath(path: string[], _: string): undefined {
    const [root, mod] = path;
    if (root === "std" || root === "core" || root === "alloc") {
      if (mod === undefined) return;
      if (RUST_OTHER.get(mod) !== undefined) return this.note(`it ${RUST_OTHER.get(mod)}`, path.join("::"));
      if (!RUST_PURE.has(mod))
        return this.note("it uses a std module the gate has not reviewed as pure", path.join("::"));
      if (mod === "env") {
        const f = path[2];
        if (f === "home_dir") this.note("it reaches home or system files", "env::home_dir");
        if (f === "vars" || f === "vars_os") this.note(WHOLE_ENV, `env::${f}`);
      }
      return;
    }
    if (root !== undefined && RUST_CRATES.get(root) !== undefined)
      this.note(`it ${RUST_CRATES.get(root)}`, path.join("::"));
  }

  private rust(): void {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k !== "id") continue;
      if (x.v === "use" && !this.is(i - 1, "::")) {
        i = this.rustUse(i + 1, []) - 1;
        continue;
      }
      if (x.v === "extern" && this.id(i + 1) === "crate" && this.id(i + 2) !== null) {
        this.rustPath([this.id(i + 2)!], "");
        continue;
      }
      // `env!("HOME")`, `option_env!("X")`: a compile-time environment read.
      if ((x.v === "env" || x.v === "option_env") && this.is(i + 1, "!") && this.is(i + 2, "(")) {
        const lit = this.literal(i + 3);
        if (lit && lit[0] !== "CARGO_MANIFEST_DIR" && !lit[0].startsWith("CARGO_"))
          this.note(envKey(lit[0]), lit[0]);
        continue;
      }
      if (this.is(i - 1, "::") || this.is(i - 1, ".")) continue;
      // A path `a::b::c` (its head through `use` aliases).
      const head = this.alias.get(x.v)?.split("::") ?? [x.v];
      const path = [...head];
      let j = i + 1;
      while (this.is(j, "::") && this.id(j + 1) !== null) {
        path.push(this.id(j + 1)!);
        j += 2;
      }
      if (path.length === 1 && !this.alias.has(x.v)) continue;
      this.rustPath(path, "");
      const last = path[path.length - 1];
      if (path.includes("env") && (last === "var" || last === "var_os") && this.is(j, "(")) {
        const lit = this.literal(j + 1);
        if (lit) this.note(envKey(lit[0]), lit[0]);
        else this.note(DYN_ENV, path.join("::"));
      }
    }
  }

  // ---------------------------------------------------------------- Ruby

  private ruby(): void {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k !== "id") continue;
      if ((x.v === "require" || x.v === "load" || x.v === "require_relative") && !this.is(i - 1, ".")) {
        const at = this.is(i + 1, "(") ? i + 2 : i + 1;
        const lit = this.literal(at);
        if (lit) {
          this.specifiers.add(at);
          const why = RUBY_LIBS.get(lit[0]);
          if (why && x.v !== "require_relative") this.note(`it ${why}`, lit[0]);
          if (x.v !== "require_relative" && /^(\/|~)/.test(lit[0]))
            this.note("it loads code from a path it chooses", lit[0]);
        }
        continue;
      }
      // Kernel#open / IO.read of '|cmd' runs the command.
      if (
        (x.v === "open" || /^(read|readlines|write|foreach|binread|popen)$/.test(x.v)) &&
        (x.v === "open" || this.id(i - 2) === "IO")
      ) {
        const at = this.is(i + 1, "(") ? i + 2 : i + 1;
        const lit = this.literal(at);
        if (
          lit?.[0].startsWith("|") &&
          (!this.is(i - 1, ".") ||
            this.id(i - 2) === "Kernel" ||
            this.id(i - 2) === "IO" ||
            this.id(i - 2) === "URI")
        )
          this.note("it runs processes (open of '|…')", lit[0]);
      }
      if (/^(send|__send__|public_send|method|instance_method|respond_to\?)$/.test(x.v)) {
        let at = this.is(i + 1, "(") ? i + 2 : i + 1;
        // gate64: `send(('sp' + 'awn').to_sym, …)`: the name's own parentheses.
        while (this.is(at, "(")) at++;
        let name: string | null = null;
        if (this.is(at, ":") && this.id(at + 1) !== null) name = this.id(at + 1);
        else if (this.is(at, ":") && t[at + 1]?.k === "str") name = t[at + 1]!.v;
        else name = this.literal(at)?.[0] ?? null;
        if (name !== null && DANGER_NAMES.ruby.test(name))
          this.note("it reaches a dangerous name by send", name);
        // gate64: a name computed at run time (`send(m)`, `method(x.to_sym).call`) may be any method.
        else if (
          name === null &&
          x.v !== "respond_to?" &&
          this.is(i + 1, "(") &&
          !this.is(at, ")") &&
          this.id(i - 1) !== "def" &&
          !this.is(i - 1, ":")
        )
          this.note("it calls a method whose name is only known at run time (send/method)", x.v);
      }
      if (x.v === "ENV" && !this.is(i - 1, "::")) {
        if (this.is(i + 1, "[")) {
          const lit = this.literal(i + 2);
          if (lit) this.note(envKey(lit[0]), lit[0]);
          else this.note(DYN_ENV, "ENV[…]");
        } else if (
          this.is(i + 1, ".") &&
          /^(fetch|key\?|has_key\?|include\?|member\?|\[\]=|store|delete)$/.test(this.id(i + 2) ?? "")
        ) {
          const m = this.id(i + 2)!;
          if (m === "fetch") {
            const at = this.is(i + 3, "(") ? i + 4 : i + 3;
            const lit = this.literal(at);
            if (lit) this.note(envKey(lit[0]), lit[0]);
            else this.note(DYN_ENV, "ENV.fetch");
          }
        } else this.note(WHOLE_ENV, "ENV");
      }
      if (x.v === "Etc" && this.is(i + 1, "."))
        this.note("it reaches home or system files", `Etc.${this.id(i + 2)}`);
    }
  }

  // ---------------------------------------------------------------- paths

  /** Whether the bracket group (or statement) around token `i` holds an anchor at the file's directory. */
  private anchored(i: number): boolean {
    const t = this.t;
    // The innermost group that holds `i`.
    let d = 0;
    let start = -1;
    for (let k = i - 1; k >= 0; k--) {
      const v = t[k]!.k === "op" ? t[k]!.v : "";
      if (v === ")" || v === "]" || v === "}") d++;
      else if (v === "(" || v === "[" || v === "{") {
        if (d === 0) {
          start = k;
          break;
        }
        d--;
      }
    }
    let end = t.length;
    if (start >= 0) {
      d = 0;
      for (let k = start; k < t.length; k++) {
        const v = t[k]!.k === "op" ? t[k]!.v : "";
        if (v === "(" || v === "[" || v === "{") d++;
        else if (v === ")" || v === "]" || v === "}") {
          d--;
          if (d === 0) {
            end = k;
            break;
          }
        }
      }
      // `path.join(__dirname, '..')`: a block `{ … }` is no expression, keep it to the statement.
      if (t[start]!.v === "{") start = -1;
    }
    if (start < 0) {
      // The statement: back to the line start (all tokens keep their line).
      const line = t[i]!.line;
      start = i;
      while (start > 0 && t[start - 1]!.line === line && !this.is(start - 1, ";")) start--;
      end = i;
      while (end < t.length - 1 && t[end + 1]!.line === line && !this.is(end + 1, ";")) end++;
    }
    for (let k = start; k <= end && k < t.length; k++) {
      const y = t[k]!;
      if ((y.k === "id" || (y.k === "str" && this.lang === "rust")) && this.anchors.has(y.v)) return true;
    }
    return false;
  }

  /** Names assigned from an anchored expression (`HERE = os.path.dirname(__file__)`) are anchors too. */
  private anchorNames(): void {
    const t = this.t;
    for (let i = 1; i < t.length; i++) {
      if (!(this.is(i, "=") || this.is(i, ":=")) || this.is(i + 1, "=")) continue;
      const n = this.id(i - 1);
      if (n === null) continue;
      const line = t[i]!.line;
      for (let k = i + 1; k < t.length && !this.is(k, ";"); k++) {
        const y = t[k]!;
        if (
          y.line !== line &&
          !(this.is(k - 1, "(") || this.is(k - 1, ",") || this.is(k - 1, ".") || this.is(k - 1, "+"))
        )
          break;
        if ((y.k === "id" || (y.k === "str" && this.lang === "rust")) && this.anchors.has(y.v)) {
          this.anchors.add(n);
          break;
        }
      }
    }
  }

  private pathWhy(v: string, anchored: boolean): string | null {
    if (v.includes("://") || v.includes("\n")) return null;
    if (
      v.startsWith("~/") ||
      ((this.lang === "python" || this.lang === "ruby") && (v === "~" || /^~[A-Za-z_][\w.-]*\/?$/.test(v)))
    )
      return "it reaches home or system files";
    if (v.startsWith("/"))
      return SYSTEM_ROOT.test(v.replace(/\/+/g, "/")) ? "it reaches home or system files" : null;
    if (anchored || !v.includes("..")) return null;
    // A relative path that climbs above where it starts: the run's directory is the workspace's.
    let depth = 0;
    for (const seg of v.split(/[/\\]+/)) {
      if (seg === "" || seg === ".") continue;
      if (seg === "\u0000" || seg === "?") return null;
      if (seg === "..") {
        if (depth === 0) return "it reaches a path outside the workspace";
        depth--;
      } else depth++;
    }
    return null;
  }

  private paths(): undefined {
    this.anchorNames();
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const x = t[i]!;
      if (x.k !== "str" || this.specifiers.has(i)) continue;
      // The first argument of a call that names a module or a file beside the code.
      if (this.is(i - 1, "(") && SPECIFIER_CALLS.has(this.id(i - 2) ?? "")) continue;
      if (this.is(i - 1, "(") && this.is(i - 2, "!") && SPECIFIER_CALLS.has(this.id(i - 3) ?? "")) continue;
      if (this.lang === "ruby" && SPECIFIER_CALLS.has(this.id(i - 1) ?? "")) continue;
      const lit = this.literal(i);
      const v = lit ? lit[0] : x.v;
      if (v.length > 4096 || v === "") continue;
      const why = this.pathWhy(v, v.startsWith("..") || v.startsWith("./") ? this.anchored(i) : false);
      if (why !== null) return this.note(why, v);
    }
    this.joins();
  }

  /** Joined paths: `os.path.join('/', 'Users', u, '.ssh')`, `['', 'Users', u].join('/')`, `File.join`. */
  private joins(): undefined {
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const n = this.id(i);
      let args: number | null = null;
      let sep = "/";
      if (n !== null && JOINS.has(n) && this.is(i - 1, ".") && this.is(i + 1, "(")) args = i + 2;
      else if (
        t[i]!.k === "str" &&
        this.is(i + 1, ".") &&
        this.id(i + 2) === "join" &&
        this.is(i + 3, "(") &&
        this.is(i + 4, "[")
      ) {
        // Python's `'/'.join(['', 'Users', u])`.
        sep = t[i]!.v;
        args = i + 5;
      } else if (this.is(i, "[") && this.lang !== "rust") {
        // `[…].join('/')`
        let d = 0;
        let k = i;
        for (; k < t.length; k++) {
          if (this.is(k, "[")) d++;
          if (this.is(k, "]") && --d === 0) break;
        }
        if (this.is(k + 1, ".") && this.id(k + 2) === "join" && this.is(k + 3, "(")) {
          const s = this.literal(k + 4);
          if (s && this.is(s[1], ")")) {
            sep = s[0];
            args = i + 1;
          }
        }
      }
      if (args === null) continue;
      const parts: string[] = [];
      let anchored = false;
      let d = 0;
      let cur: string | null = null;
      let k = args;
      for (; k < t.length; k++) {
        const y = t[k]!;
        if (y.k === "op" && "([{".includes(y.v)) d++;
        if (y.k === "op" && ")]}".includes(y.v)) {
          if (d === 0) break;
          d--;
        }
        if (d === 0 && this.is(k, ",")) {
          parts.push(cur ?? "?");
          cur = null;
          continue;
        }
        if ((y.k === "id" || (y.k === "str" && this.lang === "rust")) && this.anchors.has(y.v))
          anchored = true;
        if (
          d === 0 &&
          y.k === "str" &&
          cur === null &&
          (this.is(k + 1, ",") || this.is(k + 1, ")") || this.is(k + 1, "]"))
        )
          cur = y.v;
        else cur = cur === null ? "?" : "?";
      }
      if (cur !== null) parts.push(cur);
      if (parts.length < 2) continue;
      const v = parts.join(sep).replace(/\/+/g, "/");
      const why = this.pathWhy(v, anchored || parts[0] === "?");
      if (why !== null) return this.note(why, v);
    }
  }

  // ---------------------------------------------------------------- loops

  /** A loop that cannot end (no condition, no exit in its body). */
  private loops(): undefined {
    if (this.lang === "python") return this.pyLoops();
    const t = this.t;
    for (let i = 0; i < t.length; i++) {
      const n = this.id(i);
      if (n === null || this.is(i - 1, ".")) continue;
      let body = -1;
      if (this.lang === "js" || this.lang === "rust" || this.lang === "go") {
        if (n === "while" && this.lang !== "go") {
          const cond = this.lang === "rust" ? i + 1 : i + 2;
          const v = t[cond]?.v;
          const close = this.lang === "rust" ? this.is(cond + 1, "{") : this.is(cond + 1, ")");
          if ((v === "true" || v === "1") && close) body = this.lang === "rust" ? cond + 1 : cond + 2;
        }
        if (
          n === "for" &&
          this.lang === "js" &&
          this.is(i + 1, "(") &&
          this.is(i + 2, ";") &&
          this.is(i + 3, ";") &&
          this.is(i + 4, ")")
        )
          body = i + 5;
        if (
          n === "for" &&
          this.lang === "go" &&
          (this.is(i + 1, "{") || (this.id(i + 1) === "true" && this.is(i + 2, "{")))
        )
          body = this.is(i + 1, "{") ? i + 1 : i + 2;
        if (n === "loop" && this.lang === "rust" && this.is(i + 1, "{")) body = i + 1;
      } else if (this.lang === "ruby") {
        if (n === "loop" && (this.id(i + 1) === "do" || this.is(i + 1, "{"))) body = i + 1;
        if ((n === "while" && this.id(i + 1) === "true") || (n === "until" && this.id(i + 1) === "false"))
          body = i + 2;
      }
      let end = -1;
      if (n === "while" && this.lang === "js" && body >= 0 && this.is(i - 1, "}")) {
        // `do { … } while (true)`: the body is the block before.
        let d = 0;
        for (let k = i - 1; k >= 0; k--) {
          if (this.is(k, "}")) d++;
          if (this.is(k, "{") && --d === 0) {
            end = i - 1;
            body = k;
            break;
          }
        }
      }
      if (body < 0) continue;
      if (end < 0) end = this.blockEnd(body);
      if (!this.exits(body, end))
        return this.note("it runs a loop with no exit: the gate cannot bound it", `${n}`);
    }
  }

  /** The index of the token that closes the block opened at `at` (a `{`, a Ruby `do`/line). */
  private blockEnd(at: number): number {
    const t = this.t;
    if (this.is(at, "{")) {
      let d = 0;
      for (let k = at; k < t.length; k++) {
        if (this.is(k, "{")) d++;
        if (this.is(k, "}") && --d === 0) return k;
      }
      return t.length;
    }
    if (this.lang === "ruby") {
      // Keyword blocks: `do`, and statements that open at a line start, close with `end`.
      let d = 0;
      for (let k = at; k < t.length; k++) {
        const v = this.id(k);
        const first = k === 0 || t[k - 1]!.line !== t[k]!.line || this.is(k - 1, "=") || this.is(k - 1, ";");
        if (v === "do" || v === "begin" || v === "def" || v === "class" || v === "module" || v === "case")
          d++;
        else if (first && (v === "if" || v === "unless" || v === "while" || v === "until" || v === "for"))
          d++;
        else if (k === at) d++;
        if (v === "end" && --d === 0) return k;
      }
      return t.length;
    }
    // A JS loop body without braces: one statement.
    let k = at;
    while (k < t.length && !this.is(k, ";") && t[k]!.line === t[at]!.line) k++;
    return k;
  }

  private exits(from: number, to: number): boolean {
    for (let k = from; k <= to && k < this.t.length; k++) {
      const v = this.t[k]!;
      if (
        v.k === "id" &&
        /^(break|return|throw|raise|yield|goto|panic|exit|abort|Exit|Fatal\w*|Exitf|quit|_exit|os\.Exit)$/.test(
          v.v,
        )
      )
        return true;
      if (v.k === "op" && v.v === "?" && this.lang === "rust") return true;
    }
    return false;
  }

  private pyLoops(): undefined {
    const a = this.all;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x.k !== "id" || x.v !== "while") continue;
      const c = a[i + 1];
      if (!(c && ((c.k === "id" && c.v === "True") || (c.k === "num" && c.v !== "0")) && a[i + 2]?.v === ":"))
        continue;
      // The body: the rest of the header line, then lines indented deeper than the header.
      let k = i + 3;
      const headLine = x.line;
      for (; k < a.length; k++) {
        const y = a[k]!;
        if (y.k === "nl") continue;
        if (y.line !== headLine && y.indent <= x.indent) break;
        if (y.k === "id" && /^(break|return|raise|yield|exit|quit|_exit)$/.test(y.v)) break;
      }
      const y = a[k];
      if (y === undefined || !(y.k === "id" && /^(break|return|raise|yield|exit|quit|_exit)$/.test(y.v)))
        return this.note("it runs a loop with no exit: the gate cannot bound it", "while True");
    }
  }
}

/** Every top-level name of Python's standard library (closed list, for the allowlist). */
const STDLIB_PY_TOP = new Set([
  ...PY_PURE,
  ...PY_STDLIB_OTHER.keys(),
  ..."chunk crypt imghdr mailcap msilib nis nntplib ossaudiodev pipes sndhdr spwd sunau telnetlib uu xdrlib audioop aifc cgi cgitb".split(
    " ",
  ),
]);

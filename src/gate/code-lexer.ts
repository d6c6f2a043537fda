/**
 * Tokens of a written code file (gate58): code apart from comments and string literals, each
 * literal decoded as its language decodes it (escapes, raw strings, Python's adjacent literals),
 * the code inside interpolations (f-strings, template literals, Ruby `#{}`) lexed as code.
 * code-reader.ts reads imports, calls, paths and environment reads from these tokens.
 *
 * A text the lexer cannot read as its language reads it (an unterminated literal, an escape the
 * language rejects, a `\N{…}` name) is an error, never a guess: the reader calls that "cannot
 * bound". Two forms are ambiguous without a parser and are read the way that shows more code, not
 * less: a JS quote left open at the end of its line (JSX text: `<p>it's</p>`) is punctuation, and
 * a `/` that does not close on its line is division.
 */

export type Lang = "python" | "js" | "go" | "rust" | "ruby";

export interface Token {
  /** id: identifier or keyword; str: a decoded string literal; num; op: punctuation; nl: a line end. */
  k: "id" | "str" | "num" | "op" | "nl";
  v: string;
  /** The 1-based line and, for Python, the indentation of the line the token starts on. */
  line: number;
  indent: number;
}

export interface Lexed {
  toks: Token[];
  /** Why the text cannot be read, or null. */
  error: string | null;
}

/** Identifier characters by code (ASCII letters, `_`, `$`, and every non-ASCII letter-ish code). */
const isStart = (c: string): boolean => {
  const k = c.charCodeAt(0);
  return (k >= 97 && k <= 122) || (k >= 65 && k <= 90) || k === 95 || k === 36 || k >= 0xc0;
};
const isPart = (c: string): boolean => {
  const k = c.charCodeAt(0);
  return isStart(c) || (k >= 48 && k <= 57);
};
const isDigit = (c: string): boolean => {
  const k = c.charCodeAt(0);
  return k >= 48 && k <= 57;
};
const ID_START = { test: isStart };
const ID_PART = { test: (c: string) => c !== "" && isPart(c) };

/** Tokens of `text` read as `lang`. */
export function lex(lang: Lang, text: string): Lexed {
  const L = new Lexer(lang, text);
  try {
    L.run(text.length, false);
  } catch (e) {
    if (e instanceof LexError) return { toks: L.toks, error: e.message };
    throw e;
  }
  return { toks: L.toks, error: null };
}

class LexError extends Error {}

const PY_PREFIX = /^(r|u|b|f|br|rb|fr|rf)$/i;
const RUST_PREFIX = /^(r|b|br|c|cr)$/;
/** Ruby %-literal kinds. */
const RUBY_PCT = /[qQwWiIrsx]/;
/** Punctuation read as one token of two characters (`::`, `:=`, `=>`, `==`, `->`, `?.`): first → seconds. */
const TWO_CHAR_OPS = new Map([
  [":", ":="],
  ["=", ">="],
  ["-", ">"],
  ["?", "."],
]);
const OPEN_CLOSE: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">" };
const JS_REGEX_BEFORE = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

class Lexer {
  readonly toks: Token[] = [];
  i = 0;
  line = 1;
  indent = 0;
  /** Bracket depth (Python: a line end inside brackets is no line end). */
  depth = 0;
  /** Ruby heredocs whose bodies start on the next line: [terminator, squiggly/dash, raw]. */
  private pending: [string, boolean, boolean][] = [];

  constructor(
    readonly lang: Lang,
    readonly s: string,
  ) {}

  private fail(why: string): never {
    throw new LexError(`${why} (line ${this.line})`);
  }

  private push(k: Token["k"], v: string): void {
    this.toks.push({ k, v, line: this.line, indent: this.indent });
  }

  private prevSignificant(): Token | undefined {
    for (let k = this.toks.length - 1; k >= 0; k--) if (this.toks[k]!.k !== "nl") return this.toks[k];
    return undefined;
  }

  /** Whether a `/` (or Ruby `%`) here starts a literal rather than dividing. */
  private valueStart(): boolean {
    const p = this.prevSignificant();
    if (p === undefined) return true;
    if (p.k === "num" || p.k === "str") return false;
    if (p.k === "id") return JS_REGEX_BEFORE.has(p.v) || (this.lang === "ruby" && RUBY_VALUE_BEFORE.has(p.v));
    return !(p.v === ")" || p.v === "]" || p.v === "}");
  }

  /**
   * Lexes until `end`, or (with `closing`) until the `}` that closes an interpolation, whose
   * index it returns.
   */
  run(end: number, closing: boolean): number {
    const s = this.s;
    let braces = 0;
    let lineStart = true;
    while (this.i < end) {
      const c = s[this.i]!;
      if (c === "\n") {
        if (this.lang !== "python" || this.depth === 0) this.push("nl", "\n");
        this.line++;
        this.i++;
        lineStart = true;
        if (this.pending.length > 0) this.heredocBodies();
        let k = this.i;
        while (s[k] === " " || s[k] === "\t") k++;
        this.indent = k - this.i;
        continue;
      }
      if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
        this.i++;
        continue;
      }
      const atLineStart = lineStart;
      lineStart = false;
      // Comments.
      if ((this.lang === "python" || this.lang === "ruby") && c === "#") {
        this.skipLine();
        continue;
      }
      if (this.lang === "ruby" && atLineStart && s.startsWith("=begin", this.i)) {
        const e = s.indexOf("\n=end", this.i);
        if (e < 0) this.fail("an unterminated =begin comment");
        this.countLines(this.i, e + 5);
        this.i = e + 5;
        this.skipLine();
        continue;
      }
      if (this.lang === "ruby" && atLineStart && /^__END__\r?(\n|$)/.test(s.slice(this.i, this.i + 9))) {
        this.i = end;
        break;
      }
      if (this.lang === "js" && this.i === 0 && s.startsWith("#!")) {
        this.skipLine();
        continue;
      }
      if (this.lang !== "python" && this.lang !== "ruby" && c === "/" && s[this.i + 1] === "/") {
        this.skipLine();
        continue;
      }
      if (this.lang !== "python" && this.lang !== "ruby" && c === "/" && s[this.i + 1] === "*") {
        this.blockComment();
        continue;
      }
      if (c === "\\" && s[this.i + 1] === "\n") {
        this.i += 2;
        this.line++;
        continue;
      }
      if (c === "\\" && s[this.i + 1] === "\r" && s[this.i + 2] === "\n") {
        this.i += 3;
        this.line++;
        continue;
      }
      if (this.lang === "ruby" && c === "$" && /[^\w\s{]/.test(s[this.i + 1] ?? " ")) {
        // `$'`, `$"` (loaded features), `$:` (load path): globals, not quotes.
        this.push("id", s.slice(this.i, this.i + 2));
        this.i += 2;
        continue;
      }
      if (ID_START.test(c) || (this.lang === "js" && c === "\\" && s[this.i + 1] === "u")) {
        const id = this.ident();
        if (
          this.lang === "python" &&
          id.length <= 2 &&
          PY_PREFIX.test(id) &&
          (s[this.i] === "'" || s[this.i] === '"')
        ) {
          this.pyString(id.toLowerCase());
          continue;
        }
        if (
          this.lang === "rust" &&
          RUST_PREFIX.test(id) &&
          (s[this.i] === '"' || (id.includes("r") && s[this.i] === "#"))
        ) {
          this.rustString(id);
          continue;
        }
        if (this.lang === "rust" && id === "b" && s[this.i] === "'") {
          this.rustChar();
          continue;
        }
        this.push("id", id);
        continue;
      }
      if (isDigit(c) || (c === "." && isDigit(s[this.i + 1] ?? ""))) {
        const m = /^(?:0[xXoObB][\w]*|[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?[\w]*)/.exec(
          s.slice(this.i, this.i + 64),
        )!;
        // `1..2` (Rust/Ruby ranges): the number stops before the dots.
        let t = m[0];
        if ((this.lang === "rust" || this.lang === "ruby") && t.endsWith(".") && s[this.i + t.length] === ".")
          t = t.slice(0, -1);
        this.push("num", t || c);
        this.i += t.length || 1;
        continue;
      }
      if (this.lang === "python" && (c === "'" || c === '"')) {
        this.pyString("");
        continue;
      }
      if (this.lang === "js" && (c === "'" || c === '"')) {
        this.jsString(c);
        continue;
      }
      if (this.lang === "js" && c === "`") {
        this.jsTemplate();
        continue;
      }
      if (this.lang === "js" && c === "/" && this.valueStart() && this.jsRegex()) continue;
      if (this.lang === "go" && c === '"') {
        this.goString();
        continue;
      }
      if (this.lang === "go" && c === "`") {
        const e = s.indexOf("`", this.i + 1);
        if (e < 0) this.fail("an unterminated raw string");
        const v = s.slice(this.i + 1, e).replace(/\r/g, "");
        this.countLines(this.i, e);
        this.i = e + 1;
        this.push("str", v);
        continue;
      }
      if (this.lang === "go" && c === "'") {
        this.goRune();
        continue;
      }
      if (this.lang === "rust" && c === '"') {
        this.rustString("");
        continue;
      }
      if (this.lang === "rust" && c === "'") {
        this.rustChar();
        continue;
      }
      if (this.lang === "ruby" && this.rubyLiteral(c)) continue;
      if (closing) {
        if (c === "{") braces++;
        if (c === "}") {
          if (braces === 0) return this.i;
          braces--;
        }
      }
      // Punctuation: `::` and `:=` as one token (paths and Go declarations), the rest one by one.
      const second = TWO_CHAR_OPS.get(c);
      const next = s[this.i + 1];
      if (second !== undefined && next !== undefined && second.includes(next)) {
        this.push("op", c + next);
        this.i += 2;
        continue;
      }
      if ("([{".includes(c)) this.depth++;
      if (")]}".includes(c) && this.depth > 0) this.depth--;
      this.push("op", c);
      this.i++;
    }
    if (closing) this.fail("an unterminated interpolation");
    if (this.pending.length > 0) this.fail("an unterminated heredoc");
    return this.i;
  }

  private countLines(from: number, to: number): void {
    for (let k = from; k < to; k++) if (this.s[k] === "\n") this.line++;
  }

  private skipLine(): void {
    const e = this.s.indexOf("\n", this.i);
    this.i = e < 0 ? this.s.length : e;
  }

  private blockComment(): void {
    const s = this.s;
    let d = 0;
    let k = this.i;
    for (;;) {
      if (k >= s.length) this.fail("an unterminated comment");
      if (s[k] === "/" && s[k + 1] === "*") {
        d++;
        k += 2;
        // Rust nests block comments; the others do not.
        if (this.lang !== "rust" && d > 1) d = 1;
        continue;
      }
      if (s[k] === "*" && s[k + 1] === "/") {
        d--;
        k += 2;
        if (d === 0) break;
        continue;
      }
      if (s[k] === "\n") this.line++;
      k++;
    }
    this.i = k;
  }

  private ident(): string {
    const s = this.s;
    // The usual identifier (no escape) is cut out of the text, not built a character at a time.
    const from = this.i;
    while (this.i < s.length && isPart(s[this.i]!)) this.i++;
    let v = s.slice(from, this.i);
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (this.lang === "js" && c === "\\" && s[this.i + 1] === "u") {
        // `\u0065val` is `eval`: an identifier escape is the letter it names.
        const m = /^\\u(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{4}))/.exec(s.slice(this.i, this.i + 12));
        if (!m) this.fail("an identifier escape the gate cannot read");
        v += String.fromCodePoint(Number.parseInt(m[1] ?? m[2]!, 16));
        this.i += m[0].length;
        continue;
      }
      if (!ID_PART.test(c)) break;
      v += c;
      this.i++;
    }
    // Ruby method names may end in ? or ! (`key?`, `exit!`).
    if (this.lang === "ruby" && (s[this.i] === "?" || s[this.i] === "!") && s[this.i + 1] !== "=")
      v += s[this.i++];
    // Python and JS read identifiers as NFKC (`ｓｙｓｔｅｍ` is `system`).
    return (this.lang === "python" || this.lang === "js") && /[^\x00-\x7f]/.test(v) ? v.normalize("NFKC") : v;
  }

  /** The escape at `this.i` (after the backslash) as the language decodes it. */
  private escape(kind: "py" | "pybytes" | "js" | "go" | "rust" | "ruby"): string {
    const s = this.s;
    const c = s[this.i]!;
    const hex = (n: number, at: number) => {
      const h = s.slice(at, at + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) this.fail("a string escape the gate cannot read");
      return Number.parseInt(h, 16);
    };
    const simple: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      b: "\b",
      f: "\f",
      v: "\v",
      "\\": "\\",
      "'": "'",
      '"': '"',
    };
    if (c === "\n") {
      this.line++;
      this.i++;
      if (kind === "rust") while (/\s/.test(s[this.i] ?? "")) if (s[this.i++] === "\n") this.line++;
      return "";
    }
    if (c === "x") {
      if (kind === "ruby") {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.i + 1, this.i + 3));
        if (!m) this.fail("a string escape the gate cannot read");
        this.i += 1 + m[0].length;
        return String.fromCharCode(Number.parseInt(m[0], 16));
      }
      const v = hex(2, this.i + 1);
      this.i += 3;
      return String.fromCharCode(v);
    }
    if (c === "u" && kind !== "pybytes") {
      if (s[this.i + 1] === "{" && (kind === "js" || kind === "rust" || kind === "ruby")) {
        const e = s.indexOf("}", this.i);
        const body = s.slice(this.i + 2, e);
        if (e < 0) this.fail("a string escape the gate cannot read");
        // Ruby: `\u{68 74}` is several code points.
        const cps = body
          .trim()
          .split(/\s+/)
          .map((h) => {
            if (!/^[0-9a-fA-F]{1,6}$/.test(h)) this.fail("a string escape the gate cannot read");
            return String.fromCodePoint(Number.parseInt(h, 16));
          });
        this.i = e + 1;
        return cps.join("");
      }
      if (kind === "rust") this.fail("a string escape the gate cannot read");
      const v = hex(4, this.i + 1);
      this.i += 5;
      return String.fromCharCode(v);
    }
    if (c === "U" && (kind === "py" || kind === "go")) {
      const v = hex(8, this.i + 1);
      this.i += 9;
      if (v > 0x10ffff) this.fail("a string escape the gate cannot read");
      return String.fromCodePoint(v);
    }
    if (c === "N" && kind === "py") this.fail("a string names a character (\\N{…}) the gate cannot decode");
    if (/[0-7]/.test(c) && kind !== "rust") {
      const m = /^[0-7]{1,3}/.exec(s.slice(this.i, this.i + 3))!;
      if (kind === "go" && m[0].length !== 3) this.fail("a string escape the gate cannot read");
      // JS: `\0` alone is NUL, `\1`… legacy octal.
      this.i += m[0].length;
      return String.fromCharCode(Number.parseInt(m[0], 8));
    }
    if (c === "0" && kind === "rust") {
      this.i++;
      return "\0";
    }
    if (c in simple) {
      if (kind === "rust" && "bfv".includes(c)) this.fail("a string escape the gate cannot read");
      this.i++;
      return simple[c]!;
    }
    if (c === "a" && kind !== "js" && kind !== "rust") {
      this.i++;
      return "\x07";
    }
    if (kind === "ruby" && (c === "e" || c === "s")) {
      this.i++;
      return c === "e" ? "\x1b" : " ";
    }
    if (kind === "go" || kind === "rust") this.fail("a string escape the gate cannot read");
    if (kind === "ruby" && (c === "c" || c === "C" || c === "M"))
      this.fail("a string escape the gate cannot read");
    this.i++;
    // Python keeps an unknown escape's backslash; JS and Ruby drop it.
    return kind === "py" || kind === "pybytes" ? `\\${c}` : c;
  }

  /**
   * Code embedded in a string (a Python f-string's `{…}`, a JS template's `${…}`, Ruby's `#{…}`),
   * from `at` to its closing brace: lexed as code by a lexer of its own (at bracket `depth`), its
   * tokens added to `inner` in parentheses; the string goes on after the brace.
   */
  private embedded(at: number, inner: Token[], depth: number, indent: number): void {
    const sub = new Lexer(this.lang, this.s);
    sub.i = at;
    sub.line = this.line;
    sub.depth = depth;
    const e = sub.run(this.s.length, true);
    const paren = (v: string): Token => ({ k: "op", v, line: this.line, indent });
    inner.push(paren("("), ...sub.toks, paren(")"));
    this.line = sub.line;
    this.i = e + 1;
  }

  private pyString(prefix: string): void {
    const s = this.s;
    const q = s[this.i]!;
    const triple = s.startsWith(q.repeat(3), this.i);
    const close = triple ? q.repeat(3) : q;
    const raw = prefix.includes("r");
    const fmt = prefix.includes("f");
    this.i += close.length;
    let v = "";
    const inner: Token[] = [];
    for (;;) {
      if (this.i >= s.length) this.fail("an unterminated string");
      if (s.startsWith(close, this.i)) {
        this.i += close.length;
        break;
      }
      const c = s[this.i]!;
      if (c === "\n") {
        if (!triple) this.fail("an unterminated string");
        this.line++;
      }
      if (c === "\\") {
        this.i++;
        if (raw) {
          // A raw string keeps the backslash, and the quote after it does not end the string.
          const n = s[this.i] ?? "";
          if (n === "\n") this.line++;
          v += `\\${n}`;
          this.i++;
          continue;
        }
        v += this.escape(prefix.includes("b") ? "pybytes" : "py");
        continue;
      }
      if (fmt && c === "{") {
        if (s[this.i + 1] === "{") {
          v += "{";
          this.i += 2;
          continue;
        }
        this.embedded(this.i + 1, inner, 1, this.indent);
        v += "\u0000";
        continue;
      }
      if (fmt && c === "}" && s[this.i + 1] === "}") {
        v += "}";
        this.i += 2;
        continue;
      }
      v += c;
      this.i++;
    }
    // Adjacent literals are one string (`'sub' 'process'`).
    const last = this.toks[this.toks.length - 1];
    if (last?.k === "str" && inner.length === 0 && this.lastWasString) last.v += v;
    else this.push("str", v);
    this.toks.push(...inner);
    this.lastWasString = inner.length === 0;
    this.markString = this.toks.length;
  }

  /** Whether the token before the next one is a string just lexed (Python's adjacent literals). */
  private lastWasString_ = false;
  private markString = -1;
  private get lastWasString(): boolean {
    return this.lastWasString_ && this.markString === this.toks.length;
  }
  private set lastWasString(b: boolean) {
    this.lastWasString_ = b;
  }

  private jsString(q: string): void {
    const s = this.s;
    const start = this.i;
    const line = this.line;
    this.i++;
    let v = "";
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === "\n" || c === "\r") {
        // A quote left open on its line: JSX text (`<p>it's</p>`) or a fragment. Punctuation.
        this.i = start + 1;
        this.line = line;
        this.push("op", q);
        return;
      }
      if (c === q) {
        this.i++;
        break;
      }
      if (c === "\\") {
        this.i++;
        if (s[this.i] === "\r" && s[this.i + 1] === "\n") this.i++;
        v += this.escape("js");
        continue;
      }
      v += c;
      this.i++;
    }
    this.push("str", v);
  }

  private jsTemplate(): void {
    const s = this.s;
    this.i++;
    let v = "";
    const inner: Token[] = [];
    for (;;) {
      if (this.i >= s.length) this.fail("an unterminated template literal");
      const c = s[this.i]!;
      if (c === "`") {
        this.i++;
        break;
      }
      if (c === "\\") {
        this.i++;
        v += this.escape("js");
        continue;
      }
      if (c === "$" && s[this.i + 1] === "{") {
        this.embedded(this.i + 2, inner, 0, 0);
        v += "\u0000";
        continue;
      }
      if (c === "\n") this.line++;
      v += c;
      this.i++;
    }
    this.push("str", v);
    this.toks.push(...inner);
  }

  /** A regex literal; false (nothing consumed) when no `/` closes it on its line. */
  private jsRegex(): boolean {
    const s = this.s;
    let k = this.i + 1;
    let cls = false;
    for (;;) {
      const c = s[k];
      if (c === undefined || c === "\n") return false;
      if (c === "\\") {
        k += 2;
        continue;
      }
      if (c === "[") cls = true;
      else if (c === "]") cls = false;
      else if (c === "/" && !cls) break;
      k++;
    }
    k++;
    while (/[a-z]/.test(s[k] ?? "")) k++;
    this.push("op", "regex");
    this.i = k;
    return true;
  }

  private goString(): void {
    const s = this.s;
    this.i++;
    let v = "";
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === "\n") this.fail("an unterminated string");
      if (c === '"') {
        this.i++;
        break;
      }
      if (c === "\\") {
        this.i++;
        if (s[this.i] === "'") this.fail("a string escape the gate cannot read");
        v += this.escape("go");
        continue;
      }
      v += c;
      this.i++;
    }
    this.push("str", v);
  }

  private goRune(): void {
    const s = this.s;
    this.i++;
    let v = "";
    if (s[this.i] === "\\") {
      this.i++;
      if (s[this.i] === "'") {
        this.i++;
        v = "'";
      } else v = this.escape("go");
    } else {
      const cp = s.codePointAt(this.i);
      if (cp === undefined) this.fail("an unterminated rune");
      v = String.fromCodePoint(cp);
      this.i += v.length;
    }
    if (s[this.i] !== "'") this.fail("an unterminated rune");
    this.i++;
    this.push("str", v);
  }

  private rustString(prefix: string): void {
    const s = this.s;
    if (prefix.includes("r")) {
      let k = this.i;
      while (s[k] === "#") k++;
      const hashes = k - this.i;
      if (s[k] !== '"') this.fail("a raw string the gate cannot read");
      const close = `"${"#".repeat(hashes)}`;
      const e = s.indexOf(close, k + 1);
      if (e < 0) this.fail("an unterminated raw string");
      const v = s.slice(k + 1, e);
      this.countLines(k, e);
      this.i = e + close.length;
      this.push("str", v.replace(/\r\n/g, "\n"));
      return;
    }
    this.i++;
    let v = "";
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("an unterminated string");
      if (c === '"') {
        this.i++;
        break;
      }
      if (c === "\\") {
        this.i++;
        v += this.escape("rust");
        continue;
      }
      if (c === "\n") this.line++;
      v += c;
      this.i++;
    }
    this.push("str", v);
  }

  /** A char literal (`'a'`, `'\n'`) or a lifetime (`'a`, pushed as punctuation and a name). */
  private rustChar(): void {
    const s = this.s;
    if (s[this.i + 1] === "\\") {
      this.i += 2;
      let v = "'";
      if (s[this.i] === "'") this.i++;
      else v = this.escape("rust");
      if (s[this.i] !== "'") this.fail("an unterminated char literal");
      this.i++;
      this.push("str", v);
      return;
    }
    const cp = s.codePointAt(this.i + 1);
    const ch = cp === undefined ? "" : String.fromCodePoint(cp);
    if (ch !== "" && s[this.i + 1 + ch.length] === "'") {
      this.i += 2 + ch.length;
      this.push("str", ch);
      return;
    }
    this.push("op", "'");
    this.i++;
  }

  /** A Ruby string, symbol, %-literal, heredoc, regex or backtick command at `c`; false if none. */
  private rubyLiteral(c: string): boolean {
    const s = this.s;
    if (c === "'" || c === '"' || c === "`") {
      this.i++;
      this.rubyBody(c, c, c !== "'");
      return true;
    }
    if (
      c === "?" &&
      /[A-Za-z0-9_'"]/.test(s[this.i + 1] ?? "") &&
      !ID_PART.test(s[this.i + 2] ?? "") &&
      this.valueStart()
    ) {
      // `?a`: a one-character string.
      this.push("str", s[this.i + 1]!);
      this.i += 2;
      return true;
    }
    if (c === "%" && this.valueStart()) {
      let k = this.i + 1;
      let kind = "Q";
      if (RUBY_PCT.test(s[k] ?? "") && /[^\w\s]/.test(s[k + 1] ?? "")) kind = s[k++]!;
      const open = s[k] ?? "";
      if (!/[^\w\s]/.test(open)) return false;
      this.i = k + 1;
      this.rubyBody(open, OPEN_CLOSE[open] ?? open, /[QWIrx]/.test(kind), kind === "r" ? "regex" : undefined);
      return true;
    }
    if (c === "/" && this.valueStart()) {
      this.i++;
      this.rubyBody("/", "/", true, "regex");
      return true;
    }
    if (c === "<" && s[this.i + 1] === "<") {
      const m = /^<<([~-]?)(['"`]?)([A-Za-z_]\w*)\2/.exec(s.slice(this.i, this.i + 80));
      if (m && (m[2] !== "" || /^[A-Z_]/.test(m[3]!) || m[1] !== "")) {
        this.pending.push([m[3]!, m[1] !== "", m[2] === "'"]);
        this.i += m[0].length;
        this.push("str", "\u0001heredoc");
        return true;
      }
    }
    if (c === ":" && s[this.i + 1] === '"') {
      this.i += 2;
      this.rubyBody('"', '"', true);
      return true;
    }
    return false;
  }

  /** The rest of a Ruby literal after its opening delimiter (nesting when open and close differ). */
  private rubyBody(open: string, close: string, interp: boolean, as?: "regex"): void {
    const s = this.s;
    let d = 0;
    let v = "";
    const inner: Token[] = [];
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("an unterminated string");
      if (c === close && d === 0) {
        this.i++;
        break;
      }
      if (open !== close && c === open) d++;
      if (open !== close && c === close) d--;
      if (c === "\n") this.line++;
      if (c === "\\") {
        this.i++;
        if (!interp) {
          const n = s[this.i] ?? "";
          v += n === close || n === "\\" || n === open ? n : `\\${n}`;
          this.i++;
          continue;
        }
        v += as === "regex" ? `\\${s[this.i++] ?? ""}` : this.escape("ruby");
        continue;
      }
      if (interp && c === "#" && s[this.i + 1] === "{") {
        this.embedded(this.i + 2, inner, 0, 0);
        v += "\u0000";
        continue;
      }
      v += c;
      this.i++;
    }
    if (as === "regex") {
      while (/[a-z]/.test(s[this.i] ?? "")) this.i++;
      this.push("op", "regex");
    } else this.push("str", v);
    this.toks.push(...inner);
  }

  /** The bodies of the heredocs opened on the line that just ended: each a string token. */
  private heredocBodies(): void {
    const s = this.s;
    for (const [term, indented, raw] of this.pending) {
      let body = "";
      for (;;) {
        if (this.i >= s.length) this.fail("an unterminated heredoc");
        const e = s.indexOf("\n", this.i);
        const l = s.slice(this.i, e < 0 ? s.length : e);
        this.i = e < 0 ? s.length : e + 1;
        this.line++;
        if ((indented ? l.trim() : l.replace(/\r$/, "")) === term) break;
        body += `${l}\n`;
      }
      // The body replaces the placeholder the opener pushed.
      const t = this.toks.find((x) => x.k === "str" && x.v === "\u0001heredoc");
      if (t) t.v = raw ? body : body.replace(/#\{[^}]*\}/g, "\u0000");
    }
    this.pending = [];
  }
}

const RUBY_VALUE_BEFORE = new Set([
  "if",
  "elsif",
  "unless",
  "while",
  "until",
  "and",
  "or",
  "not",
  "when",
  "puts",
  "print",
  "p",
  "require",
  "load",
  "open",
  "system",
  "exec",
  "spawn",
]);

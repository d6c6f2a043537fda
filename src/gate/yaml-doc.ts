import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { ForgeError } from "../errors.js";

/** A parsed YAML file: its plain value, and the line any path in it starts on (for file:line errors). */
export interface YamlDoc {
  js: unknown;
  /** The line of the deepest existing node on `path` (1 when none exists). */
  lineOf(path: (string | number)[]): number;
  /** The line of mapping key `key` inside the node at `path`, or null when there is none. */
  keyLine(path: (string | number)[], key: string): number | null;
}

/**
 * Parses YAML text with duplicate keys refused; a syntax error becomes `invalid("NAME:LINE: YAML
 * syntax: …")`, the caller's coded error. One parser for every YAML file that reports file:line
 * (policy files, training jobs).
 */
export function parseYamlDoc(
  text: string,
  file: string,
  name: string,
  invalid: (message: string, details: Record<string, unknown>) => ForgeError,
): YamlDoc {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lc.linePos(e.pos[0]).line;
    throw invalid(`${name}:${line}: YAML syntax: ${e.message.split("\n")[0]}`, { file, line });
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lc.linePos(range[0]).line;
    }
    return 1;
  };
  const keyLine = (path: (string | number)[], key: string): number | null => {
    const node = path.length ? doc.getIn(path, true) : doc.contents;
    if (!isMap(node)) return null;
    for (const pair of node.items) {
      const k = pair.key as Node | null;
      if (isScalar(k) && k.value === key && k.range) return lc.linePos(k.range[0]).line;
    }
    return null;
  };
  return { js: oneByte(doc.toJS() ?? {}), lineOf, keyLine };
}

/** Any character outside Latin-1: V8 can store such a string only two bytes a character. */
const WIDE = /[^\x00-\xff]/;

/**
 * `v` with every string that holds only Latin-1 characters as a flat one-byte copy. The parser's
 * strings are slices of the file's text, and one character past Latin-1 anywhere in the file (an
 * ellipsis in a comment) makes that text, and so every slice of it, two bytes a character: every
 * rule id and reason, every record and answer that carries one, then copies, hashes and encodes
 * twice the bytes (a socket ALLOW's pending row was flattened to UTF-16 to cross to the writer
 * thread, and converted back to UTF-8 there). Same values: only V8's representation changes.
 */
function oneByte(v: unknown, seen = new Set<object>()): unknown {
  if (typeof v === "string") return WIDE.test(v) ? v : Buffer.from(v, "latin1").toString("latin1");
  // An alias is the same object again (and may be its own ancestor): each is visited once.
  if (v === null || typeof v !== "object" || seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = oneByte(v[i], seen);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = oneByte(o[k], seen);
  return v;
}

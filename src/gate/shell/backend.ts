/**
 * The bash parsers: tree-sitter's C runtime in our addon (a flat array per line, flat-tree.ts) or,
 * when the addon is unavailable, web-tree-sitter. Both run tree-sitter-bash; the walk reads either
 * through the same cursor operations and the grammar's symbol tables (`Grammar`).
 *
 * What is loaded is a process-wide cache: a parser is loaded once (initShell) and then never
 * changes; `active` only selects one of the loaded parsers (useShellBackend, for tests/benchmarks).
 */
import { createRequire } from "node:module";
import { Language, Parser } from "web-tree-sitter";
import { Codes, ForgeError } from "../../errors.js";
import type { NativeShell } from "../../platform/native.js";
import { loadNativeParser, type ParsedLine } from "../flat-tree.js";
import type { ShellBackend } from "./types.js";

/**
 * Per grammar symbol id: its name, and whether it is named / a leaf with nothing to walk. One
 * `nodeTypeId` read per node replaces separate `nodeType` and `nodeIsNamed` calls into the parser.
 */
export interface Grammar {
  readonly types: readonly string[];
  readonly named: Uint8Array;
  readonly leaf: Uint8Array;
  /** The symbol table the tables were built from: a second parser must have the same one. */
  readonly key: string;
}

export interface Backend {
  name: ShellBackend;
  grammar: Grammar;
  /** null when the parser returned no tree. */
  parse(line: string): ParsedLine | null;
}

const LEAF_NAMES = new Set([
  "word",
  "comment",
  "variable_name",
  "number",
  "raw_string",
  "ansi_c_string",
  "string_content",
  "heredoc_content",
  "file_descriptor",
  "test_operator",
  "regex",
  "special_variable_name",
  "heredoc_start",
  "heredoc_end",
  "extglob_pattern",
]);

/** Builds the tables from a grammar's symbols. */
function grammarOf(names: readonly (string | null | undefined)[], isNamed: (id: number) => boolean): Grammar {
  const key = JSON.stringify(names.map((n, id) => (n == null ? null : [n, isNamed(id)])));
  const types: string[] = new Array(65536).fill("ERROR");
  const named = new Uint8Array(65536).fill(1); // ERROR (0xffff) and anything unknown: named, walked
  const leaf = new Uint8Array(65536);
  for (let id = 0; id < names.length; id++) {
    const name = names[id];
    if (name == null) continue;
    types[id] = name;
    const n = isNamed(id);
    named[id] = n ? 1 : 0;
    leaf[id] = !n || LEAF_NAMES.has(name) ? 1 : 0;
  }
  return { types, named, leaf, key };
}

/** A second parser's symbols must match the first one's exactly (one walk reads both). */
function sameGrammar(g: Grammar, other: Backend | undefined): void {
  if (other && other.grammar.key !== g.key)
    throw new Error("its bash grammar's symbol ids differ from the parser already loaded");
}

interface Loaded {
  active: Backend | null;
  native?: Backend;
  wasm?: Backend;
  wasmLoading?: Promise<Backend>;
  /** Why "auto" did not pick the native parser (undefined when it did, or was not asked). */
  nativeUnavailable?: string;
}

const loaded: Loaded = { active: null };

const noNative = (): NativeShell => {
  throw new ForgeError(Codes.NATIVE_UNAVAILABLE, "no native shell parser was passed to initShell");
};

function loadNative(binding: () => NativeShell): Backend {
  if (!loaded.native) {
    const p = loadNativeParser(binding);
    const grammar = grammarOf(p.grammar.names, (id) => p.grammar.named[id] === true);
    sameGrammar(grammar, loaded.wasm);
    loaded.native = { name: "native", grammar, parse: p.parse };
  }
  return loaded.native;
}

function loadWasm(): Promise<Backend> {
  loaded.wasmLoading ??= (async (): Promise<Backend> => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const lang = await Language.load(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm"));
    const grammar = grammarOf(lang.types, (id) => lang.nodeTypeIsNamed(id));
    sameGrammar(grammar, loaded.native);
    const p = new Parser();
    p.setLanguage(lang);
    const parse = (line: string): ParsedLine | null => {
      const tree = p.parse(line);
      if (!tree) return null;
      return { hasError: tree.rootNode.hasError, walk: () => tree.walk(), delete: () => tree.delete() };
    };
    loaded.wasm = { name: "wasm", grammar, parse };
    return loaded.wasm;
  })().catch((err) => {
    loaded.wasmLoading = undefined;
    throw err;
  });
  return loaded.wasmLoading;
}

/**
 * Loads a parser once and makes it the one parseShell uses. "auto" (the default) prefers the
 * native parser and falls back to web-tree-sitter when the addon is unavailable. `native` is the
 * addon's parser binding (platform/native.ts nativeShell), passed in by whoever builds the gate
 * (initGate does); without it only web-tree-sitter is loaded. Resolves to the parser in use;
 * concurrent and later calls share the load.
 */
export async function initShell(
  which: ShellBackend | "auto" = "auto",
  native: () => NativeShell = noNative,
): Promise<ShellBackend> {
  try {
    if (which === "auto" && loaded.active) return loaded.active.name;
    if (which !== "wasm") {
      try {
        loaded.active = loadNative(native);
        return loaded.active.name;
      } catch (err) {
        if (which === "native") throw err;
        loaded.nativeUnavailable = (err as Error).message;
      }
    }
    loaded.active = await loadWasm();
    return loaded.active.name;
  } catch (err) {
    throw new ForgeError(
      Codes.GATE_ERROR,
      `cannot load the ${which === "auto" ? "" : `${which} `}bash parser: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Switches parseShell to a parser initShell already loaded (tests and benchmarks compare the two). */
export function useShellBackend(which: ShellBackend): void {
  const b = which === "native" ? loaded.native : loaded.wasm;
  if (!b)
    throw new ForgeError(
      Codes.GATE_ERROR,
      `the ${which} bash parser is not loaded: await initShell("${which}") first`,
    );
  loaded.active = b;
}

export function shellReady(): boolean {
  return loaded.active !== null;
}

/** The parser in use; throws FORGE_GATE_ERROR before initShell. */
export function activeBackend(): Backend {
  if (!loaded.active)
    throw new ForgeError(Codes.GATE_ERROR, "the shell parser is not loaded: await initGate() first");
  return loaded.active;
}

/** The parser parseShell uses (null before initShell), and why the native one is not, if so. */
export function shellBackend(): { backend: ShellBackend | null; nativeUnavailable?: string } {
  const { active, nativeUnavailable } = loaded;
  return nativeUnavailable === undefined || active?.name === "native"
    ? { backend: active?.name ?? null }
    : { backend: active?.name ?? null, nativeUnavailable };
}

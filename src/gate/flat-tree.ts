/**
 * The native addon's flat parse (src/platform/native.ts parseShellFlat) behind the same cursor
 * operations web-tree-sitter's TreeCursor has, so shell/walk.ts has one walk for both parsers.
 */
import { Codes, ForgeError } from "../errors.js";
import type { NativeShell } from "../platform/native.js";

/** The cursor operations shell/walk.ts walks with; web-tree-sitter's TreeCursor has the same ones. */
export interface Cursor {
  readonly nodeTypeId: number;
  readonly startIndex: number;
  readonly endIndex: number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
  copy(): Cursor;
  delete(): void;
}

/** One parsed line, whichever parser made it. */
export interface ParsedLine {
  hasError: boolean;
  walk(): Cursor;
  delete(): void;
}

const NO_PARENT = 0xffffffff;
// Record layout, checked against the addon's own numbers in loadNativeParser().
const HEADER = 2;
const STRIDE = 5;
const SYMBOL = 0;
const START = 1;
const END = 2;
const SIZE = 3;
const PARENT = 4;

/** A cursor over the flat preorder records: a node's first child is the next record. */
class FlatCursor implements Cursor {
  /**
   * @param r the words; @param base where record 0 starts; @param at the current record's word.
   */
  constructor(
    private readonly r: Uint32Array,
    private readonly base: number,
    private at: number,
  ) {}

  get nodeTypeId(): number {
    return this.r[this.at + SYMBOL]!;
  }
  get startIndex(): number {
    return this.r[this.at + START]!;
  }
  get endIndex(): number {
    return this.r[this.at + END]!;
  }
  gotoFirstChild(): boolean {
    if (this.r[this.at + SIZE]! <= 1) return false;
    this.at += STRIDE;
    return true;
  }
  gotoNextSibling(): boolean {
    const parent = this.r[this.at + PARENT]!;
    if (parent === NO_PARENT) return false;
    const next = this.at + this.r[this.at + SIZE]! * STRIDE;
    const p = this.base + parent * STRIDE;
    if (next >= p + this.r[p + SIZE]! * STRIDE) return false;
    this.at = next;
    return true;
  }
  gotoParent(): boolean {
    const parent = this.r[this.at + PARENT]!;
    if (parent === NO_PARENT) return false;
    this.at = this.base + parent * STRIDE;
    return true;
  }
  copy(): Cursor {
    return new FlatCursor(this.r, this.base, this.at);
  }
  delete(): void {}
}

/**
 * Lines are parsed into one reused buffer, stacked: a nested parse (`bash -c '…'`) goes above the
 * line being walked, and delete() pops it. parseInto deletes in a `finally`, so the stack unwinds
 * in order even when the walk throws. Nothing is allocated per line but two small objects.
 */
class FlatStack {
  private buf = new Uint32Array(1 << 16);
  private top = 0;

  constructor(private readonly parseFlat: NativeShell["parseShellFlat"]) {}

  parse(line: string): ParsedLine {
    const at = this.top;
    let end = this.parseFlat(line, this.buf, at);
    if (end < 0) {
      // Lines still being walked keep the old buffer; the new one reserves their offsets unused.
      this.buf = new Uint32Array(Math.max(this.buf.length * 2, at - end));
      end = this.parseFlat(line, this.buf, at);
      if (end < 0)
        throw new ForgeError(Codes.NATIVE_INTERNAL, "the native shell parse did not fit its buffer");
    }
    this.top = end;
    return new FlatLine(this, this.buf, at);
  }

  release(at: number): void {
    if (at < this.top) this.top = at;
  }
}

class FlatLine implements ParsedLine {
  constructor(
    private readonly stack: FlatStack,
    private readonly r: Uint32Array,
    private readonly at: number,
  ) {}
  get hasError(): boolean {
    return (this.r[this.at]! & 1) === 1;
  }
  walk(): Cursor {
    return new FlatCursor(this.r, this.at + HEADER, this.at + HEADER);
  }
  delete(): void {
    this.stack.release(this.at);
  }
}

export interface NativeParser {
  grammar: NativeShell["grammar"];
  parse(line: string): ParsedLine;
}

/**
 * The addon's parser over `binding` (platform/native.ts nativeShell(), passed in by whoever builds
 * the gate); throws FORGE_NATIVE_UNAVAILABLE when it is not there or not this layout.
 */
export function loadNativeParser(binding: () => NativeShell): NativeParser {
  const { grammar, parseShellFlat } = binding();
  if (grammar.header !== HEADER || grammar.stride !== STRIDE) {
    throw new ForgeError(
      Codes.NATIVE_UNAVAILABLE,
      `the native shell parser's record layout (${grammar.header}+${grammar.stride}n) is not this code's (${HEADER}+${STRIDE}n): rebuild the addon`,
    );
  }
  // A grammar the runtime refuses fails on the first parse, not on load: probe now, so "auto" falls
  // back to web-tree-sitter instead of every line becoming a gate error.
  const probe = parseShellFlat("true");
  if (probe[1] === 0)
    throw new ForgeError(Codes.NATIVE_UNAVAILABLE, "the native shell parser returned no nodes");
  const stack = new FlatStack(parseShellFlat);
  return { grammar, parse: (line) => stack.parse(line) };
}

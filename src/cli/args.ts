import { type ParseArgsConfig, parseArgs } from "node:util";
import { Codes, didYouMean, type ForgeCode, ForgeError } from "../errors.js";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Bad usage: the dispatcher prints the message and the command's usage and exits 2. An unknown
 * command or flag carries its own code (FORGE_UNKNOWN_COMMAND, FORGE_UNKNOWN_FLAG).
 */
export class UsageError extends ForgeError {
  constructor(message: string, code: ForgeCode = Codes.USAGE) {
    super(code, message);
  }
}

/** "unknown X 'word': did you mean 'near'?" (or the list of known ones), as FORGE_UNKNOWN_*. */
export function unknown(
  what: "command" | "subcommand" | "flag",
  word: string,
  known: Iterable<string>,
): UsageError {
  const names = [...known];
  const near = didYouMean(word, names);
  const hint = near ? `did you mean '${near}'?` : `known: ${names.join(", ")}`;
  return new UsageError(
    `unknown ${what} '${word}': ${hint}`,
    what === "flag" ? Codes.UNKNOWN_FLAG : Codes.UNKNOWN_COMMAND,
  );
}

/**
 * util.parseArgs, strict, over a command's flags from the spec (spec.ts); its errors become
 * UsageError (exit 2), an unknown flag FORGE_UNKNOWN_FLAG with the closest declared one.
 */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const m = /Unknown option '(-{1,2})([^'=]+)/.exec(e.message);
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && m) {
      const known = Object.keys(options).map((k) => `--${k}`);
      throw unknown("flag", `${m[1]}${m[2]}`, known);
    }
    throw new UsageError(e.message);
  }
}

/** Parses a whole-number flag value, or throws UsageError naming the flag. */
export function intFlag(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}`);
  return n;
}

/** Prints one JSON document on stdout (the --json contract). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

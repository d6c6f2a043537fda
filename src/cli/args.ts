import { type ParseArgsConfig, parseArgs } from "node:util";
import { Codes, ForgeError } from "../errors.js";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Bad usage: the dispatcher prints the message and the command's usage and exits 2. */
export class UsageError extends ForgeError {
  constructor(message: string) {
    super(Codes.USAGE, message);
  }
}

/** util.parseArgs, strict, with its errors turned into UsageError (exit 2). */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
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

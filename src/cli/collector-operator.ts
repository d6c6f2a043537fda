import { existsSync, readFileSync } from "node:fs";
import { hashSecret, parseOperatorsFile, upsertOperatorLine } from "../collector/operators.js";
import { writePrivateFileAtomic } from "../platform/private-files.js";
import { parse, UsageError } from "./args.js";
import { COLLECTOR } from "./spec.js";

/**
 * forge-collector operator add NAME --file FILE
 * Reads the password from stdin (one line; at least 8 characters), stores only its scrypt hash as
 * `NAME:$scrypt$…` in FILE (created 0600; NAME's old line replaced). Pass the file to
 * `forge-collector run --operators-file FILE`.
 */
export default async function (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COLLECTOR.operator.flags);
  const [verb, name, ...extra] = positionals;
  if (verb !== "add" || name === undefined || extra.length > 0 || values.file === undefined) {
    throw new UsageError("usage: forge-collector operator add NAME --file FILE (password on stdin)");
  }
  const file = values.file;
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  parseOperatorsFile(old, file); // refuse to extend a file that is already broken
  if (process.stdin.isTTY) process.stderr.write(`password for ${name} (input is not echoed): `);
  const password = await readLine();
  if (password.length < 8) throw new UsageError("the password needs at least 8 characters");
  writePrivateFileAtomic(file, upsertOperatorLine(old, name, hashSecret(password)));
  process.stderr.write(`operator '${name}' saved in ${file} (scrypt hash only)\n`);
  return 0;
}

/** The first line of stdin (without echo on a terminal). */
async function readLine(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  let text = "";
  try {
    for await (const chunk of stdin) {
      text += chunk.toString("utf8");
      const nl = text.search(/[\r\n]/);
      if (nl >= 0) return text.slice(0, nl);
      if (text.includes("\u0003")) throw new UsageError("interrupted");
    }
    return text;
  } finally {
    if (stdin.isTTY) {
      stdin.setRawMode(false);
      process.stderr.write("\n");
    }
    stdin.pause();
  }
}

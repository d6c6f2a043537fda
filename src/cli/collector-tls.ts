/**
 * forge-collector tls init [--out DIR] [--name HOST]... [--days N] [--json]
 * A self-signed certificate and its key for a small fleet: DIR/collector.crt (give it to every
 * agent as collector_trust.key) and DIR/collector.key (0600, O_EXCL; the collector's tls_key).
 */
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { generateTlsPair } from "../collector/identity.js";
import { Codes, ForgeError } from "../errors.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";

export const CERT_FILE = "collector.crt";
export const KEY_FILE = "collector.key";

export default async function (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "init")
    throw new UsageError(sub === undefined ? "missing subcommand: init" : `unknown subcommand '${sub}'`);
  const { values } = parse(
    rest,
    {
      out: { type: "string" },
      name: { type: "string", multiple: true },
      days: { type: "string" },
      json: { type: "boolean" },
    },
    false,
  );
  const dir = values.out ?? ".";
  const cert = join(dir, CERT_FILE);
  const key = join(dir, KEY_FILE);
  for (const p of [cert, key]) {
    if (existsSync(p))
      throw new ForgeError(
        Codes.CONFLICT,
        `${p} exists; refusing to overwrite the collector's key (move it away first)`,
      );
  }
  const names = [...(values.name ?? []), "localhost", "127.0.0.1", "::1", hostname()];
  const days = intFlag(values.days, "days", 825, 1);
  const pair = await generateTlsPair([...new Set(names)], days);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // O_EXCL + 0600 from the first byte: the key is never readable by others, not even briefly.
  const fd = openSync(key, "wx", 0o600);
  try {
    writeSync(fd, pair.keyPem);
  } finally {
    closeSync(fd);
  }
  writeFileSync(cert, pair.certPem, { mode: 0o644, flag: "wx" });
  if (values.json) printJson({ fingerprint: pair.fingerprint, cert, key, names: [...new Set(names)] });
  else {
    process.stdout.write(
      `collector key ${pair.fingerprint}\n  certificate: ${cert} (agents: collector_trust.key; collector: tls_cert)\n  key:         ${key} (0600: the collector's tls_key; it signs acks and reviews)\n`,
    );
  }
  return 0;
}

/**
 * forge-collector tls init [--out DIR] [--name HOST]... [--days N] [--json]
 * A self-signed certificate and its key for a small fleet: DIR/collector.crt (give it to every
 * agent as collector_trust.key) and DIR/collector.key (0600, O_EXCL; the collector's tls_key).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { generateTlsPair } from "../collector/identity.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";
import { writeNewKeyPair } from "./collector-policy.js";

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
  const names = [...new Set([...(values.name ?? []), "localhost", "127.0.0.1", "::1", hostname()])];
  const pair = await generateTlsPair(names, intFlag(values.days, "days", 825, 1));
  writeNewKeyPair(dir, [key, pair.keyPem], [cert, pair.certPem], "the collector's key");
  if (values.json) printJson({ fingerprint: pair.fingerprint, cert, key, names });
  else {
    process.stdout.write(
      `collector key ${pair.fingerprint}\n  certificate: ${cert} (agents: collector_trust.key; collector: tls_cert)\n  key:         ${key} (0600: the collector's tls_key; it signs acks and reviews)\n`,
    );
  }
  return 0;
}

/**
 * forge-collector tls init [--out DIR] [--name HOST]... [--days N] [--json]
 * forge-collector tls rotate [--dir DIR] [--name HOST]... [--days N] [--json]
 * A self-signed certificate and its key for a small fleet: DIR/collector.crt (give it to every
 * agent as collector_trust.key) and DIR/collector.key (0600, O_EXCL; the collector's tls_key).
 * `rotate` moves DIR's pair to collector.prev.{crt,key}, writes a new pair in its place and
 * DIR/collector.rotation.json: the new key signed by the old one. The collector announces it in
 * every challenge; an agent that pinned the old key verifies it and re-pins (loudly).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { generateTlsPair } from "../collector/identity.js";
import { Codes, ForgeError } from "../errors.js";
import { writeNewPrivateFile } from "../platform/private-files.js";
import { ROTATION_FILE, signRotation } from "../protocol/collector-auth.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";
import { writeNewKeyPair } from "./collector-policy.js";
import { COLLECTOR } from "./spec.js";

export const CERT_FILE = "collector.crt";
export const KEY_FILE = "collector.key";

export default async function (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "init" && sub !== "rotate")
    throw new UsageError(
      sub === undefined ? "missing subcommand: init | rotate" : `unknown subcommand '${sub}'`,
    );
  const tls = COLLECTOR.tls;
  const values =
    sub === "init"
      ? (({ out, ...v }) => ({ ...v, dir: out }))(
          parse(rest, { ...tls.flags, ...tls.sub.init.flags }, false).values,
        )
      : parse(rest, { ...tls.flags, ...tls.sub.rotate.flags }, false).values;
  const dir = values.dir ?? ".";
  const cert = join(dir, CERT_FILE);
  const key = join(dir, KEY_FILE);
  const names = [...new Set([...(values.name ?? []), "localhost", "127.0.0.1", "::1", hostname()])];
  let oldKey: ReturnType<typeof createPrivateKey> | undefined;
  if (sub === "rotate") {
    if (!existsSync(key) || !existsSync(cert))
      throw new ForgeError(
        Codes.NOT_FOUND,
        `${dir} holds no ${CERT_FILE} and ${KEY_FILE} to rotate (tls init first)`,
      );
    oldKey = createPrivateKey(readFileSync(key, "utf8"));
  }
  const pair = await generateTlsPair(names, intFlag(values.days, "days", 825, 1));
  if (oldKey !== undefined) {
    // The old pair stays beside as collector.prev.*: the new one takes the names the collector reads.
    renameSync(cert, join(dir, "collector.prev.crt"));
    renameSync(key, join(dir, "collector.prev.key"));
  }
  const statement = oldKey === undefined ? undefined : signRotation(oldKey, createPublicKey(pair.keyPem));
  const previous = statement?.previous_fingerprint;
  writeNewKeyPair(dir, [key, pair.keyPem], [cert, pair.certPem], "the collector's key");
  const rotation = join(dir, ROTATION_FILE);
  // 0600 like the keys beside it (issue 20 "Files"): replaced whole, never rewritten in place.
  if (statement !== undefined) {
    rmSync(rotation, { force: true });
    writeNewPrivateFile(rotation, `${JSON.stringify(statement, null, 2)}\n`);
  }
  if (values.json)
    printJson({
      fingerprint: pair.fingerprint,
      cert,
      key,
      names,
      ...(previous !== undefined ? { previous_fingerprint: previous, rotation } : {}),
    });
  else {
    process.stdout.write(
      `collector key ${pair.fingerprint}\n  certificate: ${cert} (agents: collector_trust.key; collector: tls_cert)\n  key:         ${key} (0600: the collector's tls_key; it signs acks and reviews)\n`,
    );
    if (previous !== undefined)
      process.stdout.write(
        `  rotation:    ${rotation} (signed by the previous key ${previous}; restart the collector: agents that pinned it re-pin to the new key)\n`,
      );
  }
  return 0;
}

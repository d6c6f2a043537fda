import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import type { CollectorTrust } from "../evidence/shipper.js";
import { writeNewPrivateFile } from "../platform/private-files.js";
import { publicKeyFromPem } from "../protocol/collector-auth.js";

/**
 * The daemon's collector trust (issue 20): the configured key (`collector_trust.key`), else the
 * key pinned on first use in `pinFile` (SPKI PEM, created 0600 with O_EXCL; inside the agent's
 * home, so no governed action can delete it to re-pin). The WebSocket and the agent's reads from
 * the collector share it, so whichever proves a key first pins it. A new collector key is accepted
 * when the pinned key signed its rotation (`forge-collector tls rotate`, see repin); a key changed
 * without one needs the operator: remove the pin file (or configure the new key) and restart.
 */
export function daemonCollectorTrust(opts: {
  keyPem?: string;
  pinFile: string;
  pinFirstUse: boolean;
}): CollectorTrust {
  const configured = opts.keyPem === undefined ? null : publicKeyFromPem(opts.keyPem);
  let pinned: KeyObject | null = configured;
  return {
    pinned() {
      if (pinned === null && existsSync(opts.pinFile))
        pinned = publicKeyFromPem(readFileSync(opts.pinFile, "utf8"));
      return pinned;
    },
    pinFirstUse(key) {
      if (configured !== null || !opts.pinFirstUse) return false;
      writeNewPrivateFile(opts.pinFile, key.export({ type: "spki", format: "pem" }).toString());
      pinned = key;
      return true;
    },
    repin(key) {
      // A configured key is replaced in memory only (the collector announces its rotation on every
      // connect); a first-use pin file is replaced atomically, still 0600.
      pinned = key;
      if (configured !== null) return;
      const tmp = `${opts.pinFile}.${process.pid}.tmp`;
      rmSync(tmp, { force: true });
      writeNewPrivateFile(tmp, key.export({ type: "spki", format: "pem" }).toString());
      renameSync(tmp, opts.pinFile);
    },
  };
}

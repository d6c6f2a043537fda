/**
 * Keys for the model lifecycle: a P-256 signing key kept beside the host's Ed25519 chain key (the
 * OpenSSF model-signing key method takes EC P-256/384/521, not Ed25519), and the trust root a
 * verifier pins: SPKI PEM public keys, each known by its hint (sha256 of the PEM text, as the
 * model-signing reference does).
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { Codes, ForgeError } from "../errors.js";
import { type HostKey, loadOrCreateKey } from "../evidence/keys.js";

export const SIGNING_KEY_FILE = "model-signing-p256.key";
export const SIGNING_PUBLIC_KEY_FILE = "model-signing-p256.pub";

/** The host's P-256 model-signing key in `keyDir` (created 0600 on first use). */
export function loadSigningKey(keyDir: string): HostKey & { hint: string } {
  const k = loadOrCreateKey(keyDir, {
    file: SIGNING_KEY_FILE,
    pubFile: SIGNING_PUBLIC_KEY_FILE,
    type: "p256",
  });
  return { ...k, hint: keyHint(k.publicKeyPem) };
}

/** The key hint a bundle carries: hex sha256 of the SPKI PEM text. */
export function keyHint(publicKeyPem: string): string {
  return createHash("sha256").update(publicKeyPem).digest("hex");
}

export interface TrustedKey {
  hint: string;
  pem: string;
  key: KeyObject;
  /** Where the key came from (a file path, "own"). */
  source: string;
}

/** A set of pinned public keys (the verifier's trust root). Lookup by hint. */
export class TrustRoot {
  private readonly byHint = new Map<string, TrustedKey>();

  constructor(keys: { pem: string; source: string }[]) {
    for (const k of keys) {
      let key: KeyObject;
      try {
        key = createPublicKey(k.pem);
      } catch (err) {
        throw new ForgeError(
          Codes.CONFIG_INVALID,
          `trusted key ${k.source} is not an SPKI PEM public key: ${(err as Error).message}`,
        );
      }
      const hint = keyHint(k.pem);
      this.byHint.set(hint, { hint, pem: k.pem, key, source: k.source });
    }
  }

  /** Pinned keys from files, plus (when `own` is given) this host's own signing key. */
  static fromFiles(files: readonly string[], own?: string): TrustRoot {
    const keys = files.map((f) => {
      try {
        return { pem: readFileSync(f, "utf8"), source: f };
      } catch (err) {
        throw new ForgeError(
          Codes.CONFIG_INVALID,
          `lifecycle.trusted_keys: cannot read '${f}': ${(err as Error).message}`,
        );
      }
    });
    if (own !== undefined) keys.push({ pem: own, source: "own" });
    return new TrustRoot(keys);
  }

  get(hint: string): TrustedKey | undefined {
    return this.byHint.get(hint);
  }

  hints(): string[] {
    return [...this.byHint.keys()];
  }
}

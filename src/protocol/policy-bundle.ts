/**
 * Signed policy bundles: the unit of policy the collector distributes and agents apply.
 *
 *   { bundle: { id, version, files: { "name.yaml": text }, created_at }, signature, key_id }
 *
 * `signature` is base64 ed25519 over the canonical JSON of `bundle` (canonical.ts);
 * `key_id` names the signing key (first 16 hex of sha256 over its SPKI DER) and is a hint only:
 * trust comes from the signature checking out against the pinned public key. The key must sign
 * nothing but bundles. Pure: no I/O; shared by the collector (serve) and the agent (verify, apply).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import { canonicalJson, sha256Hex } from "./canonical.js";

/** Largest canonical bundle accepted, in bytes (policy text is small; this bounds a hostile one). */
export const BUNDLE_MAX_BYTES = 4 * 1024 * 1024;

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.ya?ml$/;

export const BundleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "letters, digits, '.', '_', '-'; at most 128"),
  /** Monotonic: an agent accepts only a version above the one it runs. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  files: z
    .record(z.string().regex(FILE_NAME, "a plain *.yaml or *.yml file name"), z.string())
    .refine((f) => Object.keys(f).length > 0, "a bundle holds at least one policy file"),
  created_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, "RFC 3339 UTC"),
});
export type Bundle = z.infer<typeof BundleSchema>;

export interface SignedBundle {
  bundle: Bundle;
  /** base64 ed25519 signature over canonicalJson(bundle). */
  signature: string;
  key_id: string;
}

/** Why a bundle was refused; `details.reason` of the FORGE_BUNDLE_REJECTED error. */
export type RejectReason =
  | "malformed" // not a bundle: wrong shape, bad names, too large, not JSON-able
  | "unsigned" // no signature
  | "unknown-key" // key_id names a key other than the pinned one
  | "bad-signature" // the signature does not verify against the pinned key
  | "rollback" // version below the active one (or equal without being the same bundle)
  | "version-reused" // the active version number with different content
  | "invalid-policy"; // signed and well-formed, but the policy files do not compile

export class BundleRejectedError extends ForgeError {
  readonly reason: RejectReason;
  constructor(
    reason: RejectReason,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(Codes.BUNDLE_REJECTED, `policy bundle rejected (${reason}): ${message}`, {
      cause: options?.cause,
      details: { reason, ...options?.details },
    });
    this.name = "BundleRejectedError";
    this.reason = reason;
  }
}

type KeyInput = KeyObject | string;

function publicKeyOf(key: KeyInput): KeyObject {
  const k =
    typeof key === "string" ? createPublicKey(key) : key.type === "private" ? createPublicKey(key) : key;
  if (k.asymmetricKeyType !== "ed25519") {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `the policy key must be ed25519, got ${k.asymmetricKeyType ?? k.type}`,
    );
  }
  return k;
}

function privateKeyOf(key: KeyInput): KeyObject {
  const k = typeof key === "string" ? createPrivateKey(key) : key;
  if (k.type !== "private" || k.asymmetricKeyType !== "ed25519") {
    throw new ForgeError(Codes.CONFIG_INVALID, "signing needs an ed25519 private key");
  }
  return k;
}

/** The key id: first 16 hex digits of sha256 over the public key's SPKI DER. */
export function keyId(key: KeyInput): string {
  const der = publicKeyOf(key).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/** A fresh ed25519 key pair for signing bundles: PKCS#8 and SPKI PEM. */
export function generateBundleKeys(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
    keyId: keyId(publicKey),
  };
}

/** sha256 (hex) over the canonical JSON of `bundle`: the bundle's identity in `policy` records. */
export function bundleSha256(bundle: Bundle): string {
  return sha256Hex(canonicalJson(bundle));
}

function parseBundle(value: unknown): Bundle {
  const r = BundleSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join(".") : "bundle";
    throw new BundleRejectedError("malformed", `${where}: ${issue.message}`);
  }
  return r.data;
}

/** Signs `bundle` (checked against BundleSchema first; FORGE_BUNDLE_REJECTED/malformed if it is not one). */
export function signBundle(bundle: Bundle, privateKey: KeyInput): SignedBundle {
  const b = parseBundle(bundle);
  const text = canonicalJson(b);
  if (Buffer.byteLength(text) > BUNDLE_MAX_BYTES) {
    throw new BundleRejectedError("malformed", `the bundle is larger than ${BUNDLE_MAX_BYTES} bytes`);
  }
  const key = privateKeyOf(privateKey);
  return {
    bundle: b,
    signature: cryptoSign(null, Buffer.from(text, "utf8"), key).toString("base64"),
    key_id: keyId(key),
  };
}

export interface VerifyOptions {
  /** The version the agent runs now; omitted when it runs none (first bundle). */
  currentVersion?: number;
  /** bundleSha256 of the active bundle: the same bundle offered again is accepted as unchanged. */
  currentSha256?: string;
  /**
   * Compiles the bundle's policy files (the agent passes the gate's loader); whatever it throws
   * becomes a rejection with reason `invalid-policy`. Without it, the policy text is not checked.
   */
  compile?: (bundle: Bundle) => void;
}

export interface VerifiedBundle {
  bundle: Bundle;
  sha256: string;
  /** The active bundle offered again (same version, same sha256): nothing to apply. */
  unchanged: boolean;
}

const BASE64_SIG = /^[A-Za-z0-9+/]{86}==$/; // 64 bytes

/**
 * Checks a signed bundle received from the wire or a file, in this order: shape, signature
 * present, key id, signature, bundle schema, version against the active one, policy compiles.
 * Throws BundleRejectedError (FORGE_BUNDLE_REJECTED, `reason` set) on the first failure; never
 * returns a bundle whose signature did not verify.
 */
export function verifySignedBundle(
  signed: unknown,
  publicKey: KeyInput,
  opts: VerifyOptions = {},
): VerifiedBundle {
  const pub = publicKeyOf(publicKey);
  if (signed === null || typeof signed !== "object" || Array.isArray(signed) || !("bundle" in signed)) {
    throw new BundleRejectedError("malformed", "expected {bundle, signature, key_id}");
  }
  const env = signed as { bundle: unknown; signature?: unknown; key_id?: unknown };
  if (env.signature === undefined || env.signature === null || env.signature === "") {
    throw new BundleRejectedError("unsigned", "the bundle carries no signature");
  }
  if (typeof env.signature !== "string" || !BASE64_SIG.test(env.signature)) {
    throw new BundleRejectedError("bad-signature", "the signature is not a base64 ed25519 signature");
  }
  const pinned = keyId(pub);
  if (typeof env.key_id !== "string") throw new BundleRejectedError("malformed", "key_id is missing");
  if (env.key_id !== pinned) {
    throw new BundleRejectedError(
      "unknown-key",
      `signed by key ${env.key_id}, but the pinned key is ${pinned}`,
      {
        details: { key_id: env.key_id, pinned },
      },
    );
  }
  let text: string;
  try {
    text = canonicalJson(env.bundle);
  } catch (err) {
    throw new BundleRejectedError("malformed", (err as Error).message, { cause: err });
  }
  if (Buffer.byteLength(text) > BUNDLE_MAX_BYTES) {
    throw new BundleRejectedError("malformed", `the bundle is larger than ${BUNDLE_MAX_BYTES} bytes`);
  }
  if (!cryptoVerify(null, Buffer.from(text, "utf8"), pub, Buffer.from(env.signature, "base64"))) {
    throw new BundleRejectedError("bad-signature", `the signature does not verify against key ${pinned}`);
  }
  const bundle = parseBundle(env.bundle);
  const sha256 = sha256Hex(text);
  const cur = opts.currentVersion;
  let unchanged = false;
  if (cur !== undefined) {
    if (bundle.version < cur) {
      throw new BundleRejectedError(
        "rollback",
        `version ${bundle.version} is older than the active version ${cur}`,
        {
          details: { version: bundle.version, current: cur },
        },
      );
    }
    if (bundle.version === cur) {
      if (opts.currentSha256 === undefined) {
        throw new BundleRejectedError(
          "rollback",
          `version ${bundle.version} is not newer than the active version ${cur}`,
        );
      }
      if (opts.currentSha256 !== sha256) {
        throw new BundleRejectedError(
          "version-reused",
          `version ${cur} is active with sha256 ${opts.currentSha256}; this bundle reuses the number with sha256 ${sha256}`,
        );
      }
      unchanged = true;
    }
  }
  if (opts.compile !== undefined && !unchanged) {
    try {
      opts.compile(bundle);
    } catch (err) {
      throw new BundleRejectedError("invalid-policy", (err as Error).message, {
        cause: err,
        details: { policy_error: (err as { code?: unknown }).code },
      });
    }
  }
  return { bundle, sha256, unchanged };
}

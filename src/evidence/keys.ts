import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { type Checkpoint, checkpointMessage } from "../protocol/checkpoint.js";

/** The host key files inside a key directory: the private key (PKCS#8 PEM, 0600) and its public half. */
export const PRIVATE_KEY_FILE = "host-ed25519.key";
export const PUBLIC_KEY_FILE = "host-ed25519.pub";

export interface HostKey {
  privateKey: KeyObject;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/**
 * Loads the host's ed25519 key from `dir`, generating it on first use. The private key file is
 * created 0600 (in a 0700 directory) atomically: written to a temp file, then hard-linked into
 * place, so two processes starting at once agree on one key and never read a half-written file.
 * A key file readable by group or others is refused, as ssh does.
 */
export function loadOrCreateHostKey(dir: string): HostKey {
  return loadOrCreateKey(dir, { file: PRIVATE_KEY_FILE, pubFile: PUBLIC_KEY_FILE, type: "ed25519" });
}

/**
 * Loads a private key of `type` from `dir/file`, generating it on first use (0600, atomically, the
 * public half beside it in `pubFile`). The host's ed25519 chain key and the lifecycle's P-256
 * model-signing key (src/lifecycle/keys.ts) are both kept this way.
 */
export function loadOrCreateKey(
  dir: string,
  k: { file: string; pubFile: string; type: "ed25519" | "p256" },
): HostKey {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, k.file);
  try {
    statSync(keyPath);
  } catch {
    createKeyFile(dir, keyPath, k);
  }
  const mode = statSync(keyPath).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ForgeError(
      Codes.KEY_INSECURE,
      `key ${keyPath} has mode ${mode.toString(8)}; it must be readable by its owner only (chmod 600 ${keyPath})`,
    );
  }
  const privateKey = createPrivateKey(readFileSync(keyPath, "utf8"));
  const actual = privateKey.asymmetricKeyType === "ec" ? "p256" : privateKey.asymmetricKeyType;
  if (
    actual !== k.type ||
    (actual === "p256" && privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1")
  ) {
    throw new ForgeError(
      Codes.EVIDENCE_INVALID,
      `key ${keyPath} is ${privateKey.asymmetricKeyType}${privateKey.asymmetricKeyDetails?.namedCurve ? ` (${privateKey.asymmetricKeyDetails.namedCurve})` : ""}, expected ${k.type}`,
    );
  }
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return { privateKey, publicKeyPem };
}

function createKeyFile(
  dir: string,
  keyPath: string,
  k: { file: string; pubFile: string; type: "ed25519" | "p256" },
): void {
  const { privateKey } =
    k.type === "ed25519"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const tmp = join(dir, `.${k.file}.${randomBytes(6).toString("hex")}`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, keyPath);
  } catch (err) {
    // Another process created the key first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(tmp);
  }
  // Derived from the key that won the race, which may not be the one made here.
  const winner = createPrivateKey(readFileSync(keyPath, "utf8"));
  const pubFd = openSync(join(dir, k.pubFile), "w", 0o644);
  try {
    writeSync(pubFd, createPublicKey(winner).export({ type: "spki", format: "pem" }).toString());
  } finally {
    closeSync(pubFd);
  }
}

/** The public key (SPKI PEM) kept in `dir`, from the .pub file or derived from the private key. */
export function readPublicKeyPem(dir: string): string {
  try {
    return readFileSync(join(dir, PUBLIC_KEY_FILE), "utf8");
  } catch {
    const priv = createPrivateKey(readFileSync(join(dir, PRIVATE_KEY_FILE), "utf8"));
    return createPublicKey(priv).export({ type: "spki", format: "pem" }).toString();
  }
}

/** Signs a checkpoint statement with the host key; returns the base64 signature. */
export function signCheckpoint(key: KeyObject, cp: Pick<Checkpoint, "host_id" | "seq" | "hash">): string {
  return cryptoSign(null, checkpointMessage(cp), key).toString("base64");
}

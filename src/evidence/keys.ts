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
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, PRIVATE_KEY_FILE);
  try {
    statSync(keyPath);
  } catch {
    createKeyFile(dir, keyPath);
  }
  const mode = statSync(keyPath).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ForgeError(
      Codes.KEY_INSECURE,
      `host key ${keyPath} has mode ${mode.toString(8)}; it must be readable by its owner only (chmod 600 ${keyPath})`,
    );
  }
  const privateKey = createPrivateKey(readFileSync(keyPath, "utf8"));
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new ForgeError(
      Codes.EVIDENCE_INVALID,
      `host key ${keyPath} is ${privateKey.asymmetricKeyType}, expected ed25519`,
    );
  }
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return { privateKey, publicKeyPem };
}

function createKeyFile(dir: string, keyPath: string): void {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const tmp = join(dir, `.${PRIVATE_KEY_FILE}.${randomBytes(6).toString("hex")}`);
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
  const pubFd = openSync(join(dir, PUBLIC_KEY_FILE), "w", 0o644);
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

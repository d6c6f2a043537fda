import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { dirname } from "node:path";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { Codes, ForgeError } from "../errors.js";
import { makePrivateDir, writeNewPrivateFile } from "../platform/private-files.js";
import { type KeyRotation, keyFingerprint } from "../protocol/collector-auth.js";

/**
 * The collector's identity (issue 20): the key agents pin and every ack and review is signed
 * with. Under TLS it is the certificate's key, so the key agents see in the handshake and the key
 * that signs are one. Node can parse X.509 but not write it; pkijs (pinned) writes the
 * self-signed certificate of `forge-collector tls init`.
 */
export interface CollectorIdentity {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** The same key as SPKI DER in base64: how a signed read answer names it (READ_KEY_HEADER). */
  publicKeyDer: string;
  /** `sha256:<hex>` of the public key's SPKI DER. */
  fingerprint: string;
  /** Certificate and key (PEM) when the collector serves https/wss. */
  tls: { certPem: string; keyPem: string } | null;
  /** Where the key came from: the TLS pair, a key file next to the SQLite database, or made for this run. */
  source: "tls" | "file" | "ephemeral";
  /** The statement, signed by the previous key, that this key replaced it (`tls rotate`); announced in the challenge. */
  rotation?: KeyRotation;
}

/** Builds the identity from a configured TLS pair; refuses a key that is not the certificate's. */
export function tlsIdentity(certPem: string, keyPem: string, rotation?: KeyRotation): CollectorIdentity {
  let privateKey: KeyObject;
  let cert: X509Certificate;
  try {
    privateKey = createPrivateKey(keyPem);
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `tls_cert/tls_key: not a PEM certificate and key (${String(err)})`,
    );
  }
  const pub = createPublicKey(privateKey);
  if (keyFingerprint(pub) !== keyFingerprint(cert.publicKey)) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      "tls_key is not the private key of tls_cert: give the pair 'forge-collector tls init' wrote",
    );
  }
  if (rotation !== undefined) {
    let names: string | null = null;
    try {
      names = keyFingerprint(createPublicKey(rotation.public_key_pem));
    } catch {}
    if (names !== keyFingerprint(pub))
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        "the key rotation statement beside tls_cert names another key than tls_key's: give the files 'forge-collector tls rotate' wrote",
      );
  }
  return {
    privateKey,
    ...publicParts(pub),
    tls: { certPem, keyPem },
    source: "tls",
    ...(rotation !== undefined ? { rotation } : {}),
  };
}

/**
 * Without TLS: the key in `keyFile` (created 0600 with O_EXCL on first start, like the agent's host
 * key, its directory 0700), so agents that pinned it keep trusting the collector across restarts;
 * no file (`:memory:`, or a caller that names none): a key for this run only.
 */
export function fileIdentity(keyFile: string | null): CollectorIdentity {
  if (keyFile === null) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return { privateKey, ...publicParts(createPublicKey(privateKey)), tls: null, source: "ephemeral" };
  }
  if (!existsSync(keyFile)) {
    makePrivateDir(dirname(keyFile));
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    try {
      writeNewPrivateFile(keyFile, pem);
    } catch (err) {
      // Another collector on the same database made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const privateKey = createPrivateKey(readFileSync(keyFile, "utf8"));
  return { privateKey, ...publicParts(createPublicKey(privateKey)), tls: null, source: "file" };
}

/** The identity key file of a `sqlite:PATH` database (`PATH.key`); null for PostgreSQL and `:memory:`. */
export function identityKeyFile(database: string): string | null {
  if (!database.startsWith("sqlite:")) return null;
  const path = database.slice("sqlite:".length);
  return path === "" || path === ":memory:" ? null : `${path}.key`;
}

function publicParts(pub: KeyObject): { publicKeyPem: string; publicKeyDer: string; fingerprint: string } {
  return {
    publicKeyPem: pub.export({ type: "spki", format: "pem" }).toString(),
    publicKeyDer: pub.export({ type: "spki", format: "der" }).toString("base64"),
    fingerprint: keyFingerprint(pub),
  };
}

const OID_CN = "2.5.4.3";
const OID_SAN = "2.5.29.17";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

/**
 * A certificate serial from 16 random bytes: a positive INTEGER in minimal DER (RFC 5280 4.1.2.2),
 * so its first byte is 0x01..0x7f. Clearing only the top bit left a zero first byte 1 time in 128,
 * a non-minimal encoding when the next byte is below 0x80, which OpenSSL refuses to parse
 * (X509Certificate: "no start line"): one `tls init` in 256 failed.
 */
export function certSerial(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

/**
 * A self-signed ECDSA P-256 certificate for `names` (DNS names and IP addresses in its
 * subjectAltName), valid for `days`. Agents pin its key; the names serve other TLS clients
 * (curl --cacert, a browser told to trust it).
 */
export async function generateTlsPair(
  names: string[],
  days = 825,
  random: (n: number) => Buffer = randomBytes,
): Promise<{ certPem: string; keyPem: string; fingerprint: string }> {
  const engine = new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as never });
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: certSerial(random(16)) });
  const cn = () =>
    new pkijs.AttributeTypeAndValue({
      type: OID_CN,
      value: new asn1js.Utf8String({ value: names[0] ?? "forge-collector" }),
    });
  cert.issuer.typesAndValues.push(cn());
  cert.subject.typesAndValues.push(cn());
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + days * 86_400_000);
  const san = new pkijs.GeneralNames({
    names: names.map((n) =>
      isIP(n) === 0
        ? new pkijs.GeneralName({ type: 2, value: n })
        : new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(n) }) }),
    ),
  });
  cert.extensions = [
    new pkijs.Extension({ extnID: OID_SAN, critical: false, extnValue: san.toSchema().toBER(false) }),
    new pkijs.Extension({
      extnID: OID_BASIC_CONSTRAINTS,
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: OID_EXT_KEY_USAGE,
      critical: false,
      extnValue: new pkijs.ExtKeyUsage({ keyPurposes: [OID_SERVER_AUTH] }).toSchema().toBER(false),
    }),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  await cert.sign(keys.privateKey, "SHA-256", engine);
  const der = Buffer.from(cert.toSchema(true).toBER(false));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const x509 = new X509Certificate(der);
  return {
    certPem: x509.toString(),
    keyPem: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })
      .export({ type: "pkcs8", format: "pem" })
      .toString(),
    fingerprint: keyFingerprint(x509.publicKey),
  };
}

/** The 4 or 16 bytes of an IP address, for an iPAddress subjectAltName. */
function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split(".").map(Number));
  const [head = "", tail = ""] = ip.split("::");
  const parts = (s: string) => (s === "" ? [] : s.split(":").map((p) => Number.parseInt(p, 16)));
  const h = parts(head);
  const t = parts(tail);
  const groups = ip.includes("::") ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

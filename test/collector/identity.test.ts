import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileIdentity, generateTlsPair, identityKeyFile, tlsIdentity } from "../../src/collector/identity.js";
import {
  keyFingerprint,
  signCollectorMessage,
  verifyCollectorMessage,
} from "../../src/protocol/collector-auth.js";
import { thrown } from "../support/throws.js";

describe("the collector's identity (issue 20)", () => {
  it("a serial whose random bytes begin with zeros is still minimal DER (OpenSSL parses it)", async () => {
    // The old serial (top bit cleared) encoded these as a non-minimal INTEGER: X509Certificate threw.
    for (const first of [0x00, 0x80]) {
      const pair = await generateTlsPair(["x"], 1, (n) => Buffer.alloc(n).fill(first, 0, 1));
      const cert = new X509Certificate(pair.certPem);
      expect(cert.serialNumber).toMatch(/^(0[1-9A-F]|[1-7][0-9A-F])/);
    }
  });

  it("tls init's certificate: self-signed, parses in Node, names and key as asked", async () => {
    const pair = await generateTlsPair(["collector.example", "127.0.0.1", "::1"], 30);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      "DNS:collector.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(keyFingerprint(cert.publicKey)).toBe(pair.fingerprint);
    const id = tlsIdentity(pair.certPem, pair.keyPem);
    expect(id).toMatchObject({ fingerprint: pair.fingerprint, source: "tls" });
    const other = await generateTlsPair(["x"], 1);
    const e = thrown(() => tlsIdentity(pair.certPem, other.keyPem));
    expect(e.code).toBe("FORGE_CONFIG_INVALID");
    expect(e.message).toMatch(/not the private key of tls_cert/);
  });

  it("without TLS: the key beside the SQLite file is made 0600 once and kept; PostgreSQL gets a key for the run", () => {
    const dir = mkdtempSync(join(tmpdir(), "fc-id-"));
    const file = identityKeyFile(`sqlite:${join(dir, "c.db")}`)!;
    expect(file).toBe(join(dir, "c.db.key"));
    const a = fileIdentity(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(fileIdentity(file).fingerprint).toBe(a.fingerprint);
    expect(identityKeyFile("postgres://u@h/db")).toBeNull();
    expect(identityKeyFile("sqlite::memory:")).toBeNull();
    expect(fileIdentity(null).source).toBe("ephemeral");
  });

  it("a signed message verifies only with the same key, the same connection nonce and the same content", () => {
    for (const type of ["ec", "ed25519"] as const) {
      const k =
        type === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "prime256v1" })
          : generateKeyPairSync("ed25519");
      const ack = signCollectorMessage(k.privateKey, "nonce-1", { type: "ack", seq: 7, hash: "h" });
      expect(verifyCollectorMessage(k.publicKey, "nonce-1", ack)).toBe(true);
      expect(verifyCollectorMessage(k.publicKey, "nonce-2", ack)).toBe(false);
      expect(verifyCollectorMessage(k.publicKey, "nonce-1", { ...ack, seq: 8 })).toBe(false);
      expect(verifyCollectorMessage(generateKeyPairSync("ed25519").publicKey, "nonce-1", ack)).toBe(false);
      expect(verifyCollectorMessage(k.publicKey, "nonce-1", { ...ack, sig: undefined })).toBe(false);
      expect(verifyCollectorMessage(k.publicKey, "nonce-1", { ...ack, sig: "!!" })).toBe(false);
    }
  });
});

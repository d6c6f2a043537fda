// Offline signing: a statement in a DSSE envelope inside a Sigstore bundle, signed with the host's
// P-256 model-signing key, verified with @sigstore/verify against pinned keys only.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signStatement, verifyBundle } from "../../src/lifecycle/dsse.js";
import { loadSigningKey, TrustRoot } from "../../src/lifecycle/keys.js";
import { modelSigningStatement, STATEMENT_TYPE } from "../../src/lifecycle/statement.js";

const dir = mkdtempSync(join(tmpdir(), "forge-dsse-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const statement = {
  _type: STATEMENT_TYPE,
  subject: [{ name: "m", digest: { sha256: "a".repeat(64) } }],
  predicateType: "https://example.test/p",
  predicate: { x: 1 },
};

describe("DSSE bundles signed offline", () => {
  const key = loadSigningKey(join(dir, "keys"));
  const trust = new TrustRoot([{ pem: key.publicKeyPem, source: "own" }]);

  it("keeps a P-256 key 0600 beside the chain key, stable across loads", () => {
    expect(key.privateKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(statSync(join(dir, "keys", "model-signing-p256.key")).mode & 0o777).toBe(0o600);
    expect(loadSigningKey(join(dir, "keys")).hint).toBe(key.hint);
  });

  it("round-trips: the verified statement is the signed one", async () => {
    const bundle = await signStatement(statement, key);
    expect((bundle as { mediaType: string }).mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    const v = verifyBundle(JSON.parse(JSON.stringify(bundle)), trust);
    expect(v.statement).toEqual(statement);
    expect(v.signer).toBe(key.hint);
  });

  it("refuses a changed payload, a forged signature and an untrusted key", async () => {
    const bundle = (await signStatement(statement, key)) as {
      dsseEnvelope: { payload: string; signatures: { sig: string }[] };
    };
    const tampered = structuredClone(bundle);
    const body = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, "base64").toString());
    body.subject[0].digest.sha256 = "b".repeat(64);
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(body)).toString("base64");
    expect(() => verifyBundle(tampered, trust)).toThrow(/does not verify/);
    const forged = structuredClone(bundle);
    const sig = Buffer.from(forged.dsseEnvelope.signatures[0]!.sig, "base64");
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 1;
    forged.dsseEnvelope.signatures[0]!.sig = sig.toString("base64");
    expect(() => verifyBundle(forged, trust)).toThrow(
      expect.objectContaining({ code: "FORGE_SIGNATURE_INVALID" }),
    );
    const other = loadSigningKey(join(dir, "other"));
    expect(() => verifyBundle(bundle, new TrustRoot([{ pem: other.publicKeyPem, source: "x" }]))).toThrow(
      /not among the trusted keys/,
    );
  });

  it("model-signing v1.0: resources sorted, subject digest over the resource digests", () => {
    const s = modelSigningStatement("m.gguf", [
      { name: "b", sha256: "22".repeat(32) },
      { name: "a", sha256: "11".repeat(32) },
    ]);
    expect(s.predicate.resources.map((r) => r.name)).toEqual(["a", "b"]);
    const root = createHash("sha256")
      .update(Buffer.from("11".repeat(32) + "22".repeat(32), "hex"))
      .digest("hex");
    expect(s.subject[0]!.digest.sha256).toBe(root);
  });
});

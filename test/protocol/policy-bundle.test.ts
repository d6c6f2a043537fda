import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { initGate, loadPolicyText } from "../../src/gate/index.js";
import { canonicalJson } from "../../src/protocol/canonical.js";
import {
  type Bundle,
  BundleRejectedError,
  bundleSha256,
  generateBundleKeys,
  keyId,
  type RejectReason,
  type SignedBundle,
  signBundle,
  verifySignedBundle,
} from "../../src/protocol/policy-bundle.js";

const keys = generateBundleKeys();
const other = generateBundleKeys();
const DEFAULT_POLICY = readFileSync(join(import.meta.dirname, "../../policies/default.yaml"), "utf8");

function bundle(version: number, files: Record<string, string> = { "default.yaml": DEFAULT_POLICY }): Bundle {
  return { id: "fleet", version, files, created_at: "2026-11-25T03:00:00.000Z" };
}

/** The gate's own loader, as the agent will pass it. */
const compileWithGate = (b: Bundle) => {
  for (const [name, text] of Object.entries(b.files)) loadPolicyText(text, name);
};

function rejection(fn: () => unknown): RejectReason {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BundleRejectedError);
    expect((err as BundleRejectedError).code).toBe("FORGE_BUNDLE_REJECTED");
    expect((err as BundleRejectedError).details?.reason).toBe((err as BundleRejectedError).reason);
    return (err as BundleRejectedError).reason;
  }
  throw new Error("expected a rejection, got acceptance");
}

/** What arrives over the wire: JSON text parsed back. */
const wire = (s: SignedBundle): SignedBundle => JSON.parse(JSON.stringify(s));

beforeAll(async () => {
  await initGate();
});

describe("sign and verify", () => {
  it("round trip: a signed bundle verifies against the public key, with its sha256", () => {
    const s = signBundle(bundle(4), keys.privateKeyPem);
    expect(s.key_id).toBe(keys.keyId);
    expect(s.key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(s.signature, "base64")).toHaveLength(64);
    const v = verifySignedBundle(wire(s), keys.publicKeyPem, { currentVersion: 3, compile: compileWithGate });
    expect(v.bundle).toEqual(bundle(4));
    expect(v.unchanged).toBe(false);
    expect(v.sha256).toBe(bundleSha256(bundle(4)));
    expect(v.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the first bundle (no active version) is accepted; key order on the wire does not matter", () => {
    const s = signBundle(bundle(1), keys.privateKeyPem);
    const reordered = {
      key_id: s.key_id,
      signature: s.signature,
      bundle: { created_at: s.bundle.created_at, files: s.bundle.files, version: 1, id: "fleet" },
    };
    expect(verifySignedBundle(reordered, keys.publicKeyPem).bundle.version).toBe(1);
  });

  it("property: any one-character change to the wire text is rejected, or leaves the same bundle", () => {
    const s = signBundle(
      bundle(3, { "a.yaml": "rules: []\n", "b.yml": "lists: {x: [1, 2]}\n" }),
      keys.privateKeyPem,
    );
    const text = JSON.stringify(s);
    const sha = bundleSha256(s.bundle);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: text.length - 1 }),
        fc.constantFrom(...'abcdefxyzABZ0123456789 {}[]:,"\\/+=-_.\n'),
        (pos, ch) => {
          const mutated = text.slice(0, pos) + ch + text.slice(pos + 1);
          let doc: unknown;
          try {
            doc = JSON.parse(mutated);
          } catch {
            return; // not JSON: never reaches the verifier
          }
          try {
            const v = verifySignedBundle(doc, keys.publicKeyPem);
            // Accepted only if the signed content is unchanged (e.g. the key_id or signature text was
            // replaced by an equal value, or insignificant whitespace changed).
            expect(v.sha256).toBe(sha);
          } catch (err) {
            expect(err).toBeInstanceOf(BundleRejectedError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the signature covers exactly canonicalJson(bundle)", () => {
    const s = signBundle(bundle(2), keys.privateKeyPem);
    expect(
      verify(
        null,
        Buffer.from(canonicalJson(s.bundle)),
        createPublicKey(keys.publicKeyPem),
        Buffer.from(s.signature, "base64"),
      ),
    ).toBe(true);
  });
});

describe("rejections", () => {
  const good = signBundle(
    bundle(5, { "default.yaml": DEFAULT_POLICY, "extra.yml": "rules: []\n" }),
    keys.privateKeyPem,
  );

  it("unsigned: no signature, null or empty", () => {
    const { signature: _, ...noSig } = wire(good);
    expect(rejection(() => verifySignedBundle(noSig, keys.publicKeyPem))).toBe("unsigned");
    expect(rejection(() => verifySignedBundle({ ...wire(good), signature: "" }, keys.publicKeyPem))).toBe(
      "unsigned",
    );
    expect(rejection(() => verifySignedBundle({ ...wire(good), signature: null }, keys.publicKeyPem))).toBe(
      "unsigned",
    );
  });

  it("tampered file text, file name, version, id or created_at: bad-signature", () => {
    const tamper = (f: (b: Bundle) => void) => {
      const s = wire(good);
      f(s.bundle);
      return rejection(() => verifySignedBundle(s, keys.publicKeyPem));
    };
    const edits: ((b: Bundle) => void)[] = [
      (b) => {
        b.files["default.yaml"] = b.files["default.yaml"]!.replace("effect: deny", "effect: allow");
      },
      (b) => {
        b.files["default.yaml"] += "\n";
      },
      (b) => {
        b.files["renamed.yaml"] = b.files["extra.yml"]!;
        delete b.files["extra.yml"];
      },
      (b) => {
        b.files["more.yaml"] = "rules: []\n";
      },
      (b) => {
        b.version = 6;
      },
      (b) => {
        b.id = "other";
      },
      (b) => {
        b.created_at = "2027-01-01T00:00:00.000Z";
      },
    ];
    for (const edit of edits) expect(tamper(edit)).toBe("bad-signature");
  });

  it("tampered signature: every single-bit flip is rejected", () => {
    const sig = Buffer.from(good.signature, "base64");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sig.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(sig);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(
          rejection(() =>
            verifySignedBundle({ ...wire(good), signature: flipped.toString("base64") }, keys.publicKeyPem),
          ),
        ).toBe("bad-signature");
      }),
      { numRuns: 200 },
    );
    expect(
      rejection(() => verifySignedBundle({ ...wire(good), signature: "not base64!" }, keys.publicKeyPem)),
    ).toBe("bad-signature");
    expect(
      rejection(() =>
        verifySignedBundle(
          { ...wire(good), signature: sig.subarray(0, 32).toString("base64") },
          keys.publicKeyPem,
        ),
      ),
    ).toBe("bad-signature");
  });

  it("wrong key: another key's signature, honestly labelled or relabelled", () => {
    const byOther = signBundle(bundle(5), other.privateKeyPem);
    expect(rejection(() => verifySignedBundle(wire(byOther), keys.publicKeyPem))).toBe("unknown-key");
    // An attacker copies the pinned key id onto their own signature: the signature still fails.
    expect(
      rejection(() => verifySignedBundle({ ...wire(byOther), key_id: keys.keyId }, keys.publicKeyPem)),
    ).toBe("bad-signature");
  });

  it("rollback: a lower version is refused; the same version is a no-op only for the same bundle", () => {
    const v5 = wire(good);
    const sha5 = bundleSha256(good.bundle);
    expect(rejection(() => verifySignedBundle(v5, keys.publicKeyPem, { currentVersion: 6 }))).toBe(
      "rollback",
    );
    expect(rejection(() => verifySignedBundle(v5, keys.publicKeyPem, { currentVersion: 5 }))).toBe(
      "rollback",
    );
    const same = verifySignedBundle(v5, keys.publicKeyPem, { currentVersion: 5, currentSha256: sha5 });
    expect(same.unchanged).toBe(true);
    const otherContent = signBundle(bundle(5), keys.privateKeyPem);
    expect(
      rejection(() =>
        verifySignedBundle(wire(otherContent), keys.publicKeyPem, { currentVersion: 5, currentSha256: sha5 }),
      ),
    ).toBe("version-reused");
    expect(
      verifySignedBundle(wire(signBundle(bundle(7), keys.privateKeyPem)), keys.publicKeyPem, {
        currentVersion: 5,
        currentSha256: sha5,
      }).unchanged,
    ).toBe(false);
  });

  it("malformed: not an object, missing key id, bad names, bad version, no files, non-JSON values", () => {
    for (const v of [null, 42, "x", [], {}])
      expect(rejection(() => verifySignedBundle(v, keys.publicKeyPem))).toBe("malformed");
    const { key_id: _, ...noKey } = wire(good);
    expect(rejection(() => verifySignedBundle(noKey, keys.publicKeyPem))).toBe("malformed");
    // Validly signed garbage is still garbage: sign raw objects the schema refuses.
    const signRaw = (b: unknown) => ({
      bundle: b,
      key_id: keys.keyId,
      signature: sign(null, Buffer.from(canonicalJson(b)), createPrivateKey(keys.privateKeyPem)).toString(
        "base64",
      ),
    });
    for (const b of [
      { ...bundle(1), files: { "../etc/passwd.yaml": "x" } },
      { ...bundle(1), files: { "a/b.yaml": "x" } },
      { ...bundle(1), files: { "policy.json": "x" } },
      { ...bundle(1), files: {} },
      { ...bundle(1), version: 0 },
      { ...bundle(1), version: 1.5 },
      { ...bundle(1), extra: true },
      { ...bundle(1), created_at: "yesterday" },
    ]) {
      expect(rejection(() => verifySignedBundle(signRaw(b), keys.publicKeyPem))).toBe("malformed");
    }
    expect(rejection(() => signBundle({ ...bundle(1), files: { "x.txt": "" } }, keys.privateKeyPem))).toBe(
      "malformed",
    );
  });

  it("invalid policy inside a validly signed bundle: invalid-policy, with the gate's error", () => {
    const typo = DEFAULT_POLICY.replace("effect: deny", "efect: deny");
    expect(typo).not.toBe(DEFAULT_POLICY);
    const bad = signBundle(bundle(9, { "default.yaml": typo }), keys.privateKeyPem);
    let err: BundleRejectedError | undefined;
    try {
      verifySignedBundle(wire(bad), keys.publicKeyPem, { currentVersion: 5, compile: compileWithGate });
    } catch (e) {
      err = e as BundleRejectedError;
    }
    expect(err?.reason).toBe("invalid-policy");
    expect(err?.details?.policy_error).toBe("FORGE_POLICY_INVALID");
    expect(err?.message).toMatch(/default\.yaml:\d+/); // the gate names file:line
    // Without a compiler the same bundle passes the signature checks: compile is what catches it.
    expect(verifySignedBundle(wire(bad), keys.publicKeyPem, { currentVersion: 5 }).bundle.version).toBe(9);
  });

  it("a non-ed25519 pinned key is a configuration error, never an acceptance", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
      type: "spki",
      format: "pem",
    }) as string;
    expect(() => verifySignedBundle(wire(good), rsa)).toThrow(
      expect.objectContaining({ code: "FORGE_CONFIG_INVALID" }),
    );
    // The key id is the same whether computed from the private or the public half.
    expect(keyId(createPrivateKey(keys.privateKeyPem))).toBe(keyId(keys.publicKeyPem));
  });
});

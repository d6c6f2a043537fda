/**
 * Offline signing cost (`node dist/bench/lifecycle.js [ROUNDS]`): median ms to sign an in-toto
 * statement into a Sigstore bundle (DSSEBundleBuilder, local P-256 key, no witnesses) and to
 * verify it (@sigstore/verify, pinned key, thresholds 0), against the baseline of a bare
 * crypto.sign / crypto.verify over the same DSSE pre-authentication encoding, same run.
 */
import { createPublicKey, sign, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signStatement, verifyBundle } from "../src/lifecycle/dsse.js";
import { loadSigningKey, TrustRoot } from "../src/lifecycle/keys.js";
import { STATEMENT_TYPE } from "../src/lifecycle/statement.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 200);
  const dir = mkdtempSync(join(tmpdir(), "forge-bench-lc-"));
  try {
    const key = loadSigningKey(dir);
    const trust = new TrustRoot([{ pem: key.publicKeyPem, source: "bench" }]);
    const statement = {
      _type: STATEMENT_TYPE,
      subject: [{ name: "m", digest: { sha256: "a".repeat(64) } }],
      predicateType: "https://slsa.dev/provenance/v1",
      predicate: {
        byproducts: Array.from({ length: 20 }, (_, i) => ({
          name: `record:${i}`,
          digest: { sha256: "b".repeat(64) },
        })),
      },
    };
    const payload = Buffer.from(JSON.stringify(statement));
    const type = "application/vnd.in-toto+json";
    const pae = Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} ${payload}`);
    const pub = createPublicKey(key.publicKeyPem);
    const s: number[] = [];
    const v: number[] = [];
    const bs: number[] = [];
    const bv: number[] = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      const bundle = await signStatement(statement, key);
      s.push(performance.now() - t);
      t = performance.now();
      verifyBundle(bundle, trust);
      v.push(performance.now() - t);
      t = performance.now();
      const sig = sign("sha256", pae, key.privateKey);
      bs.push(performance.now() - t);
      t = performance.now();
      verify("sha256", pae, pub, sig);
      bv.push(performance.now() - t);
    }
    const r = {
      rounds,
      sign_ms: median(s),
      verify_ms: median(v),
      baseline_sign_ms: median(bs),
      baseline_verify_ms: median(bv),
    };
    process.stdout.write(
      `${JSON.stringify({ ...r, sign_ratio: r.sign_ms / r.baseline_sign_ms, verify_ratio: r.verify_ms / r.baseline_verify_ms })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// The collector's bundle directory (real files, real fs.watch) and the `forge-collector policy`
// commands (the built CLI in a child process: keygen, sign, verify).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBundleSource, type LoadedBundle, loadBundleDir } from "../../src/collector/policy-bundles.js";
import { initGate, loadPolicyText } from "../../src/gate/index.js";
import {
  type Bundle,
  bundleSha256,
  generateBundleKeys,
  type SignedBundle,
  signBundle,
  verifySignedBundle,
} from "../../src/protocol/policy-bundle.js";

const COLLECTOR = join(import.meta.dirname, "../../bin/forge-collector.js");
const DEFAULT_POLICY = join(import.meta.dirname, "../../policies/default.yaml");
const keys = generateBundleKeys();
const other = generateBundleKeys();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-bundles-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (version: number, rules = "rules: []\n"): Bundle => ({
  id: "fleet",
  version,
  files: { "fleet.yaml": `defaults: {effect: deny}\n${rules}` },
  created_at: "2026-11-25T03:00:00.000Z",
});
const put = (name: string, signed: unknown) => writeFileSync(join(dir, name), JSON.stringify(signed));

describe("loadBundleDir", () => {
  it("serves the highest version and skips what is not a verifiable bundle", () => {
    put("v1.json", signBundle(bundle(1), keys.privateKeyPem));
    put("v3.json", signBundle(bundle(3), keys.privateKeyPem));
    put("v2.json", signBundle(bundle(2), keys.privateKeyPem));
    put("v9-other-key.json", signBundle(bundle(9), other.privateKeyPem));
    const { signature: _, ...unsigned } = signBundle(bundle(8), keys.privateKeyPem);
    put("v8-unsigned.json", unsigned);
    writeFileSync(join(dir, "broken.json"), "{not json");
    writeFileSync(join(dir, "notes.txt"), "ignored");
    put(".v7-hidden.json", signBundle(bundle(7), keys.privateKeyPem));
    mkdirSync(join(dir, "v6.json")); // a directory named like a bundle

    const skipped: string[] = [];
    const b = loadBundleDir(dir, {
      publicKeyPem: keys.publicKeyPem,
      onSkip: (f) => skipped.push(f.slice(dir.length + 1)),
    });
    expect(b?.version).toBe(3);
    expect(b?.file).toBe(join(dir, "v3.json"));
    expect(b?.sha256).toBe(bundleSha256(bundle(3)));
    expect(verifySignedBundle(b!.signed, keys.publicKeyPem).bundle.version).toBe(3);
    expect(skipped.sort()).toEqual(["broken.json", "v8-unsigned.json", "v9-other-key.json"]);
  });

  it("without the key it is a courier: signed-looking files count, unsigned ones never", () => {
    put("v9-other-key.json", signBundle(bundle(9), other.privateKeyPem));
    const { signature: _, ...unsigned } = signBundle(bundle(10), keys.privateKeyPem);
    put("v10-unsigned.json", unsigned);
    expect(loadBundleDir(dir)?.version).toBe(9);
  });

  it("empty directory: null; missing directory: FORGE_CONFIG_INVALID", () => {
    expect(loadBundleDir(dir)).toBeNull();
    expect(() => loadBundleDir(join(dir, "nope"))).toThrow(
      expect.objectContaining({ code: "FORGE_CONFIG_INVALID" }),
    );
  });

  it("two different bundles with the same top version: FORGE_BUNDLE_REJECTED version-reused; identical copies are fine", () => {
    const a = signBundle(bundle(4), keys.privateKeyPem);
    put("a.json", a);
    put("a-copy.json", a);
    expect(loadBundleDir(dir, { publicKeyPem: keys.publicKeyPem })?.version).toBe(4);
    put("b.json", signBundle(bundle(4, "rules: []\n# different\n"), keys.privateKeyPem));
    expect(() => loadBundleDir(dir, { publicKeyPem: keys.publicKeyPem })).toThrow(
      expect.objectContaining({ code: "FORGE_BUNDLE_REJECTED", reason: "version-reused" }),
    );
  });
});

describe("createBundleSource", () => {
  it("reload on demand: newer replaces, older and equal do not, a conflict keeps the current one", () => {
    put("v2.json", signBundle(bundle(2), keys.privateKeyPem));
    const src = createBundleSource(dir, { publicKeyPem: keys.publicKeyPem });
    const seen: number[] = [];
    src.onChange((b) => seen.push(b.version));
    expect(src.current()?.version).toBe(2);
    expect(src.reload()).toEqual({ changed: false });

    put("v5.json", signBundle(bundle(5), keys.privateKeyPem));
    expect(src.reload()).toEqual({ changed: true });
    expect(src.current()?.version).toBe(5);

    rmSync(join(dir, "v5.json")); // deleting the newest file does not step back
    expect(src.reload()).toEqual({ changed: false });
    expect(src.current()?.version).toBe(5);

    put("v5.json", signBundle(bundle(5, "rules: []\n# edited, not re-versioned\n"), keys.privateKeyPem));
    const r = src.reload();
    expect(r.changed).toBe(false);
    expect(r.error).toMatchObject({ code: "FORGE_BUNDLE_REJECTED", reason: "version-reused" });
    expect(src.current()?.sha256).toBe(bundleSha256(bundle(5)));
    expect(seen).toEqual([5]);
    src.close();
  });

  it("watch: a bundle written into the directory (atomically, as `policy sign --out` does) is picked up", async () => {
    put("v1.json", signBundle(bundle(1), keys.privateKeyPem));
    const src = createBundleSource(dir, { publicKeyPem: keys.publicKeyPem, watch: true, debounceMs: 20 });
    const next = new Promise<LoadedBundle>((resolve) => src.onChange(resolve));
    const tmp = join(dir, ".v2.json.tmp");
    writeFileSync(tmp, JSON.stringify(signBundle(bundle(2), keys.privateKeyPem)));
    const { renameSync } = await import("node:fs");
    renameSync(tmp, join(dir, "v2.json"));
    const b = await next;
    expect(b.version).toBe(2);
    expect(src.current()?.version).toBe(2);
    src.close();
  });

  it("watch: an invalid file is reported through onError and changes nothing", async () => {
    put("v1.json", signBundle(bundle(1), keys.privateKeyPem));
    put("v1-copy.json", signBundle(bundle(1), keys.privateKeyPem));
    const onError = vi.fn();
    const src = createBundleSource(dir, {
      publicKeyPem: keys.publicKeyPem,
      watch: true,
      debounceMs: 20,
      onError,
    });
    put("v1-conflict.json", signBundle(bundle(1, "rules: []\n# x\n"), keys.privateKeyPem));
    await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 10_000, interval: 20 });
    expect(onError.mock.calls[0]![0]).toMatchObject({ reason: "version-reused" });
    expect(src.current()?.version).toBe(1);
    src.close();
  });
});

describe("forge-collector policy keygen / sign / verify (CLI)", () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [COLLECTOR, "policy", ...args], { encoding: "utf8", cwd: dir });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("keygen writes a 0600 private key and a public key, and refuses to overwrite them", () => {
    const r = cli("keygen", "--out", join(dir, "keys"), "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(statSync(out.private_key).mode & 0o777).toBe(0o600);
    expect(readFileSync(out.public_key, "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = cli("keygen", "--out", join(dir, "keys"));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("FORGE_CONFLICT");
  });

  it("sign produces a bundle that verifies against the keygen public key (library and CLI)", async () => {
    expect(cli("keygen", "--out", "keys").code).toBe(0);
    const s = cli(
      "sign",
      DEFAULT_POLICY,
      "--key",
      "keys/policy-signing.key",
      "--out",
      "bundles/default-3.json",
      "--json",
    );
    expect(s.stderr).toBe("");
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ id: "default", version: 3, files: ["default.yaml"] });

    const signed = JSON.parse(readFileSync(join(dir, "bundles/default-3.json"), "utf8")) as SignedBundle;
    const pub = readFileSync(join(dir, "keys/policy-signing.pub"), "utf8");
    await initGate();
    const v = verifySignedBundle(signed, pub, {
      currentVersion: 2,
      compile: (b) => {
        for (const [n, t] of Object.entries(b.files)) loadPolicyText(t, n);
      },
    });
    expect(v.bundle.files["default.yaml"]).toBe(readFileSync(DEFAULT_POLICY, "utf8"));
    expect(loadBundleDir(join(dir, "bundles"), { publicKeyPem: pub })?.version).toBe(3);

    const ok = cli("verify", "bundles/default-3.json", "--pub", "keys/policy-signing.pub", "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, id: "default", version: 3, sha256: v.sha256 });
    const rollback = cli(
      "verify",
      "bundles/default-3.json",
      "--pub",
      "keys/policy-signing.pub",
      "--current-version",
      "4",
      "--json",
    );
    expect(rollback.code).toBe(1);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ ok: false, reason: "rollback" });

    // A tampered file fails the CLI verify too.
    signed.bundle.files["default.yaml"] += "\n# sneaky\n";
    writeFileSync(join(dir, "bundles/tampered.json"), JSON.stringify(signed));
    const bad = cli("verify", "bundles/tampered.json", "--pub", "keys/policy-signing.pub");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("FORGE_BUNDLE_REJECTED");
    expect(bad.stderr).toContain("bad-signature");
  });

  it("sign: a directory of files; --version required when the policy declares none; a mismatch is bad usage", () => {
    expect(cli("keygen", "--out", "keys").code).toBe(0);
    mkdirSync(join(dir, "pol"));
    writeFileSync(
      join(dir, "pol/a.yaml"),
      "defaults: {effect: deny}\nlists: {hosts: [example.com]}\nrules: []\n",
    );
    writeFileSync(join(dir, "pol/b.yml"), "rules: []\n");
    expect(cli("sign", "pol", "--key", "keys/policy-signing.key").code).toBe(2);
    const s = cli("sign", "pol", "--key", "keys/policy-signing.key", "--version", "12", "--id", "team-a");
    expect(s.code).toBe(0);
    const signed = JSON.parse(s.stdout) as SignedBundle;
    expect(Object.keys(signed.bundle.files)).toEqual(["a.yaml", "b.yml"]);
    expect(signed.bundle).toMatchObject({ id: "team-a", version: 12 });
    expect(
      verifySignedBundle(signed, readFileSync(join(dir, "keys/policy-signing.pub"), "utf8")).bundle.version,
    ).toBe(12);

    const mismatch = cli("sign", DEFAULT_POLICY, "--key", "keys/policy-signing.key", "--version", "4");
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain("disagrees");
  });

  it("sign refuses an invalid policy and a key others can read; nothing is written", () => {
    expect(cli("keygen", "--out", "keys").code).toBe(0);
    writeFileSync(join(dir, "bad.yaml"), "rules:\n  - id: r1\n    efect: deny\n");
    const bad = cli(
      "sign",
      "bad.yaml",
      "--key",
      "keys/policy-signing.key",
      "--version",
      "1",
      "--out",
      "out.json",
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("FORGE_POLICY_INVALID");
    chmodSync(join(dir, "keys/policy-signing.key"), 0o644);
    const loose = cli("sign", DEFAULT_POLICY, "--key", "keys/policy-signing.key", "--out", "out.json");
    expect(loose.code).toBe(1);
    expect(loose.stderr).toContain("FORGE_KEY_INSECURE");
    expect(() => statSync(join(dir, "out.json"))).toThrow();
  });
});

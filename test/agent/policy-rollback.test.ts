import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyUpdates } from "../../src/agent/policy-updates.js";
import type { BundleRef } from "../../src/gate/decision.js";
import { initGate, type PolicyBundle } from "../../src/gate/index.js";
import { generateBundleKeys, signBundle } from "../../src/protocol/policy-bundle.js";
import { FIXTURE_POLICY, tempHome } from "./helpers.js";

/**
 * Issue 10 (Medium): replacing <home>/policy/active.json with an older validly-signed bundle, or
 * deleting it, must not roll the policy back at restart. The high-water mark refuses both.
 */
const dir = tempHome("fa-rollback-");
const keys = generateBundleKeys();
const text = readFileSync(FIXTURE_POLICY, "utf8");

function bundle(version: number) {
  const b = {
    id: "fleet",
    version,
    files: { "p.yaml": text.replace("version: 1", `version: ${version}`) },
    created_at: "2026-12-02T00:00:00Z",
  };
  return { type: "policy", ...signBundle(b, keys.privateKeyPem) };
}

function updates(stateDir: string) {
  let current: BundleRef = { id: "file", version: 0, sha256: "" };
  const u = new PolicyUpdates({
    hostId: "h",
    publicKeyPem: keys.publicKeyPem,
    stateDir,
    gate: {
      setPolicy: (b: PolicyBundle) => {
        current = b.ref;
      },
      get bundle() {
        return current;
      },
    },
    append: async () => undefined,
    logger: { info() {}, error() {} },
  });
  return { u, current: () => current };
}

beforeAll(async () => {
  await initGate();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("policy bundle high-water mark", () => {
  it("an older validly-signed active.json, or a deleted one, is refused at restart", async () => {
    const state = join(dir, "policy");
    const first = updates(state);
    expect((await first.u.receive(bundle(2))).ok).toBe(true);
    const v2 = readFileSync(join(state, "active.json"), "utf8");
    expect((await first.u.receive(bundle(3))).ok).toBe(true);
    expect(JSON.parse(readFileSync(join(state, "high-water.json"), "utf8")).version).toBe(3);

    // A restart with the current file is fine.
    expect(updates(state).u.restore()).toBe(3);

    // The attacker puts the validly-signed v2 back…
    copyFileSync(join(state, "active.json"), join(dir, "v3.json"));
    writeFileSync(join(state, "active.json"), v2);
    expect(() => updates(state).u.restore()).toThrow(
      /already accepted version 3: an older bundle is a rollback/,
    );

    // …or deletes it, hoping for the looser policy file.
    rmSync(join(state, "active.json"));
    expect(() => updates(state).u.restore()).toThrow(
      /active.json is missing but this host accepted bundle version 3/,
    );

    // The real v3 back: accepted again.
    copyFileSync(join(dir, "v3.json"), join(state, "active.json"));
    const again = updates(state);
    expect(again.u.restore()).toBe(3);
    expect(again.current().version).toBe(3);
  });
});

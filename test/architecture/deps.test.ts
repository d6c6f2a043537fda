import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type IViolation } from "dependency-cruiser";
import { afterAll, describe, expect, it } from "vitest";
import config, { COMPONENTS } from "../../.dependency-cruiser.mjs";

/**
 * The import rules of docs/architecture.md (.dependency-cruiser.mjs), checked over the real tree,
 * and shown to fire on a copy of it with violating imports planted.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The violations in `root`'s src/ and bench/, as "rule: from -> to". */
async function violations(root: string): Promise<string[]> {
  const r = await cruise(
    ["src", "bench"],
    { ...config.options, baseDir: root, validate: true, ruleSet: { forbidden: config.forbidden } },
    {},
  );
  if (typeof r.output === "string") throw new Error("dependency-cruiser returned text, not a result");
  return r.output.summary.violations.map((v: IViolation) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe("dependency rules (docs/architecture.md)", () => {
  it("the tree breaks none", async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it("every component of the table is documented in docs/architecture.md", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");
    for (const name of Object.keys(COMPONENTS)) expect(doc).toContain(`\`${name}\``);
  });

  it("a planted violating import fails the check, with the rule it breaks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fa-deps-"));
    tmp.push(dir);
    cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
    cpSync(join(ROOT, "bench"), join(dir, "bench"), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const plant = (file: string, target: string) => {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), `export { x } from "${target}";\n`);
    };
    // One import per forbidden arrow of the issue, plus a phase-2 row and the extra rules.
    plant("src/gate/planted.ts", "../evidence/store.js");
    plant("src/gate/planted-native.ts", "../platform/native.js"); // a value, not a type
    plant("src/platform/planted.ts", "../gate/index.js");
    plant("src/collector/planted.ts", "../agent/heartbeat.js");
    plant("src/evidence/planted.ts", "../agent/daemon.js");
    plant("src/protocol/planted.ts", "../collector/server.js");
    plant("src/drift/planted.ts", "../evidence/store.js");
    plant("src/agent/planted.ts", "../cli/run.js");
    plant("bench/planted.ts", "../src/cli/run.js");
    plant("src/newthing/planted.ts", "../errors.js");
    // A static cycle: a → b → a.
    writeFileSync(
      join(dir, "src/inference/cycle-a.ts"),
      'import { b } from "./cycle-b.js";\nexport const a = b;\n',
    );
    writeFileSync(
      join(dir, "src/inference/cycle-b.ts"),
      'import { a } from "./cycle-a.js";\nexport const b = a;\n',
    );
    const found = await violations(dir);
    expect(found).toEqual(
      expect.arrayContaining([
        "gate-imports-only-its-row: src/gate/planted.ts -> src/evidence/store.ts",
        "gate-core-imports-only-native-types: src/gate/planted-native.ts -> src/platform/native.ts",
        "platform-imports-only-its-row: src/platform/planted.ts -> src/gate/index.ts",
        "collector-imports-only-its-row: src/collector/planted.ts -> src/agent/heartbeat.ts",
        "evidence-imports-only-its-row: src/evidence/planted.ts -> src/agent/daemon.ts",
        "protocol-imports-only-its-row: src/protocol/planted.ts -> src/collector/server.ts",
        "drift-imports-only-its-row: src/drift/planted.ts -> src/evidence/store.ts",
        "nothing-imports-cli: src/agent/planted.ts -> src/cli/run.ts",
        "nothing-imports-cli: bench/planted.ts -> src/cli/run.ts",
        "every-file-has-a-row: src/newthing/planted.ts -> src/errors.ts",
        "no-circular: src/inference/cycle-a.ts -> src/inference/cycle-b.ts",
      ]),
    );
    // Nothing else: the copy differs from the clean tree only by the planted files.
    expect(found.every((v) => /planted|cycle-/.test(v))).toBe(true);
  });
});

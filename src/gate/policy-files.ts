/**
 * Reads policy files from disk for the compiler (policy.ts, which does no I/O): a file, or a
 * directory's `*.yaml`/`*.yml` files in name order. The bundle sha256 is over the file bytes; for a
 * directory, over `name NUL sha256(bytes) LF` of each file in order.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Codes, ForgeError } from "../errors.js";
import { type BaseSource, compilePolicySources, type PolicyBundle } from "./policy.js";

const invalid = (message: string) => new ForgeError(Codes.POLICY_INVALID, message);

/** Absolute path of policies/default.yaml (from src/gate under vitest, or dist/src/gate when built). */
export function defaultPolicyPath(): string {
  const here = import.meta.url;
  const up = here.includes("/dist/src/gate/") ? "../../../" : "../../";
  return fileURLToPath(new URL(`${up}policies/default.yaml`, here));
}

/** The default pack for `extends: default`. */
function defaultPack(): BaseSource {
  const path = defaultPolicyPath();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw invalid(`'extends: default': cannot read the default pack '${path}': ${(err as Error).message}`);
  }
  return { text: bytes.toString("utf8"), path, sha256: sha(bytes) };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Compiles a policy file or directory; throws FORGE_POLICY_INVALID (file:line and the fix). */
export function compilePolicyPath(pathOrDir: string): PolicyBundle {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(pathOrDir);
  } catch (err) {
    throw invalid(`cannot read policy '${pathOrDir}': ${(err as Error).message}`);
  }
  if (!st.isDirectory()) {
    const bytes = readFileSync(pathOrDir);
    return compilePolicySources(
      [{ text: bytes.toString("utf8"), path: pathOrDir }],
      sha(bytes),
      basename(pathOrDir).replace(/\.ya?ml$/, ""),
      defaultPack,
    );
  }
  const names = readdirSync(pathOrDir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort();
  if (names.length === 0) throw invalid(`policy directory '${pathOrDir}' has no *.yaml files`);
  const h = createHash("sha256");
  const files: { text: string; path: string }[] = [];
  for (const n of names) {
    const bytes = readFileSync(join(pathOrDir, n));
    h.update(`${n}\0${sha(bytes)}\n`);
    files.push({ text: bytes.toString("utf8"), path: join(pathOrDir, n) });
  }
  return compilePolicySources(files, h.digest("hex"), basename(pathOrDir), defaultPack);
}

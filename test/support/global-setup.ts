// Clears the list of missing test tools before the run and prints it after, as one line with the
// command that installs them all (test/support/tools.ts writes the list).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt } from "./build.js";

const FILE = join(process.cwd(), ".test-tmp", "missing-tools");

export function setup(): void {
  rmSync(FILE, { force: true });
  // The evidence store's writer thread runs the built writer (a worker cannot load .ts): build
  // dist/ first when it is older than the sources, so no test runs a stale writer.
  ensureBuilt();
}

export function teardown(): void {
  let text = "";
  try {
    text = readFileSync(FILE, "utf8");
  } catch {
    return;
  }
  const tools = [...new Set(text.split("\n").filter(Boolean))].sort();
  if (tools.length > 0)
    process.stdout.write(
      `\nskipped for missing system tools: ${tools.join(", ")} — install them all with scripts/install-test-deps\n`,
    );
}

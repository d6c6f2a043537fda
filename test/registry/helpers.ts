// A real OCI registry for the tests (bench/registry-server.ts), skipped visibly when absent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type Distribution,
  type DistributionAuth,
  freePort,
  startDistribution,
} from "../../bench/registry-server.js";
import { findTool } from "../support/tools.js";

export type TestRegistry = Distribution;
export { freePort };

const made: string[] = [];
// Homes hold pulled blobs (some over 64 MiB): every one goes when the test file is done.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = "forge-reg-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Starts docker-registry on a free loopback port; resolves once GET /v2/ answers. */
export async function startRegistry(auth: DistributionAuth = {}): Promise<TestRegistry> {
  const bin = findTool("docker-registry");
  if (!bin) throw new Error("docker-registry missing");
  return startDistribution(bin, auth);
}

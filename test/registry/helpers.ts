// A real OCI registry for the tests (bench/registry-server.ts), skipped visibly when absent.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Distribution,
  type DistributionAuth,
  freePort,
  startDistribution,
} from "../../bench/registry-server.js";
import { findTool } from "../support/tools.js";

export type TestRegistry = Distribution;
export { freePort };

export function tempDir(prefix = "forge-reg-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts docker-registry on a free loopback port; resolves once GET /v2/ answers. */
export async function startRegistry(auth: DistributionAuth = {}): Promise<TestRegistry> {
  const bin = findTool("docker-registry");
  if (!bin) throw new Error("docker-registry missing");
  return startDistribution(bin, auth);
}

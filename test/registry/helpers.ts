// A real OCI registry for the tests: Debian's docker-registry (Distribution 2.8.2) on a free
// 127.0.0.1 port with a temp config and storage, optionally behind htpasswd or token auth.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool } from "../support/tools.js";
import { until } from "../support/wait.js";

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  storage: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(prefix = "forge-reg-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RegistryAuth {
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

/** Starts docker-registry; resolves once GET /v2/ answers. */
export async function startRegistry(auth: RegistryAuth = {}): Promise<TestRegistry> {
  const bin = findTool("docker-registry");
  if (!bin) throw new Error("docker-registry missing");
  const dir = tempDir();
  const storage = join(dir, "data");
  const port = await freePort();
  let authYaml = "";
  if (auth.htpasswd) {
    const file = join(dir, "htpasswd");
    const line = execFileSync("htpasswd", ["-nbB", auth.htpasswd.user, auth.htpasswd.password], {
      encoding: "utf8",
    });
    writeFileSync(file, line);
    authYaml = `auth:\n  htpasswd:\n    realm: forge-test\n    path: ${file}\n`;
  } else if (auth.token) {
    const t = auth.token;
    authYaml = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const proc = spawn(bin, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  await until(
    async () => {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      return r.status === 200 || r.status === 401;
    },
    "docker-registry to answer",
    30_000,
  );
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    storage,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGKILL");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's docker-registry (Distribution 2.8.2) on a free 127.0.0.1 port with a temp config and
 * storage, optionally behind htpasswd or token auth: the real registry the `registry` bench suite
 * and test/registry use. The caller finds the binary (the tests through test/support/tools.ts).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Distribution {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  storage: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export interface DistributionAuth {
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts the registry; resolves once GET /v2/ answers (polled: the process gives no ready signal). */
export async function startDistribution(
  bin: string,
  auth: DistributionAuth = {},
  parent = tmpdir(),
): Promise<Distribution> {
  const dir = mkdtempSync(join(parent, "forge-reg-"));
  const storage = join(dir, "data");
  const port = await freePort();
  let authYaml = "";
  if (auth.htpasswd) {
    const file = join(dir, "htpasswd");
    // bcrypt (-B): the only scheme Distribution's htpasswd accepts.
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
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited: ${stderr}`);
    }
    const r = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => null);
    if (r && (r.status === 200 || r.status === 401)) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port} in 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { host: `127.0.0.1:${port}`, port, dir, storage, proc, stop };
}

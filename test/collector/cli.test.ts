import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CloseCodes } from "../../src/protocol/messages.js";
import { until } from "../support/wait.js";
import { COLLECTOR_BIN, ensureBuilt } from "./build.js";
import { connectHost, getJson, TestHost } from "./helpers.js";

let dir: string;
beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("forge-collector run", () => {
  it("registers hosts from PEM files, refuses others with --require-registered, exits 0 on SIGTERM", async () => {
    dir = mkdtempSync(join(tmpdir(), "forge-collector-cli-"));
    const known = new TestHost("cli-known");
    writeFileSync(join(dir, "known.pem"), known.pem);
    const child = spawn(
      process.execPath,
      [
        COLLECTOR_BIN,
        "run",
        "--database",
        `sqlite:${join(dir, "c.db")}`,
        "--listen",
        "127.0.0.1:0",
        "--require-registered",
        "--register-host",
        `cli-known=${join(dir, "known.pem")}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    try {
      const line = await new Promise<string>((r) => createInterface({ input: child.stdout }).once("line", r));
      const { url, http } = JSON.parse(line) as { url: string; http: string };
      // A human line beside the JSON logs names the dashboard and the ingest URL.
      await until(() => /forge-collector: dashboard /.test(stderr), "the dashboard line on stderr");
      expect(stderr).toContain(`forge-collector: dashboard ${http}/ (no operators configured`);
      expect(stderr).toContain(`agents connect to ${url}\n`);
      expect((await fetch(`${http}/`)).status).toBe(200);
      const ok = await connectHost(url, known);
      expect(ok.welcome).toMatchObject({ type: "ack", seq: 0 });
      ok.c.send({ type: "records", from_seq: 1, records: known.extend(3) });
      expect(await ok.c.ackAtLeast(3)).toBe(3);
      const stranger = await connectHost(url, new TestHost("cli-stranger"));
      expect((await stranger.c.closed).code).toBe(CloseCodes.UNREGISTERED);
      // The CLI installs the fleet plugin, whose host view names the key status `key_status`.
      expect((await getJson(`${http}/v1/hosts/cli-known`)).body).toMatchObject({
        key_status: "registered",
        last_seq: 3,
      });
      ok.c.close();
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/shutting down/);
  });

  it("exits 2 on bad usage and 1 on a bad listen address", () => {
    dir = mkdtempSync(join(tmpdir(), "forge-collector-cli-"));
    const usage = spawnSync(process.execPath, [COLLECTOR_BIN, "run", "--register-host", "no-equals"], {
      encoding: "utf8",
    });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/ID=PEMFILE/);
    // The tls command's usage names both of its subcommands.
    const tls = spawnSync(process.execPath, [COLLECTOR_BIN, "tls", "--help"], { encoding: "utf8" });
    expect(`${tls.stdout}${tls.stderr}`).toMatch(/tls init .*\| tls rotate \[--dir DIR\]/);
    const bad = spawnSync(
      process.execPath,
      [COLLECTOR_BIN, "run", "--database", `sqlite:${join(dir, "c.db")}`, "--listen", "nowhere"],
      { encoding: "utf8" },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/FORGE_CONFIG_INVALID.*HOST:PORT/);
  });
});

// `forge-collector run` with no database named uses one file in the per-user data directory,
// whatever the working directory: a host pinned by a collector started in one directory is known
// to a collector started in another, and neither directory gets a ./var.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBuilt, operatorsFile, startCollectorProcess, tempDir } from "../fleet/helpers.js";
import { connectHost, ship, TestHost } from "./helpers.js";

describe("forge-collector run's default database", () => {
  it("is the same file from two working directories, under $XDG_DATA_HOME/forge-collector", async () => {
    ensureBuilt();
    const root = tempDir("fc-default-db-");
    const [a, b, data] = ["cwd-a", "cwd-b", "xdg-data"].map((d) => join(root, d));
    for (const d of [a!, b!, data!]) mkdirSync(d);
    const env = { XDG_DATA_HOME: data!, FORGE_COLLECTOR_DATABASE: "" };
    const args = ["--operators-file", operatorsFile(root, [{ name: "alice", password: "pw-default-db" }])];
    const auth = { authorization: "Bearer pw-default-db" };
    const host = new TestHost("default-db-host");

    let proc = await startCollectorProcess(root, args, env, { defaultDatabase: true, cwd: a });
    try {
      const { c } = await connectHost(proc.url, host);
      await ship(c, host.extend(2));
      c.close();
    } finally {
      await proc.stop();
    }
    expect(existsSync(join(data!, "forge-collector", "collector.db"))).toBe(true);

    proc = await startCollectorProcess(root, args, env, { defaultDatabase: true, cwd: b });
    try {
      const r = await fetch(`${proc.http}/v1/records?host_id=${host.hostId}`, { headers: auth });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { records: Array<{ seq: number }> };
      expect(body.records.map((x) => x.seq)).toEqual([1, 2]);
    } finally {
      await proc.stop();
    }
    // Nothing under either working directory.
    expect(readdirSync(a!)).toEqual([]);
    expect(readdirSync(b!)).toEqual([]);
  }, 60_000);
});

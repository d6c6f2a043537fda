// `forge-collector run` with no database named uses one file in the per-user data directory,
// whatever the working directory: a host pinned by a collector started in one directory is known
// to a collector started in another, and neither directory gets a ./var.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBuilt, operatorsFile, startCollectorProcess, tempDir } from "../fleet/helpers.js";
import { connectHost, freshPgDatabase, pgUrl, ship, TestHost } from "./helpers.js";

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

const PG = pgUrl();

describe.skipIf(PG === null)("forge-collector run on PostgreSQL, without TLS", () => {
  it("keeps the key its agents pinned across a restart: identity.key in the data directory, 0600", async () => {
    ensureBuilt();
    const db = await freshPgDatabase(PG!, "forge_identity");
    try {
      const root = tempDir("fc-pg-identity-");
      const data = join(root, "xdg-data");
      mkdirSync(data);
      const env = { XDG_DATA_HOME: data, FORGE_COLLECTOR_DATABASE: db.url };
      const host = new TestHost("pg-identity-host");
      const fingerprints: string[] = [];
      for (let run = 0; run < 2; run++) {
        const proc = await startCollectorProcess(root, [], env, { defaultDatabase: true, cwd: root });
        try {
          fingerprints.push(proc.fingerprint);
          const { c, welcome } = await connectHost(proc.url, host);
          expect(welcome).not.toBeNull();
          await ship(c, host.extend(1));
          c.close();
        } finally {
          await proc.stop();
        }
      }
      // A key for one run only (as before) made every agent that pinned it refuse the restarted collector.
      expect(fingerprints[0]).toMatch(/^sha256:/);
      expect(fingerprints[1]).toBe(fingerprints[0]);
      const keyFile = join(data, "forge-collector", "identity.key");
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(data, "forge-collector")).mode & 0o777).toBe(0o700);
    } finally {
      await db.drop();
    }
  }, 60_000);

  it("--identity-key names the file; FORGE_COLLECTOR_IDENTITY_KEY too", async () => {
    ensureBuilt();
    const db = await freshPgDatabase(PG!, "forge_identity");
    try {
      const root = tempDir("fc-pg-identity-flag-");
      const env = { XDG_DATA_HOME: join(root, "unused"), FORGE_COLLECTOR_DATABASE: db.url };
      const keyFile = join(root, "keys", "collector.key");
      const a = await startCollectorProcess(root, ["--identity-key", keyFile], env, {
        defaultDatabase: true,
        cwd: root,
      });
      await a.stop();
      const b = await startCollectorProcess(
        root,
        [],
        { ...env, FORGE_COLLECTOR_IDENTITY_KEY: keyFile },
        {
          defaultDatabase: true,
          cwd: root,
        },
      );
      await b.stop();
      expect(b.fingerprint).toBe(a.fingerprint);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(existsSync(join(root, "unused", "forge-collector", "identity.key"))).toBe(false);
    } finally {
      await db.drop();
    }
  }, 60_000);
});

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { userPaths } from "../../src/agent/config.js";
import { defaultDatabase, loadCollectorConfig } from "../../src/collector/config.js";
import { hashSecret, upsertOperatorLine } from "../../src/collector/operators.js";
import { thrown } from "../support/throws.js";

const dir = mkdtempSync(join(tmpdir(), "fc-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pem = () => generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();

describe("collector config", () => {
  it("fills the defaults and freezes the result", () => {
    const c = loadCollectorConfig({ cwd: dir });
    // The per-user data directory, never ./var under the working directory.
    expect(c.database).toBe(defaultDatabase({}));
    expect(c.database).not.toContain(dir);
    expect(c.listen).toBe("127.0.0.1:8787");
    expect(c.require_registered).toBe(false);
    expect(c.operators).toEqual([]);
    expect(c.admin_token).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.operators)).toBe(true);
  });

  it("puts the default database in the per-user data directory, as the agent's home", () => {
    const env = { HOME: "/home/ana", XDG_DATA_HOME: "/data/ana" };
    expect(loadCollectorConfig({ cwd: dir, env }).database).toBe(
      "sqlite:/data/ana/forge-collector/collector.db",
    );
    expect(defaultDatabase({ HOME: "/home/ana" }, "linux")).toBe(
      "sqlite:/home/ana/.local/share/forge-collector/collector.db",
    );
    expect(defaultDatabase({ HOME: "/Users/ana", XDG_DATA_HOME: "/x" }, "darwin")).toBe(
      "sqlite:/Users/ana/Library/Application Support/forge-collector/collector.db",
    );
    // The same rule as the agent's home: one directory apart.
    expect(defaultDatabase(env)).toBe(
      `sqlite:${join(userPaths(env).home, "..", "forge-collector", "collector.db")}`,
    );
    // Named anywhere, the name wins.
    expect(
      loadCollectorConfig({ env: { ...env, FORGE_COLLECTOR_DATABASE: "sqlite:/srv/c.db" } }).database,
    ).toBe("sqlite:/srv/c.db");
  });

  it("keeps the signing key beside a SQLite file, in the data directory for PostgreSQL, or where named", () => {
    const env = { HOME: "/home/ana", XDG_DATA_HOME: "/data/ana" };
    const key = (more: Record<string, string> = {}, flags = {}) =>
      loadCollectorConfig({ cwd: dir, env: { ...env, ...more }, flags }).identity_key;
    expect(key()).toBe("/data/ana/forge-collector/collector.db.key");
    expect(key({ FORGE_COLLECTOR_DATABASE: "sqlite:/srv/c.db" })).toBe("/srv/c.db.key");
    expect(key({ FORGE_COLLECTOR_DATABASE: "postgres://u@h/db" })).toBe(
      "/data/ana/forge-collector/identity.key",
    );
    expect(key({ FORGE_COLLECTOR_DATABASE: "sqlite::memory:" })).toBeUndefined();
    expect(
      key({ FORGE_COLLECTOR_DATABASE: "postgres://u@h/db", FORGE_COLLECTOR_IDENTITY_KEY: "k/id.key" }),
    ).toBe(join(dir, "k/id.key"));
    expect(key({}, { "identity-key": "/etc/forge/id.key" })).toBe("/etc/forge/id.key");
  });

  it("merges file, then environment, then flags; operators and hosts accumulate", () => {
    const keyFile = join(dir, "h1.pub");
    writeFileSync(keyFile, pem());
    const file = join(dir, "c.yaml");
    writeFileSync(
      file,
      [
        "database: sqlite:/srv/file.db",
        "listen: 0.0.0.0:1",
        "operators: [alice=secret-one]",
        `register_hosts: { h1: ${keyFile} }`,
        "tolerances: { indicators: { evidence_backlog: { max: 5 } } }",
      ].join("\n"),
    );
    // Flags never carry a secret (/proc/PID/cmdline is world-readable): carol comes from a file of hashes.
    const opFile = join(dir, "operators");
    writeFileSync(opFile, upsertOperatorLine("", "carol", hashSecret("secret-three")));
    const c = loadCollectorConfig({
      cwd: dir,
      env: {
        FORGE_COLLECTOR_CONFIG: file,
        FORGE_COLLECTOR_LISTEN: "127.0.0.1:2",
        FORGE_COLLECTOR_OPERATORS: "bob=secret-two",
        FORGE_COLLECTOR_ADMIN_TOKEN: "t0ken",
      },
      flags: { listen: "127.0.0.1:3", "operators-file": opFile, synchronous: "normal" },
    });
    expect(c.database).toBe("sqlite:/srv/file.db");
    expect(c.listen).toBe("127.0.0.1:3");
    expect(c.operators.map((o) => o.name)).toEqual(["alice", "bob", "carol"]);
    expect(c.admin_token).toBe("t0ken");
    expect(c.synchronous).toBe("NORMAL");
    expect(c.register_hosts.h1).toContain("BEGIN PUBLIC KEY");
    expect(c.tolerances?.indicators.evidence_backlog?.max).toBe(5);
    const env = ["LISTEN", "ADMIN_TOKEN", "OPERATORS"].map((k) => `env:FORGE_COLLECTOR_${k}`);
    const flags = ["listen", "synchronous", "operators-file"].map((f) => `flag:--${f}`);
    expect(c.source).toEqual([`file:${file}`, ...env, ...flags]);
  });

  it("names an unknown key, a bad value and an unreadable key file", () => {
    const file = join(dir, "typo.yaml");
    writeFileSync(file, "databse: sqlite:x.db\n");
    expect(thrown(() => loadCollectorConfig({ cwd: dir, flags: { config: file } }))).toMatchObject({
      code: "FORGE_CONFIG_INVALID",
      message: "unknown key 'databse' in typo.yaml: did you mean 'database'?",
    });
    const sync = thrown(() => loadCollectorConfig({ cwd: dir, flags: { synchronous: "off" } }));
    expect(sync.code).toBe("FORGE_CONFIG_INVALID");
    expect(sync.message).toMatch(/^invalid value for 'synchronous' in flags/);
    const key = thrown(() =>
      loadCollectorConfig({ cwd: dir, flags: { "register-host": { h2: "nope.pub" } } }),
    );
    expect(key.code).toBe("FORGE_CONFIG_INVALID");
    expect(key.message).toMatch(/cannot read register_hosts\.h2 .*nope\.pub/);
    const op = thrown(() => loadCollectorConfig({ cwd: dir, env: { FORGE_COLLECTOR_OPERATORS: "x=short" } }));
    expect(op.code).toBe("FORGE_CONFIG_INVALID");
  });

  it("a policy key without a policy directory is bad usage from flags, a bad config from a file", () => {
    const flag = thrown(() => loadCollectorConfig({ cwd: dir, flags: { "policy-key": "k.pub" } }));
    expect(flag).toMatchObject({ code: "FORGE_USAGE", message: "--policy-key needs --policy-dir" });
    const file = join(dir, "pk.yaml");
    writeFileSync(file, "policy_key: k.pub\n");
    const conf = thrown(() => loadCollectorConfig({ cwd: dir, flags: { config: file } }));
    expect(conf).toMatchObject({
      code: "FORGE_CONFIG_INVALID",
      message: "policy_key in pk.yaml needs policy_dir",
    });
  });

  it("tls_cert and tls_key: read at load, and only together", async () => {
    const { generateTlsPair } = await import("../../src/collector/identity.js");
    const pair = await generateTlsPair(["localhost"], 1);
    writeFileSync(join(dir, "c.crt"), pair.certPem);
    writeFileSync(join(dir, "c.key"), pair.keyPem);
    const c = loadCollectorConfig({ cwd: dir, flags: { "tls-cert": "c.crt", "tls-key": "c.key" } });
    expect(c.tls).toEqual({ certPem: pair.certPem, keyPem: pair.keyPem });
    const e = thrown(() => loadCollectorConfig({ cwd: dir, env: { FORGE_COLLECTOR_TLS_CERT: "c.crt" } }));
    expect(e.code).toBe("FORGE_CONFIG_INVALID");
    expect(e.message).toMatch(/tls_cert and tls_key go together/);
  });
});

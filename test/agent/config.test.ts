import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, userPaths } from "../../src/agent/config.js";
import { thrown } from "../support/throws.js";

const dir = mkdtempSync(join(tmpdir(), "fa-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agent config", () => {
  it("fills defaults under home, with the owner and root as the default principals", () => {
    const c = loadConfig({ cwd: dir, uid: 501, hostname: "mac-1", object: { home: "var" } });
    expect(c.home).toBe(join(dir, "var"));
    expect(c.socket).toBe(join(dir, "var", "agent.sock"));
    expect(c.evidence.path).toBe(join(dir, "var", "evidence.db"));
    expect(c.evidence.keys).toBe(join(dir, "var", "keys"));
    expect(c.models_dir).toBe(join(dir, "var", "models"));
    expect(c.host_id).toBe("mac-1");
    expect(c.backend).toBe("llama");
    expect(c.api.allowed_proposer_uids).toEqual([501, 0]);
    expect(c.api.allowed_reviewer_uids).toEqual([501, 0]);
    expect(c.review).toEqual({
      deadline_ms: 900_000,
      on_restart: "restore",
      roles: { stages: {}, labels: {} },
      token_file: join(dir, "var", "review.token"),
    });
    expect(c.collector_url).toBeUndefined();
  });

  it("without a home, uses the per-user one, never ./var against the current directory", () => {
    const user = join(dir, "alice");
    const c = loadConfig({ cwd: dir, env: { HOME: user } });
    expect(c.home).toBe(userPaths({ HOME: user }).home);
    expect(c.home.startsWith(user)).toBe(true);
    expect(c.socket).toBe(join(c.home, "agent.sock"));
    expect(loadConfig({ cwd: "/", env: { HOME: user } }).socket).toBe(c.socket);
  });

  it("userPaths: XDG on Linux, Application Support on macOS", () => {
    expect(userPaths({ HOME: "/home/a" }, "linux")).toEqual({
      home: "/home/a/.local/share/forge-agent",
      config: "/home/a/.config/forge-agent/config.yaml",
    });
    expect(userPaths({ HOME: "/home/a", XDG_DATA_HOME: "/d", XDG_CONFIG_HOME: "/c" }, "linux")).toEqual({
      home: "/d/forge-agent",
      config: "/c/forge-agent/config.yaml",
    });
    expect(userPaths({ HOME: "/Users/a" }, "darwin").home).toBe(
      "/Users/a/Library/Application Support/forge-agent",
    );
  });

  it("reads the per-user config file when no --config or FORGE_CONFIG names one", () => {
    const user = join(dir, "bob");
    const file = userPaths({ HOME: user }).config;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `home: ${join(user, "state")}\nbackend: none\n`);
    const c = loadConfig({ cwd: "/", env: { HOME: user } });
    expect(c.home).toBe(join(user, "state"));
    expect(c.backend).toBe("none");
    expect(c.source).toEqual([`file:${file}`]);
    // FORGE_HOME still wins over the file.
    expect(loadConfig({ cwd: "/", env: { HOME: user, FORGE_HOME: "/srv/x" } }).home).toBe("/srv/x");
  });

  it("merges file, then environment, then flags", () => {
    const file = join(dir, "c.yaml");
    writeFileSync(
      file,
      "home: /srv/a\nsocket: /tmp/from-file.sock\nbackend: ollama\nreview:\n  deadline_ms: 1000\n",
    );
    const c = loadConfig({
      cwd: dir,
      flags: { config: file, socket: "/tmp/from-flag.sock" },
      env: {
        FORGE_HOME: "/srv/b",
        FORGE_SOCKET: "/tmp/from-env.sock",
        FORGE_COLLECTOR_URL: "ws://127.0.0.1:8787",
      },
    });
    expect(c.home).toBe("/srv/b");
    expect(c.socket).toBe("/tmp/from-flag.sock");
    expect(c.backend).toBe("ollama");
    expect(c.review.deadline_ms).toBe(1000);
    expect(c.collector_url).toBe("ws://127.0.0.1:8787");
    expect(c.source).toEqual([
      `file:${file}`,
      "env:FORGE_HOME",
      "env:FORGE_SOCKET",
      "env:FORGE_COLLECTOR_URL",
      "flag:--socket",
    ]);
  });

  it("reads JSON config too", () => {
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ host_id: "h", api: { max_body_bytes: 10 } }));
    const c = loadConfig({ cwd: dir, flags: { config: file } });
    expect(c.host_id).toBe("h");
    expect(c.api.max_body_bytes).toBe(10);
  });

  it("is frozen all the way down", () => {
    const c = loadConfig({ cwd: dir });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.api)).toBe(true);
    expect(Object.isFrozen(c.api.allowed_proposer_uids)).toBe(true);
    expect(() => {
      (c as { home: string }).home = "x";
    }).toThrow();
  });

  it("names an unknown key and the key it probably meant", () => {
    const file = join(dir, "config.yaml");
    writeFileSync(file, "sockt: /tmp/x.sock\n");
    const e = thrown(() => loadConfig({ cwd: dir, flags: { config: file } }));
    expect(e.code).toBe("FORGE_CONFIG_INVALID");
    expect(e.message).toBe("unknown key 'sockt' in config.yaml: did you mean 'socket'?");
    writeFileSync(file, "review:\n  on_restrat: deny\n");
    expect(thrown(() => loadConfig({ cwd: dir, flags: { config: file } })).message).toBe(
      "unknown key 'review.on_restrat' in config.yaml: did you mean 'on_restart'?",
    );
    writeFileSync(file, "zzzzqqq: 1\n");
    const far = thrown(() => loadConfig({ cwd: dir, flags: { config: file } })).message;
    expect(far).toMatch(/^unknown key 'zzzzqqq' in config\.yaml: known keys: home, socket, /);
  });

  it("names a bad value, where it came from, and what was given", () => {
    const e = thrown(() => loadConfig({ cwd: dir, env: { FORGE_BACKEND: "gpt" } }));
    expect(e.code).toBe("FORGE_CONFIG_INVALID");
    expect(e.message).toContain("'backend'");
    expect(e.message).toContain('"gpt"');
    const url = thrown(() => loadConfig({ cwd: dir, flags: { "collector-url": "http://x" } }));
    expect(url.message).toContain("ws:// or wss://");
    const t = thrown(() =>
      loadConfig({ cwd: dir, object: { api: { headers_timeout_ms: 5000, request_timeout_ms: 1000 } } }),
    );
    expect(t.message).toContain("api.headers_timeout_ms");
    const listen = thrown(() => loadConfig({ cwd: dir, object: { facade: { listen: "0.0.0.0:11434" } } }));
    expect(listen.message).toContain("loopback");
  });

  it("refuses a socket path longer than a Unix socket allows, and an unreadable file", () => {
    expect(
      thrown(() => loadConfig({ cwd: dir, flags: { socket: `/tmp/${"s".repeat(120)}` } })).message,
    ).toContain("103");
    expect(
      thrown(() => loadConfig({ cwd: dir, flags: { config: join(dir, "missing.yaml") } })).message,
    ).toContain("ENOENT");
    writeFileSync(join(dir, "list.yaml"), "- a\n- b\n");
    expect(thrown(() => loadConfig({ cwd: dir, flags: { config: join(dir, "list.yaml") } })).code).toBe(
      "FORGE_CONFIG_INVALID",
    );
  });

  it("collector_trust: first-use pinning into <home>/collector-key.pem by default; a configured key is read at load", () => {
    const c = loadConfig({ cwd: dir, object: { home: "var" } });
    expect(c.collector_trust).toEqual({
      pin_first_use: true,
      pin_file: join(dir, "var", "collector-key.pem"),
    });
    const pub = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    writeFileSync(join(dir, "collector.pub"), pub);
    const pinned = loadConfig({
      cwd: dir,
      object: { collector_trust: { key: "collector.pub", pin_first_use: false } },
    });
    expect(pinned.collector_trust).toMatchObject({
      key: join(dir, "collector.pub"),
      key_pem: pub,
      pin_first_use: false,
    });
    writeFileSync(join(dir, "not-a-key.pem"), "hello");
    const e = thrown(() => loadConfig({ cwd: dir, object: { collector_trust: { key: "not-a-key.pem" } } }));
    expect(e.code).toBe("FORGE_CONFIG_INVALID");
    expect(e.message).toMatch(/collector_trust.key .* neither a PEM certificate nor an SPKI PEM public key/);
  });
});

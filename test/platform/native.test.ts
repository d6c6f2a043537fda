import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import {
  defaultAddonPath,
  loadAddon,
  mlxMemory,
  NATIVE_ABI,
  native,
  peerCredentials,
  sampleMetrics,
} from "../../src/platform/native.js";
import { thrown } from "../support/throws.js";

const NATIVE_CODES = [Codes.NATIVE_BAD_ARGUMENT, Codes.NATIVE_SYSCALL, Codes.NATIVE_UNAVAILABLE];

/** The fd of a net.Socket (Node keeps it on the libuv handle). */
function fdOf(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("socket has no fd");
  return fd;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-native-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loading", () => {
  it("loads the built addon with the ABI native.ts types", () => {
    const addon = native();
    expect(addon.abi).toBe(NATIVE_ABI);
    expect(typeof addon.peerCredentials).toBe("function");
    expect(typeof addon.sampleMetrics).toBe("function");
    expect(typeof addon.mlxMemory).toBe("function");
    expect(defaultAddonPath()).toMatch(/native\/build\/Release\/forge_native\.node$/);
  });

  it("a missing addon is FORGE_NATIVE_UNAVAILABLE and says to run npm install", () => {
    const err = thrown(() => loadAddon(join(dir, "nope", "forge_native.node")));
    expect(err.code).toBe(Codes.NATIVE_UNAVAILABLE);
    expect(err.message).toMatch(/npm install/);
  });

  it("a stale addon (other ABI) is FORGE_NATIVE_UNAVAILABLE", () => {
    const stale = join(dir, "stale.cjs");
    writeFileSync(stale, "module.exports = { abi: 1 };\n");
    const err = thrown(() => loadAddon(stale));
    expect(err.code).toBe(Codes.NATIVE_UNAVAILABLE);
    expect(err.message).toMatch(/ABI 1/);
  });
});

describe("peerCredentials over a real Unix socket", () => {
  let server: net.Server;
  let path: string;
  const accepted: net.Socket[] = [];
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    path = join(dir, "peer.sock");
    server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(path, resolve));
  });
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
    for (const s of accepted.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function nextConnection(): Promise<net.Socket> {
    if (accepted.length > 0) return accepted.shift()!;
    return new Promise((resolve) => server.once("connection", (s) => resolve(s)));
  }

  it("names this process when this process connects", async () => {
    const conn = nextConnection();
    const client = net.connect(path);
    const socket = await conn;
    try {
      const creds = peerCredentials(fdOf(socket));
      expect(creds).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    } finally {
      client.destroy();
    }
  });

  it("names a child process when the child connects", async () => {
    const conn = nextConnection();
    child = spawn(
      process.execPath,
      ["-e", "require('net').connect(process.argv[1]); setInterval(() => {}, 1000);", path],
      { stdio: "ignore" },
    );
    const socket = await conn;
    const creds = peerCredentials(fdOf(socket));
    expect(creds.pid).toBe(child.pid);
    expect(creds.pid).not.toBe(process.pid);
    expect(creds.uid).toBe(process.getuid!());
  });

  it("refuses a TCP socket: it has no peer credentials", async () => {
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const port = (tcp.address() as net.AddressInfo).port;
    const got = new Promise<net.Socket>((resolve) => tcp.once("connection", resolve));
    const client = net.connect(port, "127.0.0.1");
    const socket = await got;
    try {
      const err = thrown(() => peerCredentials(fdOf(socket)));
      expect(err.code).toBe(Codes.NATIVE_BAD_ARGUMENT);
      expect(err.message).toMatch(/not a Unix-domain socket/);
    } finally {
      client.destroy();
      socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});

describe("bad arguments raise coded errors, never a crash", () => {
  it.each([
    ["no argument", []],
    ["a string", ["3"]],
    ["a negative fd", [-1]],
    ["a fraction", [1.5]],
    ["NaN", [Number.NaN]],
    ["Infinity", [Number.POSITIVE_INFINITY]],
    ["beyond int32", [2 ** 31]],
    ["an object", [{}]],
    ["two arguments", [3, 4]],
  ])("peerCredentials(%s) is FORGE_NATIVE_BAD_ARGUMENT", (_label, args) => {
    const err = thrown(() => (native().peerCredentials as (...a: unknown[]) => unknown)(...args));
    expect(err.code).toBe(Codes.NATIVE_BAD_ARGUMENT);
  });

  it("a closed fd is FORGE_NATIVE_SYSCALL naming EBADF", () => {
    const fd = openSync(join(dir, "closed"), "w");
    closeSync(fd);
    const err = thrown(() => peerCredentials(fd));
    expect(err.code).toBe(Codes.NATIVE_SYSCALL);
    expect(err.message).toMatch(/EBADF/);
    expect(err.details).toEqual({ errno: "EBADF", syscall: "getsockname" });
  });

  it("a file fd is FORGE_NATIVE_SYSCALL naming ENOTSOCK", () => {
    const fd = openSync(join(dir, "file"), "w");
    try {
      const err = thrown(() => peerCredentials(fd));
      expect(err.code).toBe(Codes.NATIVE_SYSCALL);
      expect(err.message).toMatch(/ENOTSOCK/);
    } finally {
      closeSync(fd);
    }
  });

  it("the raw addon's errors carry the code, errno name and syscall themselves", () => {
    const err = thrown(() => native().peerCredentials(1_000_000)) as ReturnType<typeof thrown> & {
      errno?: string;
      syscall?: string;
    };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(Codes.NATIVE_SYSCALL);
    expect(err.errno).toBe("EBADF");
    expect(err.syscall).toBe("getsockname");
  });

  it.each([
    ["a number", [123]],
    ["an object", [{}]],
    ["a relative path", ["proc"]],
    ["an empty path", [""]],
    ["two arguments", ["/", "/"]],
  ])("sampleMetrics(%s) is FORGE_NATIVE_BAD_ARGUMENT", (_label, args) => {
    const err = thrown(() => (native().sampleMetrics as (...a: unknown[]) => unknown)(...args));
    expect(err.code).toBe(Codes.NATIVE_BAD_ARGUMENT);
  });

  it("sampleMetrics on a root without /proc/stat is FORGE_NATIVE_SYSCALL naming ENOENT", () => {
    const err = thrown(() => sampleMetrics(join(dir, "empty-root")));
    expect(err.code).toBe(Codes.NATIVE_SYSCALL);
    expect(err.message).toMatch(/proc\/stat.*ENOENT/);
  });

  it("mlxMemory(anything) is FORGE_NATIVE_BAD_ARGUMENT", () => {
    const err = thrown(() => (native().mlxMemory as (...a: unknown[]) => unknown)(1));
    expect(err.code).toBe(Codes.NATIVE_BAD_ARGUMENT);
  });

  it("any value at all passed to any export returns or throws a coded error (property)", () => {
    const addon = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    const arbitraryArg = fc.oneof(
      fc.anything(),
      fc.integer({ min: -5, max: 4096 }),
      fc.double(),
      fc.string(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("peerCredentials", "sampleMetrics", "mlxMemory"),
        fc.array(arbitraryArg, { maxLength: 3 }),
        (name, args) => {
          try {
            addon[name]!(...args);
          } catch (err) {
            expect(NATIVE_CODES).toContain((err as { code?: string }).code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("sampleMetrics and mlxMemory here", () => {
  it("returns cumulative counters of this host", () => {
    const s = sampleMetrics();
    expect(s.platform).toBe("linux");
    expect(s.ticksPerSecond).toBeGreaterThan(0);
    expect(s.cpu.cores.length).toBeGreaterThan(0);
    expect(s.cpu.total.busy + s.cpu.total.idle).toBeGreaterThan(0);
    expect(s.memory.totalBytes).toBeGreaterThan(s.memory.usedBytes);
    const later = sampleMetrics();
    expect(later.monotonicMs).toBeGreaterThan(s.monotonicMs);
    expect(later.cpu.total.idle).toBeGreaterThanOrEqual(s.cpu.total.idle);
  });

  it("mlxMemory says MLX is absent in a build without MLX", () => {
    const m = mlxMemory();
    expect(m.available).toBe(false);
    if (!m.available) expect(m.reason).toMatch(/without MLX/);
  });
});

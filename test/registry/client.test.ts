// The OCI client against a real registry (Debian docker-registry 2.8.2): every artifact kind,
// referrers through the tag-schema fallback, chunked upload, resume, corruption, down and slow.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACT_KINDS,
  BlobCache,
  cacheOf,
  fallbackTag,
  KINDS,
  MODEL_CONFIG,
  MODEL_WEIGHT_RAW,
  openClient,
  pullArtifact,
  pushArtifact,
  RegistryClient,
} from "../../src/registry/index.js";
import { TcpProxy } from "../collector/proxy.js";
import { missing } from "../support/tools.js";
import { freePort, startRegistry, type TestRegistry, tempDir } from "./helpers.js";

const noRegistry = missing("docker-registry");

function client(reg: { host: string }, home: string, extra = {}): RegistryClient {
  return openClient(reg.host, { home, insecure: true, credentials: () => null, extra });
}

describe.skipIf(noRegistry)("registry client against docker-registry 2.8.2", () => {
  let reg: TestRegistry;
  let home: string;
  beforeAll(async () => {
    reg = await startRegistry();
    home = tempDir("forge-home-");
  });
  afterAll(async () => {
    await reg?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("pushes and pulls every artifact kind, byte for byte", async () => {
    const c = client(reg, home);
    const model = await pushArtifact(c, {
      repository: "forge/models/tiny",
      tag: "v1",
      kind: "model",
      files: [
        { name: "model.gguf", bytes: Buffer.concat([Buffer.from("GGUF"), randomBytes(4096)]) },
        { name: "README.md", bytes: Buffer.from("# tiny\n") },
        { name: "tokenizer.json", bytes: Buffer.from("{}\n") },
      ],
    });
    const subject = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: model.digest,
      size: model.size,
    };
    for (const kind of ARTIFACT_KINDS) {
      const bytes = randomBytes(1000 + ARTIFACT_KINDS.indexOf(kind));
      const pushed =
        kind === "model"
          ? model
          : await pushArtifact(c, {
              repository: "forge/models/tiny",
              ...(KINDS[kind].needsSubject ? { subject } : { tag: kind }),
              kind,
              files: [{ name: `data/${kind}.bin`, bytes }],
            });
      expect(pushed.artifactType).toBe(KINDS[kind].artifactType);
      const fresh = client(reg, tempDir("forge-home-"));
      const pulled = await pullArtifact(fresh, "forge/models/tiny", pushed.digest);
      expect(pulled.kind).toBe(kind);
      expect(pulled.manifest.artifactType).toBe(KINDS[kind].artifactType);
      if (kind === "model") {
        expect(pulled.manifest.config.mediaType).toBe(MODEL_CONFIG);
        expect(pulled.files.map((f) => [f.name, f.mediaType])).toEqual([
          ["model.gguf", MODEL_WEIGHT_RAW],
          ["README.md", "application/vnd.cncf.model.doc.v1.raw"],
          ["tokenizer.json", "application/vnd.cncf.model.weight.config.v1.raw"],
        ]);
        const cfg = pulled.config.value as {
          modelfs: { type: string; diffIds: string[] };
          config: { format: string };
        };
        expect(cfg.modelfs).toEqual({ type: "layers", diffIds: pulled.files.map((f) => f.digest) });
        expect(cfg.config.format).toBe("gguf");
      } else {
        expect(pulled.manifest.config.mediaType).toBe("application/vnd.oci.empty.v1+json");
        expect(pulled.files[0]!.name).toBe(`data/${kind}.bin`);
        expect(readFileSync(pulled.files[0]!.path).equals(bytes)).toBe(true);
        if (KINDS[kind].needsSubject) expect(pulled.manifest.subject?.digest).toBe(model.digest);
      }
    }
    // Derived artifacts are found from the model, per type, through the fallback index.
    const all = await c.referrers("forge/models/tiny", model.digest);
    expect(all.map((d) => d.artifactType).sort()).toEqual(
      ARTIFACT_KINDS.filter((k) => KINDS[k].needsSubject)
        .map((k) => KINDS[k].artifactType)
        .sort(),
    );
    const sigs = await c.referrers("forge/models/tiny", model.digest, KINDS.signature.artifactType);
    expect(sigs).toHaveLength(1);
    expect(await c.listTags("forge/models/tiny")).toContain(fallbackTag(model.digest));
    expect(await c.listTags("forge/models/tiny")).toContain("v1");
  });

  it("skips blobs the registry has (HEAD) and mounts across repositories", async () => {
    const c = client(reg, tempDir("forge-home-"));
    const bytes = randomBytes(5000);
    const a = await pushArtifact(c, {
      repository: "mount/a",
      tag: "t",
      kind: "dataset",
      files: [{ name: "d", bytes }],
    });
    expect(a.blobs.map((b) => b.how)).toEqual(["uploaded", "uploaded"]);
    const again = await pushArtifact(c, {
      repository: "mount/a",
      tag: "t2",
      kind: "dataset",
      files: [{ name: "d", bytes }],
    });
    expect(again.blobs.map((b) => b.how)).toEqual(["exists", "exists"]);
    const b = await pushArtifact(c, {
      repository: "mount/b",
      tag: "t",
      kind: "dataset",
      files: [{ name: "d", bytes }],
    });
    expect(b.blobs.map((x) => x.how)).toEqual(["mounted", "mounted"]);
  });

  it("uploads a file over 64 MiB in chunks and pulls it back verified", async () => {
    const dir = tempDir();
    const f = join(dir, "big.gguf");
    const size = 64 * 1024 * 1024 + 12345;
    const fd = openSync(f, "w");
    const block = randomBytes(1 << 20);
    for (let off = 0; off < size; off += block.length)
      writeSync(fd, block, 0, Math.min(block.length, size - off));
    closeSync(fd);
    const patches: number[] = [];
    const c = client(reg, home, { chunkSize: 16 << 20 });
    const pushed = await pushArtifact(c, {
      repository: "big/model",
      tag: "v1",
      kind: "model",
      files: [{ name: "big.gguf", path: f }],
      onProgress: (_n, sent) => patches.push(sent),
    });
    expect(patches.length).toBe(5); // 4 full chunks of 16 MiB and one short one
    const fresh = client(reg, tempDir("forge-home-"));
    const pulled = await pullArtifact(fresh, "big/model", "v1");
    const want = createHash("sha256").update(readFileSync(f)).digest("hex");
    expect(pulled.files[0]!.digest).toBe(`sha256:${want}`);
    expect(createHash("sha256").update(readFileSync(pulled.files[0]!.path)).digest("hex")).toBe(want);
    expect(pushed.blobs[1]!.how).toBe("uploaded");
    rmSync(dir, { recursive: true, force: true });
  });

  it("resumes an interrupted chunked upload from what the registry kept", async () => {
    const bytes = randomBytes(3 * (1 << 20) + 7);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const proxy = await new TcpProxy(reg.port).listen();
    const h = tempDir("forge-home-");
    let cut = false;
    const c = client({ host: `127.0.0.1:${proxy.port}` }, h, {
      chunkSize: 1 << 20,
      monolithicMax: 1 << 20,
      attempts: 1,
    });
    // Cut the connection once the second chunk is in: the first run fails part-way.
    await expect(
      c.pushBlob(
        "resume/up",
        { bytes },
        { digest, size: bytes.length },
        {
          onProgress: (sent) => {
            if (sent >= 2 << 20 && !cut) {
              cut = true;
              proxy.upstreamPort = 1; // nothing listens there: the next PATCH cannot connect
              proxy.cutAll();
            }
          },
        },
      ),
    ).rejects.toMatchObject({ code: "FORGE_REGISTRY_UNAVAILABLE" });
    const saved = readdirSync(join(h, "blobs", "uploads"), { recursive: true }).filter((n) =>
      String(n).endsWith(".json"),
    );
    expect(saved).toHaveLength(1);
    proxy.upstreamPort = reg.port;
    const sent: number[] = [];
    const again = await c.pushBlob(
      "resume/up",
      { bytes },
      { digest, size: bytes.length },
      { onProgress: (s) => sent.push(s) },
    );
    expect(again.how).toBe("uploaded");
    expect(sent[0]).toBe(3 << 20); // started after the 2 MiB the registry had, not at 0
    expect(await c.hasBlob("resume/up", digest)).toBe(true);
    await proxy.close();
  });

  it("resumes a pull cut by a TCP proxy with a Range request", async () => {
    const c = client(reg, home);
    const bytes = randomBytes(24 << 20);
    await pushArtifact(c, {
      repository: "resume/pull",
      tag: "v1",
      kind: "model",
      files: [{ name: "m.gguf", bytes }],
    });
    const proxy = await new TcpProxy(reg.port).listen();
    const h = tempDir("forge-home-");
    const through = client({ host: `127.0.0.1:${proxy.port}` }, h);
    const resumed: number[] = [];
    let cutDone = false;
    const pulled = await pullArtifact(through, "resume/pull", "v1", {
      onProgress: (_n, got) => {
        if (!cutDone && got > 8 << 20) {
          cutDone = true;
          proxy.cutAll();
        }
      },
      onResume: (off) => resumed.push(off),
    });
    expect(cutDone).toBe(true);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]).toBeGreaterThan(8 << 20);
    expect(readFileSync(pulled.files[0]!.path).equals(bytes)).toBe(true);
    expect(readdirSync(join(h, "blobs", "partial"))).toEqual([]);
    await proxy.close();
  });

  it("two concurrent pulls of one blob into one cache end with one verified copy", async () => {
    const c = client(reg, home);
    const bytes = randomBytes(20 << 20);
    await pushArtifact(c, {
      repository: "conc/pull",
      tag: "v1",
      kind: "model",
      files: [{ name: "m.gguf", bytes }],
    });
    const h = tempDir("forge-home-");
    const root = join(h, "blobs");
    // Two caches on one root (as two processes would have): no in-process sharing of the download.
    const mk = () => new RegistryClient(reg.host, { cache: new BlobCache(root), insecure: true });
    const [a, b] = await Promise.all([
      pullArtifact(mk(), "conc/pull", "v1"),
      pullArtifact(mk(), "conc/pull", "v1"),
    ]);
    expect(a.files[0]!.path).toBe(b.files[0]!.path);
    expect(readFileSync(a.files[0]!.path).equals(bytes)).toBe(true);
    expect(readdirSync(join(root, "partial"))).toEqual([]);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });

  it("refuses a corrupted blob and stores nothing of it", async () => {
    const c = client(reg, home);
    const bytes = randomBytes(200_000);
    const p = await pushArtifact(c, {
      repository: "corrupt/x",
      tag: "v1",
      kind: "dataset",
      files: [{ name: "d.bin", bytes }],
    });
    const layer = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    // Flip one byte of the blob in the registry's own storage.
    const data = join(
      reg.storage,
      "docker/registry/v2/blobs/sha256",
      layer.slice(7, 9),
      layer.slice(7),
      "data",
    );
    const buf = readFileSync(data);
    buf[1000] = buf[1000]! ^ 0xff;
    writeFileSync(data, buf);
    const h = tempDir("forge-home-");
    await expect(pullArtifact(client(reg, h), "corrupt/x", p.digest)).rejects.toMatchObject({
      code: "FORGE_DIGEST_MISMATCH",
    });
    const cache = cacheOf(h);
    expect(await cache.has(layer)).toBe(false);
    expect(readdirSync(join(h, "blobs", "partial")).filter((n) => n.endsWith(".part"))).toEqual([]);
    // A cached blob corrupted on disk is refused at verification and dropped.
    const good = await pullArtifact(client(reg, home), "forge/models/tiny", "v1");
    const weight = good.files[0]!;
    const cached = cacheOf(home);
    rmSync(weight.path, { force: true });
    writeFileSync(weight.path, "not the model");
    await expect(cached.verify(weight.digest)).rejects.toMatchObject({ code: "FORGE_DIGEST_MISMATCH" });
    expect(existsSync(weight.path)).toBe(false);
  });

  it("keeps every referrer when two processes write the fallback index at once", async () => {
    const c = client(reg, home);
    const subj = await pushArtifact(c, {
      repository: "conc/m",
      tag: "v1",
      kind: "model",
      files: [{ name: "m.gguf", bytes: randomBytes(100) }],
    });
    const writer = join(import.meta.dirname, "fixtures", "referrer-writer.mjs");
    const run = (id: string) =>
      new Promise<number>((resolve) => {
        const p = spawn(process.execPath, [writer, reg.host, home, subj.digest, String(subj.size), id, "6"], {
          stdio: ["ignore", "inherit", "inherit"],
        });
        p.on("exit", (code) => resolve(code ?? 1));
      });
    const codes = await Promise.all([run("a"), run("b")]);
    expect(codes).toEqual([0, 0]);
    const refs = await c.referrers("conc/m", subj.digest);
    expect(refs).toHaveLength(12);
    expect(new Set(refs.map((r) => r.annotations?.["dev.forge-agent.writer"])).size).toBe(12);
  });

  it("reports a registry that is down, after retries with backoff", async () => {
    const retries: number[] = [];
    const dead = openClient(`127.0.0.1:${await freePort()}`, {
      home: tempDir("forge-home-"),
      insecure: true,
      credentials: () => null,
      extra: { backoffMs: 5, onRetry: (_w: string, n: number) => retries.push(n) },
    });
    const err = await pullArtifact(dead, "x/y", "v1").catch((e) => e);
    expect(err.code).toBe("FORGE_REGISTRY_UNAVAILABLE");
    expect(err.message).toMatch(/unavailable after 4 attempt\(s\).*ECONNREFUSED/);
    expect(retries).toEqual([1, 2, 3]);
  });

  it("times out a registry that accepts and never answers, with nothing in the cache", async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    const h = tempDir("forge-home-");
    const slow = openClient(`127.0.0.1:${port}`, {
      home: h,
      insecure: true,
      credentials: () => null,
      extra: { timeoutMs: 200, backoffMs: 5, attempts: 2 },
    });
    const err = await pullArtifact(slow, "x/y", "v1").catch((e) => e);
    expect(err.code).toBe("FORGE_REGISTRY_UNAVAILABLE");
    expect(err.message).toMatch(/sent no answer in 200 ms/);
    expect(existsSync(join(h, "blobs", "sha256")) ? readdirSync(join(h, "blobs", "sha256")) : []).toEqual([]);
    silent.close();
  });

  it("refuses plain HTTP to a host that is not loopback", () => {
    expect(() =>
      openClient("registry.example.com", { home, insecure: true, credentials: () => null }),
    ).toThrow(expect.objectContaining({ code: "FORGE_REGISTRY_INSECURE" }));
  });
});

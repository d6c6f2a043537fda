/**
 * The `registry` suite: push and pull throughput of a >= 100 MiB ModelPack model through our client
 * against `skopeo copy` of the same artifact, in the same run, against the same docker-registry on
 * loopback; and the time to re-verify a cached model's digest (what every serve does).
 * Each round starts a fresh registry and gives both sides fresh state (our FORGE_HOME, skopeo's
 * HOME), so neither side skips or mounts a blob: skopeo run as root keeps a system-wide blob-info
 * cache (/var/lib/containers/cache) and would otherwise mount from an earlier round's repository
 * (measured: 0.18 s for 128 MiB). The order alternates between rounds.
 * Target: our throughput / skopeo's >= 0.9 for push and for pull.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { openClient, pullArtifact, pushArtifact } from "../src/registry/index.js";
import { judge, type Metric, nowNs, runStandalone, type Suite, stats } from "./harness.js";
import { startDistribution } from "./registry-server.js";

const run = promisify(execFile);
const MIB = 1 << 20;

function which(cmd: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

export function registrySuite(o: { sizeMiB?: number; rounds?: number } = {}): Suite {
  return async (ctx) => {
    const bin = which("docker-registry");
    const skopeo = which("skopeo");
    if (!bin || !skopeo)
      return {
        suite: "registry",
        skipped: `skipped: ${!bin ? "docker-registry" : "skopeo"} not installed (apt install docker-registry skopeo)`,
        metrics: [],
      };
    const sizeMiB = o.sizeMiB ?? Number(process.env.BENCH_REGISTRY_MIB ?? 128);
    const rounds = o.rounds ?? Math.max(3, Math.min(7, Math.round(ctx.durationS)));
    const seedReg = await startDistribution(bin, {}, ctx.tmpDir);
    const fresh = (p: string) => mkdtempSync(join(ctx.tmpDir, p));
    try {
      // The model: a GGUF magic and random (incompressible) weights.
      const modelDir = fresh("model-");
      const file = join(modelDir, "model.gguf");
      const fd = openSync(file, "w");
      writeSync(fd, Buffer.from("GGUF"));
      const block = randomBytes(MIB);
      for (let i = 0; i < sizeMiB; i++)
        writeSync(
          fd,
          block.map((b, j) => b ^ (i + j)),
        );
      closeSync(fd);
      const bytes = sizeMiB * MIB + 4;
      // The same artifact as an OCI layout, skopeo's source for its push.
      const seed = openClient(seedReg.host, {
        home: fresh("home-"),
        insecure: true,
        credentials: () => null,
      });
      await pushArtifact(seed, {
        repository: "bench/seed",
        tag: "v1",
        kind: "model",
        files: [{ name: "model.gguf", path: file }],
      });
      const layout = join(fresh("layout-"), "l");
      await run(
        skopeo,
        ["copy", "--src-tls-verify=false", `docker://${seedReg.host}/bench/seed:v1`, `oci:${layout}:v1`],
        { env: { ...process.env, HOME: fresh("skhome-") } },
      );

      const t = {
        oursPush: [] as number[],
        skPush: [] as number[],
        oursPull: [] as number[],
        skPull: [] as number[],
      };
      const time = async (f: () => Promise<unknown>) => {
        const t0 = nowNs();
        await f();
        return (nowNs() - t0) / 1e9;
      };
      for (let r = 0; r < rounds && !ctx.signal.aborted; r++) {
        ctx.progress(r / rounds, `round ${r + 1}/${rounds}`);
        const reg = await startDistribution(bin, {}, ctx.tmpDir);
        const ours = async () => {
          const home = fresh("home-");
          const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
          t.oursPush.push(
            await time(() =>
              pushArtifact(c, {
                repository: `bench/ours-${r}`,
                tag: "v1",
                kind: "model",
                files: [{ name: "model.gguf", path: file }],
              }),
            ),
          );
          const home2 = fresh("home-");
          const c2 = openClient(reg.host, { home: home2, insecure: true, credentials: () => null });
          t.oursPull.push(await time(() => pullArtifact(c2, `bench/ours-${r}`, "v1")));
          rmSync(home, { recursive: true, force: true });
          rmSync(home2, { recursive: true, force: true });
        };
        const theirs = async () => {
          const env = { ...process.env, HOME: fresh("skhome-") };
          t.skPush.push(
            await time(() =>
              run(
                skopeo,
                [
                  "copy",
                  "--dest-tls-verify=false",
                  `oci:${layout}:v1`,
                  `docker://${reg.host}/bench/skopeo-${r}:v1`,
                ],
                { env },
              ),
            ),
          );
          const out = join(fresh("skout-"), "l");
          const env2 = { ...process.env, HOME: fresh("skhome-") };
          t.skPull.push(
            await time(() =>
              run(
                skopeo,
                [
                  "copy",
                  "--src-tls-verify=false",
                  `docker://${reg.host}/bench/skopeo-${r}:v1`,
                  `oci:${out}:v1`,
                ],
                { env: env2 },
              ),
            ),
          );
          rmSync(out, { recursive: true, force: true });
        };
        try {
          if (r % 2 === 0) {
            await ours();
            await theirs();
          } else {
            await theirs();
            await ours();
          }
        } finally {
          await reg.stop();
        }
      }
      const mibps = (secs: number[]) => secs.map((s) => bytes / MIB / s);
      const pair = (name: string, ours: number[], base: number[]): Metric => {
        const a = stats(mibps(ours));
        const b = stats(mibps(base));
        return judge(
          {
            name,
            unit: "MiB/s",
            stats: a,
            baseline: { name: `skopeo copy (${name.split(" ")[0]})`, stats: b },
            ratio: a.median / b.median,
            ratio_of: "our median MiB/s over skopeo's",
            notes: `${sizeMiB} MiB model, ${ours.length} rounds; medians ${(bytes / MIB / a.median).toFixed(2)} s vs ${(bytes / MIB / b.median).toFixed(2)} s`,
          },
          { text: "ratio >= 0.9", stat: "ratio", op: ">=", value: 0.9 },
        );
      };
      // Re-verifying the cached weights before serving: a full sha256 of the blob.
      const home = fresh("home-");
      const c = openClient(seedReg.host, { home, insecure: true, credentials: () => null });
      const pulled = await pullArtifact(c, "bench/seed", "v1");
      const digest = pulled.files[0]!.digest;
      const verify: number[] = [];
      for (let i = 0; i < 5 && !ctx.signal.aborted; i++) {
        const t0 = nowNs();
        await c.cache.verify(digest);
        verify.push((nowNs() - t0) / 1e6);
      }
      const vs = stats(verify);
      ctx.progress(1, "done");
      return {
        suite: "registry",
        metrics: [
          pair("push throughput", t.oursPush, t.skPush),
          pair("pull throughput", t.oursPull, t.skPull),
          {
            name: "verify cached model digest",
            unit: "ms",
            stats: vs,
            notes: `${sizeMiB} MiB blob re-hashed (sha256) at ${((bytes / MIB / vs.median) * 1000).toFixed(0)} MiB/s`,
          },
        ],
        info: {
          size_mib: sizeMiB,
          rounds,
          registry: "docker-registry (Distribution 2.8.2), loopback, filesystem storage",
        },
      };
    } finally {
      await seedReg.stop();
    }
  };
}

export const suite: Suite = registrySuite();

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone("registry", async (ctx) => {
    const r = await suite(ctx);
    for (const m of r.metrics) process.stdout.write(`${m.name}: ${m.notes ?? ""}\n`);
    return r;
  });
}

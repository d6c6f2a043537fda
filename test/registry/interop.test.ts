// Interop with an independent client: Debian's skopeo 1.9.3 inspects and copies what we push, and
// we pull (verified) what skopeo pushed.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  KINDS,
  MODEL_ARTIFACT,
  openClient,
  pullArtifact,
  pushArtifact,
  sha256,
} from "../../src/registry/index.js";
import { missing } from "../support/tools.js";
import { startRegistry, type TestRegistry, tempDir } from "./helpers.js";

const run = promisify(execFile);
const skopeo = (...args: string[]) => run("skopeo", args, { maxBuffer: 1 << 26 });

describe.skipIf(missing("docker-registry") || missing("skopeo"))("interop with skopeo", () => {
  let reg: TestRegistry;
  let home: string;
  beforeAll(async () => {
    reg = await startRegistry();
    home = tempDir("forge-home-");
  });
  afterAll(async () => {
    await reg?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("skopeo inspects our ModelPack manifest byte for byte", async () => {
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    const p = await pushArtifact(c, {
      repository: "interop/model",
      tag: "v1",
      kind: "model",
      files: [{ name: "m.gguf", bytes: randomBytes(10_000) }],
    });
    const { stdout } = await skopeo(
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${reg.host}/interop/model:v1`,
    );
    expect(sha256(Buffer.from(stdout))).toBe(p.digest);
    expect(JSON.parse(stdout).artifactType).toBe(MODEL_ARTIFACT);
    // Image-specific inspection refuses a non-image config, as skopeo 1.9.3 does for any artifact.
    await expect(
      skopeo("inspect", "--tls-verify=false", `docker://${reg.host}/interop/model:v1`),
    ).rejects.toThrow(/unsupported image-specific operation on artifact/);
  });

  it("skopeo copies our artifacts (model and a referrer), and we pull its copies verified", async () => {
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    const weights = randomBytes(3 << 20);
    const p = await pushArtifact(c, {
      repository: "interop/src",
      tag: "v1",
      kind: "model",
      files: [{ name: "m.gguf", bytes: weights }],
    });
    const subject = { mediaType: p.mediaType, digest: p.digest, size: p.size };
    const er = await pushArtifact(c, {
      repository: "interop/src",
      tag: "eval",
      kind: "eval-result",
      subject,
      files: [{ name: "r.json", bytes: Buffer.from('{"score":1}') }],
    });
    for (const [from, to] of [
      ["v1", "v1"],
      ["eval", "eval"],
    ]) {
      await skopeo(
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${reg.host}/interop/src:${from}`,
        `docker://${reg.host}/interop/dst:${to}`,
      );
    }
    const fresh = openClient(reg.host, {
      home: tempDir("forge-home-"),
      insecure: true,
      credentials: () => null,
    });
    const got = await pullArtifact(fresh, "interop/dst", "v1");
    // skopeo kept the manifest as is: same digest, so pins survive a copy between registries.
    expect(got.digest).toBe(p.digest);
    expect(readFileSync(got.files[0]!.path).equals(weights)).toBe(true);
    const ev = await pullArtifact(fresh, "interop/dst", "eval");
    expect(ev.digest).toBe(er.digest);
    expect(ev.manifest.subject?.digest).toBe(p.digest);
    expect(ev.manifest.artifactType).toBe(KINDS["eval-result"].artifactType);
  });

  it("pulls an OCI layout skopeo pushed from disk", async () => {
    const c = openClient(reg.host, { home, insecure: true, credentials: () => null });
    await pushArtifact(c, {
      repository: "interop/layout",
      tag: "v1",
      kind: "dataset",
      files: [{ name: "rows.jsonl", bytes: Buffer.from('{"a":1}\n') }],
    });
    const layout = tempDir();
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${reg.host}/interop/layout:v1`,
      `oci:${join(layout, "l")}:v1`,
    );
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      `oci:${join(layout, "l")}:v1`,
      `docker://${reg.host}/interop/from-disk:v2`,
    );
    const got = await pullArtifact(
      openClient(reg.host, { home: tempDir("forge-home-"), insecure: true, credentials: () => null }),
      "interop/from-disk",
      "v2",
    );
    expect(got.kind).toBe("dataset");
    expect(readFileSync(got.files[0]!.path, "utf8")).toBe('{"a":1}\n');
    rmSync(layout, { recursive: true, force: true });
  });
});

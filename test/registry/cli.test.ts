// forge-agent registry push|pull|ls|inspect|referrers against a real docker-registry, governed and
// recorded; and a model served by reference (model: oci://…) through the daemon's gate.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyModel } from "../../src/inference/tiny-model.js";
import { CLI, startTestAgent } from "../agent/helpers.js";
import { missing } from "../support/tools.js";
import { startRegistry, type TestRegistry, tempDir } from "./helpers.js";

const run = promisify(execFile);

async function cli(args: string[], home: string, input?: string) {
  try {
    const p = run(process.execPath, [CLI, ...args], {
      env: { ...process.env, FORGE_HOME: home },
      maxBuffer: 1 << 24,
    });
    if (input !== undefined) {
      p.child.stdin?.end(input);
    }
    const r = await p;
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(missing("docker-registry"))("forge-agent registry CLI", () => {
  let reg: TestRegistry;
  let home: string;
  let work: string;
  beforeAll(async () => {
    reg = await startRegistry();
    home = tempDir("forge-home-");
    work = tempDir("forge-work-");
  });
  afterAll(async () => {
    await reg?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it("pushes a directory and a file, pulls, lists, inspects and finds referrers, with --json", async () => {
    const model = join(work, "model");
    writeTinyModel(join(model, "tiny.gguf"));
    writeFileSync(join(model, "README.md"), "# tiny (random weights)\n");
    const ref = `oci://${reg.host}/cli/tiny:v1`;
    const pushed = await cli(
      ["registry", "push", model, "--type", "model", ref, "--insecure", "--json"],
      home,
    );
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    const p = JSON.parse(pushed.stdout);
    expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.reference).toBe(`${ref}@${p.digest}`);
    expect(p.artifactType).toBe("application/vnd.cncf.model.manifest.v1+json");

    const text = await cli(
      [
        "registry",
        "push",
        join(model, "README.md"),
        "--type",
        "prompt-template",
        `oci://${reg.host}/cli/tpl:v1`,
        "--insecure",
      ],
      home,
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sha256:[0-9a-f]{64}\noci:\/\/.*\/cli\/tpl:v1@sha256:/);

    const evalFile = join(work, "eval.json");
    writeFileSync(evalFile, JSON.stringify({ suite: "smoke", score: 0.5 }));
    const er = await cli(
      [
        "registry",
        "push",
        evalFile,
        "--type",
        "eval-result",
        `oci://${reg.host}/cli/tiny`,
        "--subject",
        `${ref}`,
        "--insecure",
        "--json",
      ],
      home,
    );
    expect(er.code).toBe(0);
    const e = JSON.parse(er.stdout);
    expect(e.referrers).toBe("fallback");

    const out = join(work, "out");
    const pulled = await cli(
      ["registry", "pull", `${ref}@${p.digest}`, "--output", out, "--insecure", "--json"],
      home,
    );
    expect(pulled.code).toBe(0);
    const pl = JSON.parse(pulled.stdout);
    expect(pl.digest).toBe(p.digest);
    expect(pl.files.map((f: { name: string }) => f.name).sort()).toEqual(["README.md", "tiny.gguf"]);
    expect(readFileSync(join(out, "tiny.gguf")).equals(readFileSync(join(model, "tiny.gguf")))).toBe(true);

    const ls = JSON.parse(
      (await cli(["registry", "ls", `${reg.host}/cli/tiny`, "--insecure", "--json"], home)).stdout,
    );
    expect(ls.tags).toEqual(["v1"]);
    expect(ls.referrer_indexes).toEqual([`sha256-${p.digest.slice(7)}`]);

    const ins = JSON.parse((await cli(["registry", "inspect", ref, "--insecure", "--json"], home)).stdout);
    expect(ins.digest).toBe(p.digest);
    expect(ins.manifest.config.mediaType).toBe("application/vnd.cncf.model.config.v1+json");

    const refs = JSON.parse(
      (await cli(["registry", "referrers", ref, "--type", "eval-result", "--insecure", "--json"], home))
        .stdout,
    );
    expect(refs.referrers.map((r: { digest: string }) => r.digest)).toEqual([e.digest]);

    // Every push and pull is an action record in the local evidence.
    const trace = await cli(
      [
        "trace",
        "registry-cli",
        "--json",
        "--evidence",
        join(home, "evidence.db"),
        "--socket",
        join(home, "agent.sock"),
      ],
      home,
    );
    const steps = JSON.parse(trace.stdout).steps as {
      proposed_action: { kind: string };
      evaluation: string;
    }[];
    expect(steps.map((s) => `${s.proposed_action.kind}:${s.evaluation}`)).toEqual([
      "model.push:ALLOW",
      "model.push:ALLOW",
      "model.push:ALLOW",
      "model.pull:ALLOW",
    ]);
  });

  it("refuses a pull the policy denies, and records the refusal", async () => {
    const policy = join(work, "deny-pull.yaml");
    writeFileSync(
      policy,
      "defaults: {effect: allow}\nrules:\n  - id: no-unsigned\n    match: {kind: model.pull, signed: false}\n    effect: deny\n",
    );
    const h = tempDir("forge-home-");
    writeFileSync(join(h, "config.json"), JSON.stringify({ policy }));
    const data = join(work, "rows.jsonl");
    writeFileSync(data, '{"x":1}\n');
    const ok = await cli(
      ["registry", "push", data, "--type", "dataset", `oci://${reg.host}/cli/rows:v1`, "--insecure"],
      home,
    );
    expect(ok.code).toBe(0);
    const r = await cli(
      [
        "registry",
        "pull",
        `oci://${reg.host}/cli/rows:v1`,
        "--insecure",
        "--config",
        join(h, "config.json"),
        "--home",
        h,
      ],
      h,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FORGE_FORBIDDEN: the gate answered DENY to model.pull .*no-unsigned/);
    const trace = await cli(
      [
        "trace",
        "registry-cli",
        "--json",
        "--evidence",
        join(h, "evidence.db"),
        "--socket",
        join(h, "agent.sock"),
      ],
      h,
    );
    const [step] = JSON.parse(trace.stdout).steps;
    expect([step.proposed_action.kind, step.evaluation, step.execution_result]).toEqual([
      "model.pull",
      "DENY",
      null,
    ]);
    expect((await cli(["registry", "pull", "not a ref"], h)).stderr).toMatch(/FORGE_REF_INVALID/);
  });

  it("never takes a password on the command line; login reads stdin into a 0600 auth file", async () => {
    const bad = await cli(["registry", "login", reg.host, "--username", "u", "--password", "p"], home);
    expect(bad.code).toBe(2);
    const h = tempDir("forge-home-");
    const ok = await cli(
      ["registry", "login", reg.host, "--username", "u", "--password-stdin", "--json"],
      h,
      "s3cret\n",
    );
    expect(ok.code).toBe(0);
    const file = JSON.parse(ok.stdout).auth_file as string;
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(Buffer.from(doc.auths[reg.host].auth, "base64").toString()).toBe("u:s3cret");
  });

  it("serves a model by reference: FORGE_MODEL=oci://… through the gate and the verified cache", async () => {
    const h = tempDir("fa-oci-");
    mkdirSync(h, { recursive: true });
    const policy = join(h, "policy.yaml");
    writeFileSync(
      policy,
      "defaults: {effect: deny}\nrules:\n  - id: pull-loopback\n    match: {kind: model.pull, hosts: [127.0.0.1], purpose: serve}\n    effect: allow\n",
    );
    const tplFile = join(work, "system.txt");
    writeFileSync(tplFile, "You are a careful assistant.");
    const tpl = JSON.parse(
      (
        await cli(
          [
            "registry",
            "push",
            tplFile,
            "--type",
            "prompt-template",
            `oci://${reg.host}/cli/system:v1`,
            "--insecure",
            "--json",
          ],
          home,
        )
      ).stdout,
    );
    const t = await startTestAgent(
      {
        backend: "llama",
        model: `oci://${reg.host}/cli/tiny:v1`,
        prompt_template: `oci://${reg.host}/cli/system:v1`,
        policy,
        registry: { insecure: true },
        // This test is about pulling through the gate; serving admission has its own (test/lifecycle).
        lifecycle: { admission: "off" },
        facade: { listen: "127.0.0.1:0" },
      },
      h,
    );
    try {
      const c = new Ollama({
        host: `http://${t.agent.facadeAddress}`,
        headers: { "x-forge-session": "oci-gen" },
      });
      const g = await c.generate({ model: "", prompt: "hello", options: { num_predict: 4 } });
      expect(g.done).toBe(true);
      const trace = await t.client.get("/v1/sessions/model-serve/trace");
      const step = trace.body.steps[0];
      expect(step.proposed_action.kind).toBe("model.pull");
      expect(step.proposed_action.purpose).toBe("serve");
      expect(step.evaluation).toBe("ALLOW");
      expect(step.proposed_action.digest).toMatch(/^sha256:/);
      // The template was judged like the model, and the inference record names it by digest.
      expect(
        trace.body.steps.map(
          (x: { proposed_action: { artifact_type?: string } }) => x.proposed_action.artifact_type,
        ),
      ).toEqual([
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.forge-agent.prompt-template.v1+json",
      ]);
      const inf = (await t.client.get("/v1/sessions/oci-gen/trace")).body.steps[0];
      expect(inf.proposed_action.prompt_template).toEqual({
        reference: `oci://${reg.host}/cli/system@${tpl.digest}`,
        digest: tpl.digest,
      });
    } finally {
      await t.stop();
    }
  });
});

// The closed loop end to end, real processes throughout: a real registry (docker-registry), a
// collector process, two agent processes, the CLI in child processes and the dashboard in headless
// Chromium. 1 a corpus is generated and pushed; 2 the tiny llama is trained (embedded) and exported
// to GGUF; 3 the model is pushed; 4 it is evaluated on a passing and a failing suite; 5 its
// promotion to production ESCALATEs and operator alice approves it in the dashboard; 6 a second
// agent pulls it and serves it through the facade; 7 a tool call it makes is gated; 8 lineage from
// that action returns the dataset digest with every link verified (CLI and dashboard view).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ollama } from "ollama";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { generatedCorpus } from "../../src/training/dataset.js";
import {
  AGENT_BIN,
  type AgentProc,
  type CollectorProc,
  ensureBuilt,
  operatorsFile,
  startAgentProcess,
  startCollectorProcess,
  tempDir,
} from "../fleet/helpers.js";
import { freePort, startRegistry, type TestRegistry } from "../registry/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";

const CORPUS = generatedCorpus();
const SHA = createHash("sha256").update(CORPUS).digest("hex");
const ALICE = { name: "alice", password: "correct horse battery" };
const SVC = { name: "svc-lineage", password: "svc-lineage-secret-0123456789" };

describe.skipIf(missing("docker-registry") || missing("chromium"))("the closed loop, end to end", () => {
  const dir = tempDir("fa-e2e-");
  const homeA = join(dir, "a");
  const cfgA = join(dir, "a-cli.yaml");
  let reg: TestRegistry;
  let collector: CollectorProc;
  let agentA: AgentProc;
  let agentB: AgentProc;
  let browser: Browser;
  let page: Page;
  let model = "";
  let datasetLayer = "";
  let datasetRef = "";
  let toolAction = "";
  const tokenFile = join(dir, "svc.token");
  // Host A reads its pruned records back from the collector with a service account's secret.
  const LIFECYCLE_A = { reviewers: { production: ["operator:alice"] }, collector_token_file: tokenFile };

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [AGENT_BIN, ...args, "--config", cfgA], {
      encoding: "utf8",
      timeout: 280_000,
    });
    return { status: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
  };

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(homeA, { recursive: true });
    reg = await startRegistry();
    writeFileSync(tokenFile, SVC.password, { mode: 0o600 });
    collector = await startCollectorProcess(dir, ["--operators-file", operatorsFile(dir, [ALICE, SVC])]);
    writeFileSync(
      cfgA,
      stringify({
        home: join(homeA, "var"),
        host_id: "host-a",
        registry: { insecure: true },
        lifecycle: LIFECYCLE_A,
      }),
    );
    ({ browser, page } = await launchHeadless());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await agentB?.stop();
    await agentA?.stop();
    await collector?.stop();
    await reg?.stop();
  });

  it("1-3: a corpus is generated and pushed, the tiny llama trained on it and exported, the model pushed", () => {
    const corpus = join(dir, "push", "corpus.txt");
    mkdirSync(join(dir, "push"), { recursive: true });
    writeFileSync(corpus, CORPUS);
    const d = cli([
      "registry",
      "push",
      corpus,
      "--type",
      "dataset",
      `oci://${reg.host}/e2e/corpus:v1`,
      "--json",
    ]);
    expect(d.status, d.err).toBe(0);
    datasetLayer = d.json().blobs.find((b: { digest: string }) => b.digest === `sha256:${SHA}`)?.digest;
    expect(datasetLayer).toBe(`sha256:${SHA}`);
    // Training pulls the pushed dataset by its manifest digest (a `model.pull` the gate judges).
    datasetRef = `oci://${reg.host}/e2e/corpus@${d.json().digest}`;
    const job = join(homeA, "job.yaml");
    writeFileSync(
      job,
      `job: e2e
model:
  shape: {layers: 1, width: 16, heads: 2, context: 512}
dataset: {ref: "${datasetRef}", sha256: "${SHA}"}
hyperparameters: {learning_rate: 0.02, batch: 2, sequence: 16, steps: 4, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 1000000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
checkpoints: {every: 2, dir: ck}
export: {gguf: out/model.gguf, type: f32}
`,
    );
    const t = cli(["train", job, "--json"]);
    expect(t.status, t.err).toBe(0);
    expect(t.json().state).toBe("DONE");
    const p = cli([
      "registry",
      "push",
      join(homeA, "out/model.gguf"),
      "--type",
      "model",
      `oci://${reg.host}/e2e/model:v1`,
      "--json",
    ]);
    expect(p.status, p.err).toBe(0);
    model = `oci://${reg.host}/e2e/model@${p.json().digest}`;
  }, 300_000);

  it("4: one suite passes, one fails", () => {
    for (const [name, thr, code] of [
      ["pass", 100_000, 0],
      ["fail", 1.5, 1],
    ] as const) {
      const s = join(dir, `suite-${name}`);
      mkdirSync(s, { recursive: true });
      writeFileSync(join(s, "heldout.txt"), generatedCorpus(600).subarray(300));
      writeFileSync(
        join(s, "suite.json"),
        JSON.stringify({
          name: `e2e-${name}`,
          version: 1,
          quality: { heldout: "heldout.txt", max_tokens: 256 },
          governance: { prompts: ["list the files"], max_tokens: 96 },
          thresholds: [{ metric: "perplexity", comparator: "<=", threshold: thr }],
        }),
      );
      expect(
        cli(["registry", "push", s, "--type", "eval-corpus", `oci://${reg.host}/e2e/suite:${name}`]).status,
      ).toBe(0);
      const r = cli(["eval", "--model", model, "--suite", `oci://${reg.host}/e2e/suite:${name}`, "--json"]);
      expect(r.status, r.err).toBe(code);
      expect(r.json().passed).toBe(code === 0);
    }
  }, 300_000);

  it("5: promotion to production ESCALATEs; alice approves it in the dashboard; the tag moves", async () => {
    agentA = await startAgentProcess(
      "host-a",
      {
        collector_url: collector.url,
        heartbeat_ms: 500,
        registry: { insecure: true },
        lifecycle: LIFECYCLE_A,
      },
      homeA,
    );
    const child: ChildProcess = spawn(
      process.execPath,
      [AGENT_BIN, "promote", model, "--stage", "production", "--reason", "e2e", "--json", "--config", cfgA],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (err += b));
    const exited = new Promise<number | null>((r) => child.once("exit", r));

    await page.goto(`${collector.http}/`);
    await page.fill('input[name="name"]', ALICE.name);
    await page.fill('input[name="password"]', ALICE.password);
    await page.click('button[type="submit"]');
    await page.click('a[data-nav="reviews"]');
    const row = page.locator("tr[data-review]", { hasText: "model.promote" });
    await row.first().waitFor({ timeout: 60_000 });
    await row.first().locator(".reason").fill("eval passed, provenance verified");
    await row.first().locator("button.approve").click();
    expect(await exited, err).toBe(0);
    const r = JSON.parse(out);
    expect(r.principal_review).toMatchObject({ decision: "approve", reviewer: "operator:alice" });
    expect(r.facts.training_verified).toBe(true);
    const tag = cli(["registry", "inspect", `oci://${reg.host}/e2e/model:production`, "--json"]).json();
    expect(`oci://${reg.host}/e2e/model@${tag.digest}`).toBe(model);
  }, 300_000);

  it("6-7: a second agent serves it through the facade; the tool call it makes is gated", async () => {
    const port = await freePort();
    agentB = await startAgentProcess("host-b", {
      collector_url: collector.url,
      heartbeat_ms: 500,
      backend: "llama",
      model: `oci://${reg.host}/e2e/model:production`,
      registry: { insecure: true },
      facade: { listen: `127.0.0.1:${port}` },
      review: { deadline_ms: 2000 },
      lifecycle: {
        trusted_keys: [join(homeA, "var", "keys", "model-signing-p256.pub")],
        trust_own_key: false,
      },
    });
    const c = new Ollama({ host: `http://127.0.0.1:${port}`, headers: { "x-forge-session": "e2e-chat" } });
    const tags = (await c.list()) as unknown as {
      models: { forge_admission: { digest: string; stage: string } }[];
    };
    expect(tags.models[0]!.forge_admission.stage).toBe("production");
    const res = await c.chat({
      model: "",
      messages: [{ role: "user", content: "list the files" }],
      tools: [
        {
          type: "function",
          function: {
            name: "shell",
            description: "run",
            parameters: {
              type: "object",
              properties: { command: { type: "string", enum: ["ls", "rm -rf ~"] } },
              required: ["command"],
            },
          },
        },
      ],
      options: { num_predict: 280, temperature: 0 },
    });
    expect(res.done).toBe(true);
    const steps = (await agentB.client.get("/v1/sessions/e2e-chat/trace")).body.steps as {
      kind?: string;
      action_id: string;
      evaluation: string | null;
      proposed_action: { kind: string };
      execution_result: { tool_calls?: { action_id: string }[] };
    }[];
    const inf = steps.find((s) => s.proposed_action.kind === "inference")!;
    toolAction = inf.execution_result.tool_calls![0]!.action_id;
    const act = steps.find((s) => s.action_id === toolAction)!;
    expect(act.proposed_action.kind).toBe("shell");
    expect(["ALLOW", "DENY", "ESCALATE"]).toContain(act.evaluation);
  }, 300_000);

  it("8: lineage from that action returns the dataset digest, every link verified (CLI, dashboard)", async () => {
    // Both hosts' records reach the collector (host B's tool call, host A's training to promotion).
    await until(
      async () => {
        const r = await (await page.request.get(`${collector.http}/v1/lineage/${toolAction}`)).json();
        return r.verified === true ? r : undefined;
      },
      "lineage verified at the collector",
      60_000,
    );
    const l = cli([
      "lineage",
      toolAction,
      "--collector",
      collector.http,
      "--token-file",
      tokenFile,
      "--json",
    ]);
    expect(l.status, l.err + l.out).toBe(0);
    const j = l.json();
    expect(j.dataset.sha256).toBe(SHA);
    expect(j.dataset.ref).toBe(datasetRef);
    expect(`sha256:${j.dataset.sha256}`).toBe(datasetLayer);
    expect(j.links.map((x: { step: string; verified: boolean }) => `${x.step}:${x.verified}`)).toEqual([
      "action:true",
      "inference:true",
      "model:true",
      "promotion:true",
      "evaluation:true",
      "training:true",
      "dataset:true",
    ]);
    await page.goto(`${collector.http}/#/lineage/${toolAction}`);
    await expect
      .poll(() => page.textContent("#lineage-status"), { timeout: 20_000 })
      .toBe("every link verified");
    expect(await page.locator('g.link[data-verified="true"]').count()).toBe(7);
    await page.goto(`${collector.http}/#/models`);
    await expect
      .poll(() => page.locator('tr[data-host="host-b"] .stage').textContent(), { timeout: 20_000 })
      .toBe("production");
  }, 300_000);
});

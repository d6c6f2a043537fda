// The real CLI (node bin/forge-agent.js, built by `npm run build`) in child processes: exit codes,
// SIGKILL mid-run then --resume, a file-size limit (RLIMIT_FSIZE) hitting a checkpoint, and a real
// full disk (ENOSPC on a small tmpfs in a private mount namespace) then --resume after freeing space.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { EvidenceStore, verifyStore } from "../../src/evidence/index.js";
import { latestCheckpoint } from "../../src/training/checkpoint.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { findTool, missing } from "../support/tools.js";
import { until } from "../support/wait.js";

const BIN = join(import.meta.dirname, "../../bin/forge-agent.js");
const SHA = createHash("sha256").update(generatedCorpus()).digest("hex");
const dir = mkdtempSync(join(tmpdir(), "forge-train-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function jobYaml(name: string, steps: number, every: number, width = 16): string {
  return `job: ${name}
model:
  shape: {layers: 1, width: ${width}, heads: 2, context: 16}
dataset:
  ref: generated:corpus-v1
  sha256: ${SHA}
hyperparameters: {learning_rate: 0.01, batch: 2, sequence: 8, steps: ${steps}, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 1000000, max_steps: 1000, max_wall_seconds: 3600, max_memory_mb: 8192}
anomaly:
  non_finite: {action: skip}
checkpoints: {every: ${every}, dir: ck-${name}}
`;
}

function write(name: string, text: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

const homeOf = (name: string) => join(dir, `home-${name}`);

function train(file: string, home: string, extra: string[] = []) {
  return spawnSync(process.execPath, [BIN, "train", file, "--home", home, "--json", ...extra], {
    encoding: "utf8",
  });
}

function records(home: string, session: string) {
  const store = EvidenceStore.open({
    path: join(home, "evidence.db"),
    hostId: hostIdOf(home),
    keyDir: join(home, "keys"),
  });
  try {
    return store.records({ session_id: session });
  } finally {
    void store.close();
  }
}

function hostIdOf(home: string): string {
  const db = new Database(join(home, "evidence.db"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'host_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
}

describe("forge-agent train (child processes)", () => {
  it("a bad job file exits 2 naming file:line and the fix", () => {
    const p = write("bad", jobYaml("bad", 4, 2).replace("learning_rate", "learning_rat"));
    const r = train(p, homeOf("bad"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /FORGE_TRAINING_JOB_INVALID: bad\.yaml:7: unknown field 'learning_rat' in 'hyperparameters': did you mean 'learning_rate'\?/,
    );
  });

  it("DONE exits 0 with the --json document", () => {
    const p = write("ok", jobYaml("ok", 4, 2));
    const r = train(p, homeOf("ok"));
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ job_id: "ok", state: "DONE", steps: 4, tokens: 64, evaluation: "ALLOW" });
    expect(doc.transitions).toMatchObject({ INIT: 1, BUDGET_CHECK: 4, FORWARD: 4, CHECKPOINT: 2, DONE: 1 });
    expect(doc.checkpoints.map((c: { step: number }) => c.step)).toEqual([2, 4]);
    expect(doc.final_weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.budgets_consumed).toMatchObject({ steps: 4, tokens: 64 });
  });

  it("SIGKILL mid-run, then --resume continues from the last checkpoint and the chain shows the resume", async () => {
    const home = homeOf("kill");
    const p = write("kill", jobYaml("kill", 400, 5));
    const child: ChildProcess = spawn(process.execPath, [BIN, "train", p, "--home", home, "--json"], {
      stdio: "ignore",
    });
    const ck = join(dir, "ck-kill");
    await until(
      () => existsSync(ck) && readdirSync(ck).includes("step-00000010"),
      "two checkpoints",
      120_000,
    );
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const before = readdirSync(ck).filter((n) => n.startsWith("step-"));
    // Without --resume the earlier run is not overwritten.
    const again = train(p, home);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/pass --resume/);
    // Shorten the job so the resumed run ends soon: same file name, same checkpoints dir.
    const last = Number(before.sort().at(-1)!.slice(5));
    writeFileSync(p, jobYaml("kill", last + 5, 5));
    const r = train(p, home, ["--resume"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.resumed_from.step).toBe(last);
    expect(doc.steps).toBe(last + 5);
    expect(doc.state).toBe("DONE");
    const events = records(home, doc.session_id).map((x) => (x.execution_result as { event: string }).event);
    expect(events[0]).toBe("start");
    expect(events).toContain("resume");
    expect(events.at(-1)).toBe("end");
    const resume = records(home, doc.session_id).find(
      (x) => (x.execution_result as { event: string }).event === "resume",
    )!;
    expect(resume.execution_result).toMatchObject({
      from_checkpoint: { step: last, digest: doc.resumed_from.digest },
    });
    expect(verifyStore(join(home, "evidence.db"), { keyDir: join(home, "keys") }).ok).toBe(true);
    // `forge-agent trace JOB_SESSION` (no agent: it reads the home's chain) reconstructs the run:
    // start, every checkpoint by its digest (both processes'), the resume, the end.
    const t = spawnSync(
      process.execPath,
      [BIN, "trace", doc.session_id, "--socket", join(home, "agent.sock")],
      { encoding: "utf8" },
    );
    expect(t.status, t.stderr).toBe(0);
    const results = t.stdout.split("\n").filter((l) => l.startsWith("   result:"));
    const digests = records(home, doc.session_id)
      .map((x) => x.execution_result as { event: string; checkpoint?: { step: number; digest: string } })
      .filter((x) => x.event === "checkpoint")
      .map((x) => x.checkpoint!);
    expect(digests.length).toBeGreaterThanOrEqual(3);
    expect(results.length).toBe(events.length);
    expect(results[0]).toMatch(/result: {3}start: embedded, \d+ parameters$/);
    for (const c of digests)
      expect(t.stdout).toContain(`checkpoint step ${c.step} sha256:${c.digest}, loss `);
    expect(t.stdout).toContain(`resume: embedded`);
    expect(t.stdout).toContain(`from checkpoint step ${last} sha256:${doc.resumed_from.digest}`);
    expect(results.at(-1)).toMatch(
      new RegExp(`end DONE: ${last + 5} steps, \\d+ tokens, weights sha256:${doc.final_weights_sha256}`),
    );
    // Three CLI children (wasm start-up each) and a 120 s wait for two checkpoints: on a loaded
    // machine this takes longer than the 60 s default.
  }, 300_000);

  it("a full disk during a checkpoint (RLIMIT_FSIZE on the child) fails the job cleanly: nothing partial, the chain intact", () => {
    const home = homeOf("full");
    // width 32: weights.bin ~108 KB fits under 160 KB, optimizer.bin ~215 KB does not (EFBIG).
    const p = write("full", jobYaml("full", 4, 2, 32));
    const r = spawnSync(
      "bash",
      [
        "-c",
        `trap '' XFSZ; ulimit -f 160; exec "$0" "$@"`,
        process.execPath,
        BIN,
        "train",
        p,
        "--home",
        home,
        "--json",
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.state).toBe("FAILED");
    expect(doc.error.code).toBe("FORGE_TRAINING_DISK_FULL");
    expect(doc.error.message).toMatch(/checkpoint step-00000002 .* failed: .*(EFBIG|too large)/i);
    expect(doc.transitions).toMatchObject({ CHECKPOINT: 1, FAILED: 1 });
    // No partial checkpoint left behind; the end record was written; the chain verifies.
    expect(readdirSync(join(dir, "ck-full")).filter((n) => n !== "run.json")).toEqual([]);
    const events = records(home, doc.session_id).map(
      (x) => (x.execution_result as { event: string; state?: string }).event,
    );
    expect(events).toEqual(["start", "end"]);
    expect(verifyStore(join(home, "evidence.db"), { keyDir: join(home, "keys") }).ok).toBe(true);
  });

  it.skipIf(missing("unshare"))(
    "the disk fills during a checkpoint (ENOSPC, a 512 KiB tmpfs): FAILED with FORGE_TRAINING_DISK_FULL in the chain, the previous checkpoint intact, --resume after freeing space continues from it",
    () => {
      const home = homeOf("enospc");
      // width 32: a checkpoint takes ~328 KB, so step 2's fits in 512 KiB and step 4's cannot.
      const p = write("enospc", jobYaml("enospc", 6, 2, 32));
      const ck = join(dir, "ck-enospc");
      mkdirSync(ck);
      const f = (n: string) => join(dir, `enospc-${n}`);
      // One private mount namespace holds the tmpfs across both runs (it goes with the namespace).
      // Between them the operator's view is copied out, then space is freed by growing the tmpfs.
      const script = `
mount -t tmpfs -o size=512k tmpfs "$CK" || exit 90
"$NODE" "$BIN" train "$JOB" --home "$H" --json >"$OUT1" 2>"$ERR1"; echo $? >"$RC1"
cp -a "$CK" "$SNAP" || exit 91
mount -o remount,size=8m "$CK" || exit 92
"$NODE" "$BIN" train "$JOB" --home "$H" --json --resume >"$OUT2" 2>"$ERR2"; echo $? >"$RC2"
`;
      const r = spawnSync(findTool("unshare")!, ["-rm", "sh", "-c", script], {
        encoding: "utf8",
        env: {
          ...process.env,
          CK: ck,
          NODE: process.execPath,
          BIN,
          JOB: p,
          H: home,
          SNAP: f("snapshot"),
          OUT1: f("out1"),
          ERR1: f("err1"),
          RC1: f("rc1"),
          OUT2: f("out2"),
          ERR2: f("err2"),
          RC2: f("rc2"),
        },
      });
      expect(r.status, r.stderr).toBe(0);
      const read = (n: string) => readFileSync(f(n), "utf8");
      // The first run: FAILED at step 4's checkpoint with the stable code, exit 1.
      expect(read("rc1").trim(), read("err1")).toBe("1");
      const failed = JSON.parse(read("out1"));
      expect(failed.state).toBe("FAILED");
      expect(failed.error.code).toBe("FORGE_TRAINING_DISK_FULL");
      expect(failed.error.message).toMatch(/checkpoint step-00000004 .* failed: ENOSPC/);
      expect(failed.transitions).toMatchObject({ CHECKPOINT: 2, FAILED: 1 });
      expect(failed.checkpoints.map((c: { step: number }) => c.step)).toEqual([2]);
      // What the disk held after the failure: step 2's checkpoint whole (every file matches its
      // manifest, the digest the chain recorded), no partial step 4.
      expect(readdirSync(f("snapshot")).sort()).toEqual(["run.json", "step-00000002"]);
      expect(latestCheckpoint(f("snapshot"))?.info.digest).toBe(failed.checkpoints[0].digest);
      // The second run resumed from it and finished.
      expect(read("rc2").trim(), read("err2")).toBe("0");
      const done = JSON.parse(read("out2"));
      expect(done).toMatchObject({ state: "DONE", steps: 6, session_id: failed.session_id });
      expect(done.resumed_from).toEqual({ step: 2, digest: failed.checkpoints[0].digest });
      // The chain: the failure and the resume, in order, and it verifies.
      const recs = records(home, failed.session_id).map(
        (x) => x.execution_result as { event: string; state?: string; error?: { code: string } },
      );
      expect(recs.map((x) => x.event)).toEqual([
        "start",
        "checkpoint",
        "end",
        "resume",
        "checkpoint",
        "checkpoint",
        "end",
      ]);
      expect(recs[2]).toMatchObject({ state: "FAILED", error: { code: "FORGE_TRAINING_DISK_FULL" } });
      expect(recs[6]).toMatchObject({ state: "DONE" });
      expect(verifyStore(join(home, "evidence.db"), { keyDir: join(home, "keys") }).ok).toBe(true);
    },
    180_000,
  );
});

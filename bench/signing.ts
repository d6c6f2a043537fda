/**
 * What issue 20's signatures cost (`forge-agent bench --suite signing`), each against a floor
 * measured in the same run on the same bytes: building the bytes and hashing them (SHA-256), what
 * an unsigned integrity check would cost anyway.
 * - host side (ed25519 host key): a decision (protocol 5 `host_sig`), a checkpoint of the chain;
 * - collector side: verifying a host's decision as ingest does (`hostSigned`),
 *   verifying a checkpoint (both with the host key parsed once, hostPublicKey), and once parsing
 *   the PEM on every call, as before; signing an ack (ECDSA P-256, the `tls init` key) and the agent
 *   verifying it; signing a 64 KiB read answer (src/protocol/collector-auth.ts, signed reads).
 * The machine's load average goes with the figures: on a shared machine they move with it.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { hostSigned } from "../src/collector/ingest.js";
import { signCheckpoint } from "../src/evidence/keys.js";
import { checkpointMessage, verifyCheckpoint } from "../src/protocol/checkpoint.js";
import {
  collectorSigningInput,
  readSigningInput,
  signCollectorMessage,
  signRead,
  verifyCollectorMessage,
} from "../src/protocol/collector-auth.js";
import { decisionSigningInput, type WireDecision } from "../src/protocol/messages.js";
import { type Metric, runStandalone, type Suite, sampleSync, stats } from "./harness.js";

const HOST = "bench-host";
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest();

/** A decision as the shipper sends it: a pending ALLOW with its draft record. */
function decision(i: number): WireDecision {
  return {
    action_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    session_id: "bench-session",
    state: "allowed",
    created_ms: 1_796_000_000_000 + i,
    deadline_ms: 1_796_000_300_000 + i,
    record: {
      evaluation: "ALLOW",
      timestamp: "2026-12-03T13:00:00.000Z",
      proposed_action: { kind: "shell", command: `echo ${i}` },
      matched_rules: ["allow-echo"],
      execution_result: { plan: { kind: "shell", argv: ["echo", String(i)] } },
    },
  };
}

export const suite: Suite = async (ctx) => {
  const seconds = Math.max(0.5, ctx.durationS / 3);
  const opts = { seconds, warmup: 200, signal: ctx.signal };
  const host = generateKeyPairSync("ed25519");
  const hostPem = host.publicKey.export({ type: "spki", format: "pem" }).toString();
  const collector = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const metrics: Metric[] = [];
  /** One metric: `run` against the floor `floor`, both sampled here, now. */
  const pair = (
    name: string,
    floorName: string,
    run: (i: number) => unknown,
    floor: (i: number) => unknown,
  ) => {
    const ours = stats(sampleSync(run, opts));
    const base = stats(sampleSync(floor, opts));
    metrics.push({
      name,
      unit: "us",
      stats: ours,
      baseline: { name: floorName, stats: base },
      ratio: ours.median / base.median,
      ratio_of: "median ÷ baseline median",
    });
  };
  /** A metric whose baseline is another metric of this run (ratio > 1: dearer than it). */
  const ratioTo = (name: string, run: (i: number) => unknown, of: Metric): Metric => {
    const ours = stats(sampleSync(run, opts));
    return {
      name,
      unit: "us",
      stats: ours,
      baseline: { name: of.name, stats: of.stats },
      ratio: ours.median / of.stats.median,
      ratio_of: "median ÷ the cached-key check's median (ingest)",
    };
  };
  const steps = 7;
  let step = 0;
  const next = (label: string) => ctx.progress(step++ / steps, label);

  // Host side: the agent signs every decision it ships and every checkpoint.
  next("host signs decisions");
  const decisions = Array.from({ length: 1024 }, (_, i) => decision(i));
  const d = (i: number) => decisions[i & 1023]!;
  pair(
    "host signs a decision (ed25519)",
    "decision bytes + SHA-256",
    (i) => signHost(host.privateKey, decisionSigningInput(HOST, d(i))),
    (i) => sha256(decisionSigningInput(HOST, d(i))),
  );
  next("host signs checkpoints");
  const cp = (i: number) => ({ host_id: HOST, seq: i, hash: sha256(String(i)).toString("hex") });
  pair(
    "host signs a checkpoint (ed25519)",
    "checkpoint bytes + SHA-256",
    (i) => signCheckpoint(host.privateKey, cp(i)),
    (i) => sha256(checkpointMessage(cp(i))),
  );

  // Collector side: every decision and checkpoint a host sends is verified before it is stored.
  next("collector verifies decisions");
  const signed = decisions.map((x) => ({
    ...x,
    host_sig: signHost(host.privateKey, decisionSigningInput(HOST, x)).toString("base64"),
  }));
  let bad = 0;
  pair(
    "collector verifies a decision (ingest hostSigned)",
    "decision bytes + SHA-256",
    (i) => {
      if (!hostSigned(HOST, hostPem, signed[i & 1023]!)) bad++;
    },
    (i) => sha256(decisionSigningInput(HOST, signed[i & 1023]!)),
  );
  // The same check parsing the PEM on every call (what ingest did before hostPublicKey cached it).
  const sigs = signed.map((x) => Buffer.from(x.host_sig, "base64"));
  metrics.push(
    ratioTo(
      "verifies a decision, PEM parsed on every call (before the cache)",
      (i) => {
        if (!verify(null, decisionSigningInput(HOST, signed[i & 1023]!), hostPem, sigs[i & 1023]!)) bad++;
      },
      metrics.at(-1)!,
    ),
  );
  next("collector verifies checkpoints");
  const cps = Array.from({ length: 1024 }, (_, i) => ({
    ...cp(i),
    signature: signCheckpoint(host.privateKey, cp(i)),
  }));
  pair(
    "collector verifies a checkpoint (verifyCheckpoint)",
    "checkpoint bytes + SHA-256",
    (i) => {
      if (!verifyCheckpoint(cps[i & 1023]!, hostPem)) bad++;
    },
    (i) => sha256(checkpointMessage(cps[i & 1023]!)),
  );

  // The collector signs what carries authority (ack, decisions_ack, review); the agent verifies it.
  next("collector signs acks");
  const nonce = "bench-agent-nonce-0123456789";
  const ack = (i: number) => ({ type: "ack", seq: i, hash: cp(i).hash, checkpoint_seq: i });
  pair(
    "collector signs an ack (ECDSA P-256)",
    "ack bytes + SHA-256",
    (i) => signCollectorMessage(collector.privateKey, nonce, ack(i)),
    (i) => sha256(collectorSigningInput(nonce, ack(i))),
  );
  next("agent verifies acks");
  const acks = Array.from({ length: 1024 }, (_, i) =>
    signCollectorMessage(collector.privateKey, nonce, ack(i)),
  );
  pair(
    "agent verifies an ack (ECDSA P-256, pinned KeyObject)",
    "ack bytes + SHA-256",
    (i) => {
      if (!verifyCollectorMessage(collector.publicKey, nonce, acks[i & 1023]!)) bad++;
    },
    (i) => sha256(collectorSigningInput(nonce, acks[i & 1023]!)),
  );
  next("collector signs read answers");
  const body = Buffer.from(JSON.stringify({ records: "x".repeat(64 * 1024 - 16) }));
  pair(
    "collector signs a 64 KiB read answer (ECDSA P-256)",
    "the same answer's SHA-256",
    () => signRead(collector.privateKey, readSigningInput(nonce, "GET", "/v1/records?host_id=h", 200, body)),
    () => sha256(body),
  );
  if (bad > 0) throw new Error(`${bad} signatures did not verify: the suite measured a failure path`);
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  ctx.progress(1, `done; load average ${load.join(" ")}`);
  return { suite: "signing", metrics, info: { load_average: load, cores: cpus().length } };
};

/** What EvidenceStore.sign does with the host key. */
function signHost(key: KeyObject, data: Buffer): Buffer {
  return sign(null, data, key);
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("signing", suite);

import { randomUUID } from "node:crypto";
import { mkdirSync, unlinkSync } from "node:fs";
import type { Server } from "node:http";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { parseDriftConfig } from "../drift/config.js";
import { Codes, ForgeError } from "../errors.js";
import { EvidenceStore } from "../evidence/index.js";
import type { CollectorTrust } from "../evidence/shipper.js";
import type { BundleRef } from "../gate/decision.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy, type PolicyBundle } from "../gate/index.js";
import { wideningReasons } from "../gate/widening.js";
import { HttpError } from "../http.js";
import { processLogger } from "../platform/log.js";
import { sampleMetrics } from "../platform/native.js";
import { makePrivateDir } from "../platform/private-files.js";
import { benchmarkRecord } from "../protocol/benchmark.js";
import { FIRST_USE_ALERT, firstUsePinMessage, keyFingerprint } from "../protocol/collector-auth.js";
import { alertRecord, nowRfc3339, type RecordInput } from "../protocol/record.js";
import { ActionService, type Principal } from "./actions.js";
import { createApi } from "./api.js";
import { collectorArchive } from "./archive.js";
import type { ReadTrust } from "./collector-http.js";
import { daemonCollectorTrust } from "./collector-trust.js";
import type { AgentConfig } from "./config.js";
import { AgentDrift } from "./drift.js";
import type { ExecutorLimits } from "./executors/index.js";
import { GateStatePersister, stateView } from "./gate-state.js";
import { GateStats, gatherFacts, Heartbeat } from "./heartbeat.js";
import { answerUnserved, createInference, isFacadePath } from "./inference.js";
import { createAgentLifecycle } from "./lifecycle.js";
import { AgentMetrics } from "./metrics.js";
import { ancestry, socketPeer } from "./peer.js";
import { PolicyUpdates } from "./policy-updates.js";
import { protectedResources, spellings, trustedProgramDirs } from "./protection.js";
import { reviewInQueue } from "./queue-review.js";
import { ensureReviewToken } from "./review-token.js";
import { Sandbox } from "./sandbox/index.js";
import { assertSocketFree, createApiServer, listenTcp, listenUnix } from "./server.js";
import { SessionWorkspaces } from "./workspaces.js";

/**
 * The composition root: opens the evidence store, loads the policy into the gate, restores what
 * a previous run left pending, and serves the socket API. Nothing else constructs these parts.
 */

export interface AgentHandle {
  socketPath: string;
  /** "127.0.0.1:PORT" when facade.listen is set. */
  facadeAddress: string | null;
  config: AgentConfig;
  /** Loads the policy again; a bad policy keeps the old one. Never throws. */
  reloadPolicy():
    | { ok: true; bundle: { id: string; version: number; sha256: string } }
    | { ok: false; error: string };
  /** Graceful stop: no new work, in-flight requests finish, evidence flushed, store closed. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** PATH/HOME/LANG for shell actions; the CLI passes the daemon's own. */
  baseEnv?: Record<string, string>;
  /** Package version, for /v1/health. */
  version?: string;
}

export async function startAgent(config: AgentConfig, opts: StartOptions = {}): Promise<AgentHandle> {
  const logger =
    opts.logger ??
    processLogger({ level: config.log_level, base: { host_id: config.host_id } }, 1, config.log_format);
  const started = Date.now();
  let closing = false;
  makePrivateDir(config.home); // 0700: evidence, keys, pins and state live here (issue 20 "Files")
  mkdirSync(dirname(config.socket), { recursive: true, mode: 0o750 });

  // Before opening the store: a second agent must not write into the first one's evidence file.
  await assertSocketFree(config.socket);
  parseDriftConfig(config.drift ?? {}); // FORGE_CONFIG_INVALID before anything is opened
  await initGate();
  const policyPath = config.policy ?? defaultPolicyPath();
  const reviewToken = ensureReviewToken(config.review.token_file);
  // One list of program directories: the executor's PATH and what the gate trusts (docs/security.md).
  const basePath = opts.baseEnv?.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const programs = trustedProgramDirs(basePath, [config.home, config.executors.cwd]);
  if (programs.dropped.length > 0) {
    logger.warn(
      { dropped: programs.dropped, kept: programs.dirs },
      "PATH directories an action could write to are not searched by shell actions",
    );
  }
  const protect = protectedResources({ config, policyPath, reviewTokenPath: config.review.token_file });
  // Composition state survives restarts (issue 19 §8); the file lives in the protected home.
  const gateState = new GateStatePersister(() => gate, join(config.home, GATE_STATE_FILE), {
    coalesceMs: 1000,
    onError: (message) => {
      logger.error({ path: join(config.home, GATE_STATE_FILE) }, message);
      store.append(agentAlert(config.host_id, "gate.state-save-failed", message)).catch(() => {});
    },
  });
  // The gate resolves relative paths against the directory shell actions run in by default.
  const gate = new Gate(checkedPolicy(loadPolicy(policyPath), policyPath, logger), {
    home: opts.baseEnv?.HOME ?? homedir(),
    cwd: config.executors.cwd,
    workspaces: config.executors.workspaces,
    protect,
    programDirs: programs.dirs.flatMap(spellings),
    onChange: (urgent) => gateState.changed(urgent),
  });

  const store = EvidenceStore.open({
    path: config.evidence.path,
    hostId: config.host_id,
    keyDir: config.evidence.keys,
    synchronous: config.evidence.synchronous,
    maxUnackedRecords: config.evidence.max_unacked_records,
    onAlert: (a) => logger.warn({ alert: a }, "evidence alert"),
  });
  // The writer thread opens its own connection: the first request must not pay that wait.
  await store.ready();

  // Before anything is decided: what the previous run knew about sessions and principals.
  const loadedState = gateState.load();
  if (loadedState.status === "loaded")
    logger.info({ path: gateState.path, ...loadedState }, "gate state restored");
  else if (loadedState.status === "refused") {
    const message = `the saved gate state was refused (${loadedState.reason}); the gate starts with empty composition state: earlier secret reads and artefacts are forgotten${loadedState.movedTo ? ` (the file was moved to ${loadedState.movedTo})` : ""}`;
    logger.error({ path: gateState.path }, message);
    await store
      .append(agentAlert(config.host_id, "gate.state-refused", message))
      .catch((err) => logger.error({ err: String(err) }, "could not record the gate-state alert"));
  }

  let service: ActionService | undefined;
  // One pin for the collector: the WebSocket checks it, and so do the agent's https reads from it.
  const collectorTrust = daemonCollectorTrust({
    keyPem: config.collector_trust.key_pem,
    pinFile: config.collector_trust.pin_file,
    pinFirstUse: config.collector_trust.pin_first_use,
  });
  // The reads may pin first (an https certificate, or a signed http answer): as loudly as the WebSocket.
  const readTrust: ReadTrust = {
    pinned: () => collectorTrust.pinned(),
    pinFirstUse(key, seenIn) {
      if (!collectorTrust.pinFirstUse(key)) return false;
      const message = firstUsePinMessage(keyFingerprint(key), `${seenIn} of a read`);
      logger.error({ url: config.collector_url, fingerprint: keyFingerprint(key) }, message);
      void store
        .append(agentAlert(config.host_id, `collector.${FIRST_USE_ALERT}`, message))
        .catch((err) => logger.error({ err: String(err) }, "could not record a collector alert"));
      return true;
    },
  };
  const lifecycle = createAgentLifecycle({
    config,
    store,
    trust: readTrust,
    gate: () => gate,
    service: () => service!,
    logger,
  });
  // Training runs here when a daemon owns the store (loaded on first use: tfjs is heavy).
  let training: Promise<import("./training.js").AgentTraining> | undefined;
  const train = async (body: { job: string; resume: boolean }, who: Principal) => {
    training ??= import("./training.js").then((m) =>
      m.createAgentTraining({ config, store, gate: () => gate, service: () => service!, logger }),
    );
    return (await training).run(body, who);
  };
  const gateStats = new GateStats();
  const metrics = new AgentMetrics({
    backlog: () => store.stats().backlog,
    pendingReviews: () => service?.stats().escalated ?? 0,
    pendingActions: () => service?.stats().pending ?? 0,
  });
  const limits: ExecutorLimits = {
    ...config.executors,
    base_env: {
      ...(opts.baseEnv ?? { HOME: config.home, LANG: "C.UTF-8" }),
      PATH: programs.dirs.join(":"),
    },
  };
  // Every executed action is contained, and can never see the agent's own state.
  const sandbox = new Sandbox(config.sandbox, {
    workspace: config.executors.cwd,
    home: limits.base_env.HOME ?? homedir(),
    // The same resources the gate protects: hidden inside every sandbox whatever the profile says.
    protect: protect.paths.flatMap((p) =>
      p.endsWith("*") ? [p.slice(0, -1), `${p.slice(0, -1)}-wal`, `${p.slice(0, -1)}-shm`] : [p],
    ),
    // What the gate lets actions read but never write (the code, the packaged pack): read-only there too.
    readOnly: protect.readOnly,
  });
  const contained = sandbox.probe();
  if (!contained.ok)
    logger.warn(
      { sandbox: config.sandbox, reason: contained.reason },
      config.sandbox.on_unavailable === "deny"
        ? "executed shell actions cannot be contained: they will be DENY sandbox-unavailable"
        : "executed shell actions cannot be contained: they run UNCONFINED (recorded as such)",
    );
  else {
    // Pre-warm for the policy's default profile: the first shell action need not start cold.
    const first = gate.sandboxFor([]);
    sandbox.refill(first.name, first.profile, config.executors.cwd, { ...limits.base_env });
    void sandbox
      .ready()
      .then(() =>
        logger.info(
          { warm: sandbox.warmCount, profile: first.name, landlock: sandbox.landlockState },
          "sandbox pool pre-warmed",
        ),
      );
  }
  service = new ActionService({
    gate: () => gate,
    store,
    limits,
    sandbox,
    reviewDeadlineMs: config.review.deadline_ms,
    resultDeadlineMs: config.actions.result_deadline_ms,
    onRestart: config.review.on_restart,
    recordPrompts: config.evidence.record_prompts,
    maxUnacked: config.evidence.max_unacked_records,
    logger,
    authorizeReview: (subject, reviewer) => lifecycle.authorizeReview(subject, reviewer),
    stateDurable: () => gateState.durable(),
    declaring: (session_id): Promise<void> | undefined => workspaces.settling(session_id),
    observe: {
      decision: (evaluation, gateMs) => {
        metrics.decision(evaluation, gateMs);
        gateStats.record(evaluation, gateMs);
      },
      evidenceFailure: () => metrics.evidenceFailure(),
    },
  });
  const svc = service;
  const workspaces: SessionWorkspaces = new SessionWorkspaces({
    gate: () => gate,
    service: () => svc,
    store,
    configured: config.executors.workspaces,
    durable: () => gateState.durable(),
  });
  const policyUpdates = new PolicyUpdates({
    hostId: config.host_id,
    publicKeyPem: config.policy_updates.public_key_pem ?? null,
    stateDir: `${config.home}/policy`,
    gate,
    append: (rec) => store.append(rec),
    logger,
  });

  // Everything after the store is open must close it on failure, or the next start finds it locked.
  const cleanup: (() => Promise<void> | void)[] = [() => store.close(), () => gateState.close()];
  const fail = async (err: unknown): Promise<never> => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
    throw err;
  };

  let shipper: { start(): void; stop(): Promise<void> | void; status(): unknown } | undefined;
  try {
    const r = await svc.restore();
    if (r.restored + r.resolved > 0) logger.info(r, "pending actions from the previous run");
    // A signed bundle accepted earlier outranks the configured file: no rollback by restarting.
    let restored: number | null;
    try {
      restored = policyUpdates.restore();
    } catch (err) {
      await store
        .append(agentAlert(config.host_id, "policy.rollback-refused", (err as Error).message))
        .catch(() => {});
      throw err;
    }
    if (restored !== null) logger.info({ policy: gate.bundle }, "restored the signed policy bundle");
    await recordPolicy(store, config.host_id, policyPath, gate.bundle, "start").catch((err) =>
      logger.warn({ err }, "could not record the policy load"),
    );
  } catch (err) {
    return fail(err);
  }

  const inference = createInference({
    config,
    service: svc,
    record: (rec) => store.append(rec),
    logger,
    onTokensPerSecond: (tps) => {
      metrics.tokensPerSecond.set(tps);
      heartbeat.observeTokensPerSecond(tps);
    },
  });
  cleanup.push(() => inference.close());
  cleanup.push(() => sandbox.close());

  const servedModels = () => {
    if (config.backend === "none") return [];
    const admission = inference.served();
    return [{ backend: config.backend, model: config.model ?? null, ...(admission ? { admission } : {}) }];
  };
  const heartbeat = new Heartbeat({
    hostId: config.host_id,
    gate: gateStats,
    sample: () => sampleMetrics(),
    facts: () => gatherFacts(opts.version ?? null),
    evidence: () => store.stats(),
    policy: () => policyUpdates.active(),
    models: servedModels,
    reviews: () => svc.reviews(),
    append: (rec) => store.append(rec),
    tolerances: config.tolerances,
    logger,
  });
  heartbeat.registerMetrics(metrics.registry);
  cleanup.push(() => heartbeat.stop());

  const drift = new AgentDrift({
    hostId: config.host_id,
    config: config.drift,
    policySha: () => gate.bundle.sha256,
    onCommit: (l) => store.onCommit(l),
    append: (rec) => store.append(rec),
    logger,
  });
  drift.registerMetrics(metrics.registry);
  heartbeat.onTick((payload) => drift.heartbeat(payload, payload.at_ms));
  drift.start();
  cleanup.push(() => drift.stop());

  let facadeAddress: string | null = null;
  const health = () => ({
    status: closing ? "stopping" : "ok",
    version: opts.version ?? null,
    host_id: config.host_id,
    epoch: store.epoch,
    pid: process.pid,
    uptime_s: Math.round((Date.now() - started) / 1000),
    policy: gate.bundle,
    evidence: store.stats(),
    actions: svc.stats(),
    collector: shipper?.status() ?? null,
    collector_url: config.collector_url ?? null,
    socket: config.socket,
    /** The loopback TCP address of the Ollama/OpenAI facade, or null (socket only). */
    facade: facadeAddress,
    backend: config.backend,
    gate_state: {
      path: gateState.path,
      at_start: gateState.loaded?.status ?? null,
      saves: gateState.saves,
      last_error: gateState.lastError,
    },
    /** The served model (null model: the generated smoke-test one) and, once loaded, its admission. */
    models: servedModels(),
    /** When the last heartbeat was built (its tolerances judged), ms since the epoch; null before the first. */
    heartbeat_at_ms: heartbeat.latest()?.at_ms ?? null,
  });
  if (config.collector_url !== undefined) {
    try {
      const beat = () => ({
        ...health(),
        reviews: svc.reviews(),
        in_flight: svc.inFlight(),
        ...heartbeat.tick(),
      });
      const sh = await startShipper({
        store,
        url: config.collector_url,
        service: svc,
        logger,
        heartbeat: beat,
        heartbeatMs: config.heartbeat_ms,
        policyUpdates,
        trust: collectorTrust,
        onAlert: (code, message) => {
          store
            .append(agentAlert(config.host_id, `collector.${code}`, message))
            .catch((err) => logger.error({ err: String(err) }, "could not record a collector alert"));
        },
      });
      shipper = sh;
      cleanup.push(() => sh.stop());
    } catch (err) {
      return fail(err);
    }
  } else {
    // No collector: tolerances are still evaluated (alert records, webhook) on the same cadence.
    heartbeat.start(config.heartbeat_ms);
  }

  const api = createApi({
    service: svc,
    metrics,
    logger,
    maxBodyBytes: config.api.max_body_bytes,
    maxWaitMs: config.api.max_wait_ms,
    proposers: new Set(config.api.allowed_proposer_uids),
    reviewers: new Set(config.api.allowed_reviewer_uids),
    reviewToken,
    reviewTokenPath: config.review.token_file,
    agentPid: process.pid,
    ancestry,
    confirmPolicyReload: async (reviewer) => {
      const r = reload(reviewer);
      if (!r.ok) throw new HttpError(Codes.POLICY_RELOAD_REFUSED, r.error);
      return r;
    },
    health,
    drift: async (q) => {
      await drift.settled();
      return drift.view(q);
    },
    facade: (req, res, principal) => inference.handle(req, res, principal),
    promote: (body, who) => lifecycle.promote(body, who),
    train,
    lineage: (id) => lifecycle.lineage(id),
    gateState: (q) => stateView(gate, q),
    declareWorkspace: (session_id, roots, who) => workspaces.declare(session_id, roots, who),
    // Clearing state is an action like any other: proposed, judged (never one's own state:
    // builtin:self-clear), reviewed, and only then done.
    clearGateState: async (body, who) => {
      const action = {
        kind: "gate.state.clear",
        session: body.session ?? null,
        principal: body.principal ?? null,
      };
      const review = await reviewInQueue(svc, who, {
        session_id: "state-clear",
        action,
        delegate: "forge-agent state clear",
        escalate: "clearing composition state is reviewed",
        deadlineMs: config.review.deadline_ms,
        logger,
        what: "state clear",
      });
      const cleared =
        review.decision === "approve"
          ? gate.clearState({ session_id: action.session, principal: action.principal })
          : { sessions: 0, principals: 0 };
      if (review.decision === "approve")
        logger.info({ ...action, cleared, reviewer: review.reviewer }, "gate state cleared");
      return { action, review, cleared };
    },
    benchmark: async (b, who) => {
      const stored = await store.append(benchmarkRecord({ ...b, principal: who.record }));
      return { host_id: stored.host_id, seq: stored.seq, hash: stored.hash, path: config.evidence.path };
    },
    archive:
      config.collector_url === undefined
        ? undefined
        : collectorArchive({
            url: config.collector_url,
            hostId: config.host_id,
            sign: (data) => store.sign(data),
            trust: readTrust,
            ...(config.lifecycle.collector_token_file
              ? { tokenFile: config.lifecycle.collector_token_file }
              : {}),
          }),
  });
  const listenOpts = {
    maxHeaderBytes: config.api.max_header_bytes,
    headersTimeoutMs: config.api.headers_timeout_ms,
    requestTimeoutMs: config.api.request_timeout_ms,
    keepAliveTimeoutMs: config.api.keep_alive_timeout_ms,
  };
  const unix = createApiServer(api, socketPeer, listenOpts);
  const servers: { server: Server; inflight: () => number }[] = [unix];
  try {
    await listenUnix(unix.server, config.socket);
    cleanup.push(() => unlinkQuiet(config.socket));
    if (config.facade.listen !== undefined) {
      // Loopback TCP has no peer credentials; only the facades are served there, as the daemon's owner.
      const tcpPeer = { ok: true as const, uid: null, pid: null, gid: null, name: "tcp-loopback" };
      const tcp = createApiServer(
        async (req, res) => {
          if (!isFacadePath((req.url ?? "").split("?")[0]!)) return answerUnserved(req, res);
          return api(req, res, { ...tcpPeer, uid: config.api.allowed_proposer_uids[0] ?? null });
        },
        () => tcpPeer,
        listenOpts,
      );
      servers.push(tcp);
      facadeAddress = await listenTcp(tcp.server, config.facade.listen);
    }
  } catch (err) {
    for (const s of servers) s.server.close();
    return fail(err);
  }
  logger.info(
    { socket: config.socket, facade: facadeAddress, policy: gate.bundle, evidence: config.evidence.path },
    "forge-agent listening",
  );

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      logger.info("stopping: no new connections; finishing in-flight work");
      const stopped = servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve())));
      for (const s of servers) s.server.closeIdleConnections();
      await svc.close();
      const until = Date.now() + config.api.drain_timeout_ms;
      while (servers.some((s) => s.inflight() > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
        for (const s of servers) s.server.closeIdleConnections();
      }
      for (const s of servers) s.server.closeAllConnections();
      await Promise.all(stopped);
      for (const f of cleanup.reverse()) {
        try {
          await f();
        } catch (err) {
          logger.error({ err }, "error while stopping");
        }
      }
      logger.info("stopped; evidence flushed");
    })();
    return closed;
  };

  /**
   * Loads the policy file again. A reload that allows more than the running policy is itself an
   * action: without a reviewer (`reviewer` null, i.e. SIGHUP) it is refused and recorded; a
   * reviewer confirms it with `forge-agent policy reload --confirm`. Never throws.
   */
  const reload = (
    reviewer: string | null,
  ): { ok: true; bundle: BundleRef; widened: string[] } | { ok: false; error: string } => {
    const active = policyUpdates.active();
    if (active.source === "bundle") {
      // The file would replace a signed bundle from the collector: a rollback by signal.
      const error = `a signed policy bundle (${active.id} v${active.version}) is active; the policy file is not reloaded over it`;
      logger.warn({ kept: active, path: policyPath }, error);
      return { ok: false, error };
    }
    let bundle: PolicyBundle;
    try {
      bundle = checkedPolicy(loadPolicy(policyPath), policyPath, logger);
    } catch (err) {
      const e = err as { code?: string; message: string };
      logger.error(
        { code: e.code, err: e.message, path: policyPath, kept: gate.bundle },
        "policy reload failed; keeping the previous policy",
      );
      recordRefusedReload(store, config.host_id, policyPath, gate.bundle, e.message).catch(() => {});
      return { ok: false, error: `${e.code ?? "error"}: ${e.message}` };
    }
    const widened = wideningReasons(gate.policy, bundle);
    if (widened.length > 0 && reviewer === null) {
      const error = `${Codes.POLICY_RELOAD_REFUSED}: the new policy allows more than the running one (${widened.slice(0, 5).join("; ")}${widened.length > 5 ? `; and ${widened.length - 5} more` : ""}): a reviewer confirms it with 'forge-agent policy reload --confirm'`;
      logger.warn({ path: policyPath, kept: gate.bundle, widened }, error);
      recordRefusedReload(store, config.host_id, policyPath, gate.bundle, error).catch(() => {});
      return { ok: false, error };
    }
    gate.setPolicy(bundle);
    logger.info({ policy: gate.bundle, path: policyPath, reviewer, widened }, "policy reloaded");
    recordPolicy(store, config.host_id, policyPath, gate.bundle, "reload", reviewer, widened).catch((err) =>
      logger.warn({ err }, "could not record the policy load"),
    );
    return { ok: true, bundle: gate.bundle, widened };
  };
  const reloadPolicy: AgentHandle["reloadPolicy"] = () => {
    const r = reload(null);
    return r.ok ? { ok: true, bundle: r.bundle } : r;
  };

  return { socketPath: config.socket, facadeAddress, config, reloadPolicy, close };
}

/**
 * A policy with no rules allows nothing on purpose only by accident: an empty or truncated file
 * (or one with only `defaults`) is refused. The built-in self-protection rules cannot be dropped
 * by any file: they live in the gate (src/gate/protect.ts), not in the pack.
 */
function checkedPolicy(bundle: PolicyBundle, path: string, logger: Logger): PolicyBundle {
  for (const w of bundle.warnings) logger.warn({ path }, `policy: ${w}`);
  if (bundle.rules.length === 0) {
    throw new ForgeError(
      Codes.POLICY_RELOAD_REFUSED,
      `${path} defines no rules (empty, truncated, or only defaults): refusing to load it; restore the file`,
    );
  }
  return bundle;
}

/** A `policy` record: which bundle the gate judges with from now on (start and every reload). */
function recordPolicy(
  store: EvidenceStore,
  hostId: string,
  path: string,
  bundle: { id: string; version: number; sha256: string },
  why: "start" | "reload",
  reviewer: string | null = null,
  widened: string[] = [],
) {
  return store.append({
    kind: "policy",
    session_id: `agent:${hostId}`,
    action_id: randomUUID(),
    timestamp: nowRfc3339(),
    prompt_hash: null,
    proposed_action: { kind: "policy.load", path, reason: why, ...(widened.length ? { widened } : {}) },
    evaluation: null,
    policy_matched: { bundle: { id: bundle.id, version: bundle.version, sha256: bundle.sha256 }, rules: [] },
    composition_state: null,
    execution_result: null,
    principal_review:
      reviewer === null
        ? null
        : { decision: "approve", reviewer, at: nowRfc3339(), reason: "forge-agent policy reload --confirm" },
    latency_ms: 0,
    principal: reviewer ?? "system",
  });
}

/** An `alert` record for a refused reload: the running policy is kept. */
function recordRefusedReload(
  store: EvidenceStore,
  hostId: string,
  path: string,
  kept: { id: string; version: number; sha256: string },
  message: string,
) {
  return store.append({
    ...agentAlert(hostId, "policy.reload-refused", message),
    proposed_action: { kind: "policy.reload-refused", path, kept },
    policy_matched: { bundle: { id: kept.id, version: kept.version, sha256: kept.sha256 }, rules: [] },
  });
}

/** An `alert` record in the agent's own session (a refused reload, an untrusted collector). */
function agentAlert(hostId: string, kind: string, message: string): RecordInput {
  return alertRecord(`agent:${hostId}`, { kind }, message);
}

/**
 * The one place the shipper is wired: records stream to the collector, and reviews decided on
 * the collector's console come back as `review` messages.
 */
async function startShipper(o: {
  store: EvidenceStore;
  url: string;
  service: ActionService;
  logger: Logger;
  heartbeat: () => Record<string, unknown>;
  heartbeatMs: number;
  policyUpdates: PolicyUpdates;
  trust: CollectorTrust;
  onAlert: (code: string, message: string) => void;
}) {
  const { service, logger, heartbeat, heartbeatMs, policyUpdates } = o;
  const { Shipper } = await import("../evidence/shipper.js");
  // The shipper hands a review on only when the pinned collector key signed it for this connection.
  const shipper = new Shipper({ store: o.store, url: o.url, logger, trust: o.trust, onAlert: o.onAlert });
  shipper.on("review", (msg: unknown) => {
    const m = msg as { action_id?: unknown; decision?: unknown; reason?: unknown; reviewer?: unknown };
    if (typeof m.action_id !== "string" || (m.decision !== "approve" && m.decision !== "deny")) {
      logger.warn({ msg }, "ignoring a malformed review from the collector");
      return;
    }
    // The collector's review console names the signed-in operator ("operator:<name>").
    const reviewer =
      typeof m.reviewer === "string" && /^operator:[A-Za-z0-9._@-]{1,64}$/.test(m.reviewer)
        ? m.reviewer
        : `collector:${typeof m.reviewer === "string" ? m.reviewer : "unknown"}`;
    const id = m.action_id;
    service
      .review(id, m.decision, typeof m.reason === "string" ? m.reason : null, reviewer)
      .then((v) => {
        logger.info({ action_id: id, decision: m.decision, reviewer }, "review from the collector");
        shipper.send({
          type: "review_result",
          action_id: id,
          ok: true,
          state: v.state,
          evaluation: v.evaluation,
        });
      })
      .catch((err) => {
        logger.warn({ err: (err as Error).message, action_id: id }, "collector review not applied");
        shipper.send({ type: "review_result", action_id: id, ok: false, error: (err as Error).message });
      });
  });
  shipper.on("policy", (msg: unknown) => {
    policyUpdates.receive(msg).then((r) => shipper.send({ type: "policy_result", ...r }));
  });
  shipper.start();
  // Health and the pending escalations, for the fleet view and the collector's review console.
  const timer = setInterval(() => shipper.send({ type: "heartbeat", ...heartbeat() }), heartbeatMs);
  timer.unref();
  return {
    status: () => shipper.status(),
    start: () => shipper.start(),
    stop: async () => {
      clearInterval(timer);
      await shipper.stop();
    },
  };
}

/** The composition state file in the agent's home (a protected resource). */
export const GATE_STATE_FILE = "gate-state.json";

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * The daemon's side of training (src/training): `forge-agent train` runs the job here when a
 * daemon owns the evidence store, so the job's records go into the daemon's chain and every
 * ESCALATE — the start's (`training.run` over a limit, an unknown base) and an `escalate` anomaly's
 * — waits in the same review queue as any action (socket, CLI, collector console). Registry
 * datasets and bases are `model.pull`s through the same queue. One job at a time per job id.
 */
import type { Logger } from "pino";
import { Codes, ForgeError } from "../errors.js";
import type { EvidenceStore } from "../evidence/index.js";
import type { Gate } from "../gate/index.js";
import type { Judge } from "../registry/index.js";
import { openClient } from "../registry/index.js";
import { registryBase } from "../training/base.js";
import { registryResolver } from "../training/dataset.js";
import { exportGguf } from "../training/export.js";
import { type JobReport, runJob } from "../training/job.js";
import { loadJob } from "../training/spec.js";
import { makeTrainer } from "../training/trainers.js";
import type { ActionService, Principal } from "./actions.js";
import type { AgentConfig } from "./config.js";
import { reviewInQueue } from "./queue-review.js";

export interface AgentTraining {
  run(body: { job: string; resume: boolean }, who: Principal): Promise<JobReport>;
}

export function createAgentTraining(d: {
  config: AgentConfig;
  store: EvidenceStore;
  gate: () => Gate;
  service: () => ActionService;
  logger: Logger;
}): AgentTraining {
  const c = d.config;
  const running = new Set<string>();
  return {
    async run(body, who) {
      const job = loadJob(body.job);
      if (running.has(job.spec.job))
        throw new ForgeError(Codes.CONFLICT, `job '${job.spec.job}' is already running in this agent`);
      running.add(job.spec.job);
      const ask = (action: object, what: string, escalate?: string) =>
        reviewInQueue(d.service(), who, {
          session_id: `training-review:${job.spec.job}`,
          action,
          delegate: "forge-agent train",
          ...(escalate === undefined ? {} : { escalate }),
          deadlineMs: c.review.deadline_ms,
          logger: d.logger,
          what,
        });
      // A pull's verdict through the queue: only an approved (or allowed) pull fetches anything.
      const judge: Judge = async (action) => {
        const r = await ask(action, "training pull");
        return {
          evaluation: r.decision === "approve" ? "ALLOW" : "DENY",
          reasons: r.reason ? [r.reason] : [],
        };
      };
      const registry = {
        client: (registry: string) =>
          openClient(registry, {
            home: c.home,
            insecure: c.registry.insecure,
            ...(c.registry.auth_file === undefined ? {} : { authFile: c.registry.auth_file }),
          }),
        judge,
      };
      try {
        return await runJob({
          job,
          resume: body.resume,
          store: d.store,
          gate: d.gate(),
          reviewer: {
            reviewStart: (action) => ask(action, "training start"),
            review: (a, _deadline, action) =>
              ask(
                action ?? failClosed(),
                "training anomaly",
                `training anomaly: ${a.rule} at step ${a.step} (loss ${a.loss}) under an 'escalate' rule`,
              ),
          },
          makeTrainer,
          resolver: registryResolver(registry),
          baseResolver: registryBase(registry),
          principal: who.record,
          exportModel: exportGguf,
        });
      } finally {
        running.delete(job.spec.job);
      }
    },
  };
}

function failClosed(): never {
  throw new ForgeError(Codes.INTERNAL, "an anomaly review without the job's action: refusing to continue");
}

/**
 * The daemon's side of the model lifecycle (src/lifecycle): promotions run here so an ESCALATE
 * reaches the review queue (socket, collector console), and the review itself is checked
 * against the stage's reviewer allowlist. Facts are established by this process, never taken
 * from the caller; the promotion record goes into the daemon's own chain.
 */
import type { Logger } from "pino";
import { Codes, ForgeError } from "../errors.js";
import type { EvidenceStore } from "../evidence/index.js";
import type { Gate } from "../gate/index.js";
import type { LifecycleContext } from "../lifecycle/context.js";
import { loadSigningKey, TrustRoot } from "../lifecycle/keys.js";
import { type Lineage, walkLineage } from "../lifecycle/lineage.js";
import { type PromotionReport, promote } from "../lifecycle/promote.js";
import type { PrincipalReview } from "../protocol/record.js";
import { type ApprovalSubject, approvalRefusal } from "../protocol/review-roles.js";
import { openClient } from "../registry/index.js";
import type { ActionService, Principal } from "./actions.js";
import { collectorRecords } from "./archive.js";
import { collectorGet, collectorHttpBase, type ReadTrust } from "./collector-http.js";
import type { AgentConfig } from "./config.js";
import { reviewInQueue } from "./queue-review.js";

export interface AgentLifecycle {
  promote(
    body: { ref: string; stage: string; reason?: string | null },
    who: Principal,
  ): Promise<PromotionReport>;
  /**
   * Who may approve what (src/protocol/review-roles.ts): the stage allowlists (lifecycle.reviewers
   * and review.roles.stages) and review.roles.labels. Null when allowed, else why not.
   */
  authorizeReview(subject: ApprovalSubject, reviewer: string): string | null;
  context(who: Principal): LifecycleContext;
  /** Lineage of an action id or model digest: through the collector when one is configured (the fleet's records), else this chain. */
  lineage(id: string): Promise<Lineage>;
}

export function createAgentLifecycle(d: {
  config: AgentConfig;
  store: EvidenceStore;
  gate: () => Gate;
  service: () => ActionService;
  logger: Logger;
  /** The collector key the WebSocket pinned: the reads (records, lineage) prove it too. */
  trust?: ReadTrust;
}): AgentLifecycle {
  const c = d.config;
  const roles = {
    stages: { ...c.review.roles.stages, ...c.lifecycle.reviewers },
    labels: c.review.roles.labels,
  };
  let signer: ReturnType<typeof loadSigningKey> | undefined;
  let trust: TrustRoot | undefined;
  const keys = () => {
    signer ??= loadSigningKey(c.evidence.keys);
    trust ??= TrustRoot.fromFiles(
      c.lifecycle.trusted_keys,
      c.lifecycle.trust_own_key ? signer.publicKeyPem : undefined,
    );
    return { signer, trust };
  };
  // Records the collector acked are pruned here: the facts read its copy of this host's chain too.
  const archive =
    c.collector_url === undefined
      ? undefined
      : (() => {
          const read = collectorRecords({
            url: c.collector_url,
            hostId: c.host_id,
            sign: (data) => d.store.sign(data),
            ...(d.trust ? { trust: d.trust } : {}),
            ...(c.lifecycle.collector_token_file ? { tokenFile: c.lifecycle.collector_token_file } : {}),
            timeoutMs: 30_000,
          });
          return () => read({ limit: 1_000_000 });
        })();
  const context = (who: Principal): LifecycleContext => ({
    hostId: c.host_id,
    client: (registry) =>
      openClient(registry, {
        home: c.home,
        insecure: c.registry.insecure,
        ...(c.registry.auth_file === undefined ? {} : { authFile: c.registry.auth_file }),
      }),
    gate: d.gate,
    append: (rec) => d.store.append(rec),
    records: (q) => d.store.records(q),
    record: (seq) => d.store.get(seq),
    ...(archive ? { archive } : {}),
    ...keys(),
    config: c.lifecycle,
    principal: who.record,
    now: () => Date.now(),
  });
  return {
    context,
    async lineage(id) {
      if (c.collector_url === undefined) return walkLineage(id, d.store.records({ limit: 1_000_000 }));
      const url = new URL(`/v1/lineage/${encodeURIComponent(id)}`, collectorHttpBase(c.collector_url));
      const res = await collectorGet(url, { ...d.trust, timeoutMs: 30_000 });
      if (res.status !== 200)
        throw new ForgeError(
          Codes.COLLECTOR_UNAVAILABLE,
          `collector answered HTTP ${res.status} to /v1/lineage`,
        );
      return res.json() as Lineage;
    },
    authorizeReview(subject, reviewer) {
      // The proposer check is the service's own (sameParty); here only the roles.
      return approvalRefusal(roles, reviewer, subject);
    },
    async promote(body, who) {
      const review = (action: object): Promise<PrincipalReview> =>
        reviewInQueue(d.service(), who, {
          session_id: "promote-review",
          action,
          delegate: "forge-agent promote",
          deadlineMs: c.review.deadline_ms,
          logger: d.logger,
          what: "promotion",
        });
      return promote(body.ref, { stage: body.stage, reason: body.reason ?? null, review }, context(who));
    },
  };
}

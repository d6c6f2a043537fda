/**
 * Wires the fleet parts into a collector (startCollector's `plugins`): fleet state and its API,
 * operator sign-in, the review relay, policy distribution from a directory, and the dashboard.
 */
import { Codes, ForgeError } from "../errors.js";
import { createTolerances, type TolerancesConfigInput } from "../platform/tolerances.js";
import { type ReviewRoles, ReviewRolesSchema } from "../protocol/review-roles.js";
import type { CollectorContext } from "./context.js";
import { registerDashboard } from "./dashboard/index.js";
import { Fleet, type FleetOptions } from "./fleet.js";
import { type Operator, Operators } from "./operators.js";
import { type BundleSource, createBundleSource } from "./policy-bundles.js";
import { PolicyPush } from "./policy-push.js";
import { ReviewRelay } from "./review-relay.js";

export interface FleetPluginOptions {
  operators: Operator[];
  /** Bearer token /metrics needs when scraped from off loopback (default: loopback only). */
  metricsToken?: string | null;
  fleet?: Omit<FleetOptions, "tolerances">;
  /** Evaluated from every host's heartbeats; its `webhook` is called on each transition. */
  tolerances?: TolerancesConfigInput;
  /** Directory of signed bundles (`forge-collector policy sign --out DIR/…`); watched for changes. */
  policyDir?: string;
  /** SPKI PEM of the bundle signing key: bundles that do not verify are never offered. */
  policyKeyPem?: string;
  reviewAnswerTimeoutMs?: number;
  /** Who may approve what (review_roles in the collector config; src/protocol/review-roles.ts). */
  reviewRoles?: Partial<ReviewRoles>;
}

export interface FleetPlugin {
  plugin: (ctx: CollectorContext) => void;
  /** Set once the plugin ran. */
  fleet: () => Fleet;
  close(): void;
}

/** Builds the plugin; throws FORGE_CONFIG_INVALID on a bad operator list or policy directory. */
export function fleetPlugin(opts: FleetPluginOptions): FleetPlugin {
  const operators = new Operators({ operators: opts.operators, metricsToken: opts.metricsToken });
  const roles: ReviewRoles = ReviewRolesSchema.parse(opts.reviewRoles ?? {});
  createTolerances(opts.tolerances ?? {}); // validates now: a bad config fails at start, not at the first heartbeat
  let fleet: Fleet | undefined;
  let source: BundleSource | undefined;
  return {
    plugin(ctx) {
      fleet = new Fleet(ctx, { ...opts.fleet, tolerances: opts.tolerances });
      fleet.register();
      operators.register(ctx);
      new ReviewRelay(ctx, fleet, operators, {
        answerTimeoutMs: opts.reviewAnswerTimeoutMs,
        roles,
      }).register();
      if (opts.policyDir !== undefined) {
        source = createBundleSource(opts.policyDir, {
          publicKeyPem: opts.policyKeyPem,
          watch: true,
          onSkip: (file, err) => ctx.logger.warn({ file, err: err.message }, "policy bundle skipped"),
          onError: (err) =>
            ctx.logger.error(
              { err: err.message },
              "policy directory reload failed; serving the previous bundle",
            ),
        });
        new PolicyPush(ctx, source).register();
      }
      registerDashboard(ctx);
    },
    fleet: () => {
      if (fleet === undefined)
        throw new ForgeError(Codes.INTERNAL, "fleetPlugin: the collector has not started");
      return fleet;
    },
    close: () => source?.close(),
  };
}

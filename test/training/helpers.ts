// Shared set-up of the training tests: a reviewer's verdict, and the real gate (default pack) and
// evidence store a governed job runs against.
import { homedir } from "node:os";
import type { EvidenceStore } from "../../src/evidence/index.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";
import type { PrincipalReview } from "../../src/protocol/record.js";
import { openStore, type tempHome } from "../evidence/helpers.js";

/** A review as a reviewer (or, for `expired`, the system) records it. */
export const review = (decision: PrincipalReview["decision"]): PrincipalReview => ({
  decision,
  reviewer: decision === "expired" ? "system" : "uid:501",
  at: new Date().toISOString(),
  reason: `test ${decision}`,
});

/** The default pack's gate and a store in `home`. */
export async function governed(
  home: ReturnType<typeof tempHome>,
): Promise<{ gate: Gate; store: EvidenceStore }> {
  await initGate();
  return {
    gate: new Gate(loadPolicy(defaultPolicyPath()), { home: homedir(), cwd: home.dir }),
    store: openStore(home),
  };
}

/** The default pack's verdict on one shell line, each line its own session (HOME=/Users/dev, workspace ~/project). */
import { beforeAll } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";

export const HOME = "/Users/dev";
export const CWD = `${HOME}/project`;

/** Registers a beforeAll that builds the gate; the returned function judges one line in a new session. */
export function packVerdict(prefix: string): (command: string) => string {
  let gate: Gate;
  let n = 0;
  beforeAll(async () => {
    await initGate();
    gate = new Gate(loadPolicy(defaultPolicyPath()), { home: HOME, cwd: CWD });
  });
  return (command) =>
    gate.evaluate({ session_id: `${prefix}-${n++}`, action: { kind: "shell", command } }).evaluation;
}

/**
 * kill's process ids, canonical, are its operands (issue 19, gate56): the pack's kill-init judges
 * pid 1 and pid -1 (every process the user may signal) whatever the spelling: `01`, `+1`, `' 1'`,
 * `-001`, a pid after a signal that looks like a flag (`kill -9 -1`, `kill -s KILL -1`), after `--`,
 * through a wrapper. Before, pid -1 after a signal was a floor in the effects (ESCALATE) while
 * `kill -- -1` was kill-init (DENY): one pid, two verdicts by spelling. Signals before the pids
 * (`-1` SIGHUP, `-15` SIGTERM) and jobs (`%1`) are no pid.
 */
import { describe, expect, it } from "vitest";
import { packSteps } from "./pack-verdict.js";

const steps = packSteps("g56k");

/** Every spelling of one pid, and the verdict each must get. */
const SPELLINGS: [string, string, string[]][] = [
  [
    "pid -1 (every process)",
    "DENY",
    [
      "kill -- -1",
      "kill -9 -1",
      "kill -KILL -1",
      "kill -SIGKILL -1",
      "kill -s KILL -1",
      "kill -s 9 -1",
      "kill -n 9 -1",
      "kill --signal=KILL -1",
      "kill --signal KILL -1",
      "kill -TERM -001",
      "kill -9 -- -1",
      "kill -9 ' -1'",
      "kill -9 '-01 '",
      "kill -1",
      "kill 4242 -1",
      "/bin/kill -9 -1",
      "sudo kill -9 -1",
      "command kill -9 -1",
      "bash -c 'kill -9 -1'",
      "env kill -TERM -1",
    ],
  ],
  [
    "pid 1 (init, launchd)",
    "DENY",
    [
      "kill 1",
      "kill -9 1",
      "kill 01",
      "kill +1",
      "kill ' 1'",
      "kill -s KILL 01",
      "kill -9 -- 1",
      "kill -HUP +001",
      "kill 4242 1",
      "/bin/kill -9 1",
    ],
  ],
];

for (const [what, verdict, lines] of SPELLINGS)
  describe(`every spelling of ${what} is ${verdict}`, () => {
    it.each(lines)("%s", (line) => {
      const v = steps(line);
      expect(v.evaluation).toBe(verdict);
      expect(v.rules).toContain("kill-init");
    });
  });

describe("signals before the pids and jobs are no pid", () => {
  it.each([
    "kill -1 4242",
    "kill -15 4242",
    "kill -TERM 4242",
    "kill -s HUP 4242",
    "kill %1",
    "kill -9 %1",
    "kill -- %2",
    "kill -9 4242 4243",
    "kill -0 4242",
  ])("%s stays ALLOW", (line) => expect(steps(line).evaluation).toBe("ALLOW"));
});

describe("a process group is still reviewed, not every process", () => {
  it.each(["kill -- -4242", "kill -9 -4242", "kill -s KILL -04242"])("%s", (line) => {
    const v = steps(line);
    expect(v.evaluation).toBe("ESCALATE");
    expect(v.rules).not.toContain("kill-init");
  });
});

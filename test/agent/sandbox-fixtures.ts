/** What the real-sandbox tests share: the bwrap config, the executor limits, a profile parser. */
import type { ExecutorLimits } from "../../src/agent/executors/index.js";
import type { SandboxConfig } from "../../src/agent/sandbox/index.js";
import { type SandboxProfile, SandboxProfileSchema } from "../../src/gate/sandbox-profile.js";

/** Debian's bubblewrap and prlimit, denying when the sandbox cannot be set up. */
export const BWRAP_CONFIG: SandboxConfig = {
  engine: "bwrap",
  bwrap_path: "/usr/bin/bwrap",
  prlimit_path: "/usr/bin/prlimit",
  on_unavailable: "deny",
};

/** Executor limits for a test workspace under `home`, generous enough for a loaded machine. */
export function testLimits(workspace: string, home: string): ExecutorLimits {
  return {
    cwd: workspace,
    shell_timeout_ms: 20_000,
    excerpt_bytes: 4096,
    max_output_bytes: 1 << 20,
    http_timeout_ms: 5_000,
    http_max_bytes: 1 << 20,
    file_max_bytes: 1 << 20,
    file_timeout_ms: 5_000,
    base_env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" },
  };
}

export const profile = (p: Record<string, unknown> = {}): SandboxProfile => SandboxProfileSchema.parse(p);

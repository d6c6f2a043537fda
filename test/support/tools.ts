// System tools some tests need. Absent: the test skips with a visible reason; under CI (CI=true)
// or FORGE_TEST_STRICT=1 an absent tool is a failure, so a green CI never hides a missing install.
// `scripts/install-test-deps` installs every tool named here.
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type TestTool =
  | "plistutil"
  | "chromium"
  | "postgresql"
  | "systemd-analyze"
  | "docker-registry"
  | "skopeo"
  | "bwrap"
  | "python3-torch"
  | "python3-scipy"
  | "tmux"
  | "htpasswd"
  | "bash"
  | "zsh"
  | "unshare"
  | "setpriv"
  | "codex"
  | "claude-code";

/** Where each tool is looked for, and how it is probed. */
const PROBES: Record<TestTool, () => string | null> = {
  plistutil: () => onPath("plistutil"),
  chromium: () => {
    const p = process.env.FORGE_TEST_CHROMIUM ?? "/usr/bin/chromium";
    return existsSync(p) ? p : null;
  },
  postgresql: () => process.env.FORGE_TEST_PG_URL ?? null,
  "systemd-analyze": () => onPath("systemd-analyze"),
  "docker-registry": () => onPath("docker-registry"),
  skopeo: () => onPath("skopeo"),
  bwrap: () => onPath("bwrap"),
  "python3-torch": () => pythonModule("torch"),
  "python3-scipy": () => pythonModule("scipy"),
  tmux: () => onPath("tmux"),
  htpasswd: () => onPath("htpasswd"),
  bash: () => onPath("bash"),
  zsh: () => onPath("zsh"),
  // CLIs from npm that scripts/install-test-deps puts under .test-tools/ (kept out of the project's
  // node_modules); FORGE_TEST_<NAME> points elsewhere.
  codex: () => npmTool("codex", "codex", process.env.FORGE_TEST_CODEX),
  "claude-code": () => npmTool("claude-code", "claude", process.env.FORGE_TEST_CLAUDE_CODE),
  // util-linux; probed by use: a private mount namespace (and, off root, a user namespace) must work.
  unshare: () => {
    const p = onPath("unshare");
    if (p === null) return null;
    try {
      execFileSync(p, ["-rm", "true"], { stdio: "ignore", timeout: 10_000 });
      return p;
    } catch {
      return null;
    }
  },
  // util-linux; probed by use: acting as another uid (uid 65534) needs root.
  setpriv: () => {
    const p = onPath("setpriv");
    if (p === null) return null;
    try {
      execFileSync(p, ["--reuid", "65534", "--regid", "0", "--clear-groups", "true"], {
        stdio: "ignore",
        timeout: 10_000,
      });
      return p;
    } catch {
      return null;
    }
  },
};

/** Debian's python3, where python3-torch and python3-scipy install (not a pyenv shim). */
export const DEBIAN_PYTHON = "/usr/bin/python3";

/**
 * A CLI installed with npm into .test-tools/<dir> (or at `override`), probed by use (`--version`):
 * both ship their binary as a per-platform optional dependency that may be missing.
 */
function npmTool(dir: string, bin: string, override: string | undefined): string | null {
  const p =
    override ?? fileURLToPath(new URL(`../../.test-tools/${dir}/node_modules/.bin/${bin}`, import.meta.url));
  try {
    execFileSync(p, ["--version"], { stdio: "ignore", timeout: 30_000 });
    return p;
  } catch {
    return null;
  }
}

function onPath(cmd: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

function pythonModule(mod: string): string | null {
  if (!existsSync(DEBIAN_PYTHON)) return null;
  try {
    execFileSync(DEBIAN_PYTHON, ["-c", `import ${mod}`], { stdio: "ignore", timeout: 60_000 });
    return DEBIAN_PYTHON;
  } catch {
    return null;
  }
}

export function strictTools(): boolean {
  return process.env.CI === "true" || process.env.CI === "1" || process.env.FORGE_TEST_STRICT === "1";
}

const cache = new Map<TestTool, string | null>();

/** The tool's path (or URL), or null when absent. Throws when absent under CI/strict. */
export function findTool(tool: TestTool): string | null {
  if (!cache.has(tool)) cache.set(tool, PROBES[tool]());
  const found = cache.get(tool) ?? null;
  if (found === null) {
    if (strictTools())
      throw new Error(`test tool '${tool}' is missing (CI/FORGE_TEST_STRICT): run scripts/install-test-deps`);
    noteSkip(tool);
  }
  return found;
}

/** True when the tool is absent: use as `describe.skipIf(missing("bwrap"))(...)`. */
export function missing(tool: TestTool): boolean {
  return findTool(tool) === null;
}

/** Appends the skipped tool to a file the run's summary reads (one line a tool). */
function noteSkip(tool: TestTool): void {
  try {
    const dir = join(process.cwd(), ".test-tmp");
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, "missing-tools"), `${tool}\n`);
  } catch {
    // The summary line is a courtesy; the skip itself is reported by vitest.
  }
}

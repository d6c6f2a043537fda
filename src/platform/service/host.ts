import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname } from "node:path";

export interface RunResult {
  /** Exit status; -1 when the program could not be started (not installed, not executable). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Everything service management does to the machine goes through this one seam: the
 * launchctl/systemctl calls and the few file operations. Tests pass a recording host;
 * `systemHost()` is the real one.
 */
export interface ServiceHost {
  run(cmd: string, args: readonly string[]): RunResult;
  /** Writes atomically (temp file + rename) with `mode`, creating parent directories. */
  writeFile(path: string, content: string, mode: number): void;
  removeFile(path: string): void;
  exists(path: string): boolean;
  /** Creates a directory and its parents (launchd does not create log directories). */
  mkdir(path: string): void;
  uid(): number;
  platform(): NodeJS.Platform;
  homedir(): string;
}

/** The real host: spawns the command without a shell, touches the real file system. */
export function systemHost(): ServiceHost {
  return {
    run(cmd, args) {
      const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
      if (r.error !== undefined) return { code: -1, stdout: "", stderr: r.error.message };
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    writeFile(path, content, mode) {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, content, { mode });
      chmodSync(tmp, mode); // the umask must not loosen or tighten what launchd/systemd expect
      renameSync(tmp, path);
    },
    removeFile(path) {
      rmSync(path, { force: true });
    },
    exists: (path) => existsSync(path),
    mkdir(path) {
      mkdirSync(path, { recursive: true });
    },
    uid: () => (typeof process.getuid === "function" ? process.getuid() : -1),
    platform: () => process.platform,
    homedir: () => homedir(),
  };
}

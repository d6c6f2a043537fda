/**
 * A cross-process lock file (O_EXCL, holding the owner's pid). A lock whose owner is dead is taken
 * over, so a SIGKILLed writer never wedges the next one.
 */
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Codes, ForgeError } from "../errors.js";

/** Runs `fn` holding the lock at `path`; waits (polling) up to `waitMs` (default 120 s) for it. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, waitMs = 120_000): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const end = Date.now() + waitMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(path, "wx");
      await fh.write(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (pid > 0 && !alive(pid)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > end)
      throw new ForgeError(
        Codes.TIMEOUT,
        `lock ${path} is held by pid ${pid} for over ${waitMs} ms: is it stuck?`,
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

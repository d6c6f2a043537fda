import { createHash } from "node:crypto";
import { open, stat, unlink, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Codes, execErrnoCode, type ForgeCode } from "../../errors.js";
import { captureBuffer } from "./capture.js";
import { round } from "./shell.js";
import type { ExecutionResult, ExecutorLimits } from "./types.js";

type FileAction =
  | { kind: "file.read"; path: string; content_sha256?: string }
  | { kind: "file.write"; path: string; content_sha256?: string; content?: string }
  | { kind: "file.delete"; path: string; content_sha256?: string };

/** file.read / file.write / file.delete. Paths are resolved against executors.cwd. */
export async function runFile(action: FileAction, limits: ExecutorLimits): Promise<ExecutionResult> {
  const started = performance.now();
  const path = resolve(limits.cwd, action.path);
  const done = (r: Omit<ExecutionResult, "duration_ms">): ExecutionResult =>
    ({ path, ...r, duration_ms: round(performance.now() - started) }) as unknown as ExecutionResult;
  try {
    if (action.kind === "file.read") {
      const fh = await open(path, "r");
      try {
        const size = (await fh.stat()).size;
        if (size > limits.file_max_bytes) {
          return done(err(Codes.EXEC_TOO_LARGE, `${size} bytes > executors.file_max_bytes`));
        }
        const buf = Buffer.alloc(size);
        const { bytesRead } = await fh.read(buf, 0, size, 0);
        return done({
          status: "ok",
          content: captureBuffer(buf.subarray(0, bytesRead), limits.excerpt_bytes),
        });
      } finally {
        await fh.close();
      }
    }
    if (action.kind === "file.write") {
      if (action.content === undefined) {
        return done(err(Codes.EXEC_NO_CONTENT, "file.write needs `content` for the built-in executor"));
      }
      const buf = Buffer.from(action.content, "utf8");
      const sha = createHash("sha256").update(buf).digest("hex");
      if (action.content_sha256 !== undefined && action.content_sha256 !== sha) {
        return done(err(Codes.EXEC_HASH_MISMATCH, "content does not match content_sha256"));
      }
      if (buf.length > limits.file_max_bytes) {
        return done(err(Codes.EXEC_TOO_LARGE, `${buf.length} bytes > executors.file_max_bytes`));
      }
      await writeFile(path, buf);
      return done({ status: "ok", bytes: buf.length, sha256: sha });
    }
    const before = await stat(path);
    await unlink(path);
    return done({ status: "ok", bytes: before.size });
  } catch (e) {
    const code = execErrnoCode((e as NodeJS.ErrnoException).code);
    return done({ status: "failed", error: { code, message: (e as Error).message } });
  }
}

function err(code: ForgeCode, message: string) {
  return { status: "error" as const, error: { code, message } };
}

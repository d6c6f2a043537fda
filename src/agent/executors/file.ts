import { createHash } from "node:crypto";
import { constants, realpathSync } from "node:fs";
import { lstat, open, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { Codes, execErrnoCode, type ForgeCode } from "../../errors.js";
import { planSandbox, within } from "../sandbox/index.js";
import { captureBuffer } from "./capture.js";
import { round } from "./shell.js";
import type { ActionSandbox, ExecutionResult, ExecutorLimits } from "./types.js";

type FileAction =
  | { kind: "file.read"; path: string; content_sha256?: string }
  | { kind: "file.write"; path: string; content_sha256?: string; content?: string }
  | { kind: "file.delete"; path: string; content_sha256?: string };

/** Never follow a symlink in the last component; never block on a FIFO or a device. */
const OPEN_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const OPEN_WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * file.read / file.write / file.delete, in-process but under the action's sandbox profile: the
 * path is resolved (symlinks in its directories followed, as the kernel would) before it is
 * checked against the profile's hidden paths and write roots, then opened with O_NOFOLLOW so a
 * link swapped into the last component after the check is refused, and only regular files are
 * read or written. The whole operation is bounded by executors.file_timeout_ms.
 */
export async function runFile(
  action: FileAction,
  limits: ExecutorLimits,
  box: ActionSandbox,
): Promise<ExecutionResult> {
  const started = performance.now();
  const path = resolve(limits.cwd, action.path);
  const done = (r: Omit<ExecutionResult, "duration_ms">): ExecutionResult =>
    ({ path, ...r, duration_ms: round(performance.now() - started) }) as unknown as ExecutionResult;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ExecutionResult>((res) => {
    timer = setTimeout(
      () =>
        res(
          done({
            status: "timeout",
            error: { code: Codes.TIMEOUT, message: `file action took over ${limits.file_timeout_ms} ms` },
          }),
        ),
      limits.file_timeout_ms,
    );
  });
  try {
    return await Promise.race([fileOp(action, path, limits, box, done), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function fileOp(
  action: FileAction,
  path: string,
  limits: ExecutorLimits,
  box: ActionSandbox,
  done: (r: Omit<ExecutionResult, "duration_ms">) => ExecutionResult,
): Promise<ExecutionResult> {
  const sandbox = { engine: "in-process", profile: box.name };
  try {
    let real: string;
    try {
      real = resolve(realpathSync(dirname(path)), basename(path));
    } catch (e) {
      return done({
        status: "failed",
        sandbox,
        error: { code: execErrnoCode((e as NodeJS.ErrnoException).code), message: (e as Error).message },
      });
    }
    const plan = planSandbox({
      name: box.name,
      profile: box.profile,
      workspace: limits.cwd,
      tmp: tmpdir(),
      cwd: limits.cwd,
      home: box.sandbox.home,
      protect: box.sandbox.protected,
    });
    const hidden = plan.hide.find((h) => within(real, h.path));
    if (hidden !== undefined)
      return done(denied(sandbox, `${real} is hidden by the sandbox profile '${box.name}' (${hidden.path})`));
    if (
      action.kind !== "file.read" &&
      !plan.write.some((w) => within(real, w)) &&
      !within(real, realpathSync(tmpdir()))
    )
      return done(
        denied(
          sandbox,
          `${real} is outside the write roots of sandbox profile '${box.name}': ${plan.write.join(", ")}`,
        ),
      );

    if (action.kind === "file.read") {
      const fh = await open(real, OPEN_READ);
      try {
        const st = await fh.stat();
        if (!st.isFile()) return done(notRegular(sandbox, real));
        if (st.size > limits.file_max_bytes) {
          return done(err(Codes.EXEC_TOO_LARGE, `${st.size} bytes > executors.file_max_bytes`));
        }
        const buf = Buffer.alloc(st.size);
        const { bytesRead } = await fh.read(buf, 0, st.size, 0);
        return done({
          status: "ok",
          sandbox,
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
      const fh = await open(real, OPEN_WRITE, 0o644);
      try {
        // Checked before anything is truncated: a FIFO or a device is refused untouched.
        if (!(await fh.stat()).isFile()) return done(notRegular(sandbox, real));
        await fh.truncate(0);
        await fh.write(buf, 0, buf.length, 0);
      } finally {
        await fh.close();
      }
      return done({ status: "ok", sandbox, bytes: buf.length, sha256: sha });
    }
    const before = await lstat(real);
    if (before.isDirectory()) return done(notRegular(sandbox, real));
    await unlink(real);
    return done({ status: "ok", sandbox, bytes: before.size });
  } catch (e) {
    const code = execErrnoCode((e as NodeJS.ErrnoException).code);
    return done({ status: "failed", sandbox, error: { code, message: (e as Error).message } });
  }
}

function denied(sandbox: object, message: string) {
  return { status: "failed" as const, sandbox, error: { code: Codes.EXEC_PATH_DENIED, message } };
}

function notRegular(sandbox: object, path: string) {
  return {
    status: "failed" as const,
    sandbox,
    error: {
      code: Codes.EXEC_NOT_REGULAR,
      message: `${path} is not a regular file (a FIFO, device, socket or directory)`,
    },
  };
}

function err(code: ForgeCode, message: string) {
  return { status: "error" as const, error: { code, message } };
}

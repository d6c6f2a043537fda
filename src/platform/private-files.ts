import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Files only the owner may read: evidence and collector databases (and their SQLite -wal/-shm),
 * keys, the active policy bundle. Each is created with its mode (O_CREAT|O_EXCL, 0600) rather than
 * chmod-ed after the fact, so there is no moment when another user could open it; directories this
 * code creates are 0700. docs/security-store.md.
 */

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
/** The files SQLite keeps beside a WAL-mode database. */
export const SQLITE_SIDECARS = ["-wal", "-shm"] as const;

/** Creates the missing directories of `dir` with mode 0700; an existing directory is left as it is. */
/** Creates `path` 0600 with O_EXCL and writes `text`: never readable by others, never an overwrite (EEXIST). */
export function writeNewPrivateFile(path: string, text: string): void {
  const fd = openSync(path, "wx", PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Makes sure `path` exists as a 0600 file before SQLite opens it: created empty with that mode if
 * missing (its missing parent directories 0700), or tightened to 0600 when group or others had any
 * access. `sidecars` (e.g. `-wal`, `-shm`) are tightened when they exist; SQLite creates new ones
 * with the database file's mode.
 */
export function ensurePrivateFile(path: string, sidecars: readonly string[] = []): void {
  makePrivateDir(dirname(path));
  try {
    closeSync(openSync(path, "wx", PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  for (const p of [path, ...sidecars.map((s) => path + s)]) tightenPrivateFile(p);
}

/** Writes `text` to `path` atomically (a 0600 temp file, fsync, rename); the result is 0600. */
export function writePrivateFileAtomic(path: string, text: string): void {
  makePrivateDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  // A temp file left by a crashed process of the same pid would keep its old mode under flag "w".
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * writePrivateFileAtomic off the event loop (libuv's thread pool): the same 0600 temp file,
 * written, fsynced, renamed over `path`, and then the directory fsynced so the rename itself
 * survives a power cut. One at a time per path: the caller serialises (the temp name is fixed).
 */
export async function writePrivateFileAtomicAsync(path: string, text: string): Promise<void> {
  makePrivateDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** chmod 0600 when group or others have any permission bit; a missing file is fine. */
export function tightenPrivateFile(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) chmodSync(path, PRIVATE_FILE_MODE);
}

/**
 * The content-addressed blob cache under FORGE_HOME/blobs:
 *   sha256/<hex>          verified blobs (read-only), each stored once whoever pulled it
 *   partial/<hex>.part    an interrupted download, resumed with a Range request; owned through
 *   partial/<hex>.lock    (O_EXCL, holds the owner's pid; a dead owner's lock is taken over)
 *   tmp/                  private downloads when another process owns the partial
 * A blob reaches sha256/ only by an atomic rename after its every byte was hashed and matched the
 * digest and the size, so a reader never sees a half-written or unverified blob.
 */
import { createHash } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { alive } from "./lock.js";
import { DIGEST } from "./reference.js";

/** One download attempt from `offset`: status 206 (ranged) or 200 (from 0), and the body. */
export type RangeFetch = (
  offset: number,
) => Promise<{ status: number; body: AsyncIterable<Uint8Array> | null }>;

export interface IngestOptions {
  /** Download attempts after an interruption (default 5). */
  attempts?: number;
  /** Called with bytes received so far (progress bars). */
  onProgress?: (bytes: number, total: number) => void;
  /** Called when a download resumes from `offset` (logs, tests). */
  onResume?: (offset: number) => void;
}

export function hexOf(digest: string): string {
  if (!DIGEST.test(digest))
    throw new ForgeError(Codes.ARTIFACT_INVALID, `'${digest}' is not a sha256:<64 hex> digest`);
  return digest.slice(7);
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** sha256 of a file, streamed (64 KiB reads): `sha256:<hex>` and the byte count. */
export async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  const s: ReadStream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of s) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

export class BlobCache {
  readonly root: string;
  /** In-process de-duplication: one download per digest at a time. */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(root: string) {
    this.root = root;
  }

  path(digest: string): string {
    return join(this.root, "sha256", hexOf(digest));
  }

  /** True when the verified blob is in the cache (with the expected size, when given). */
  async has(digest: string, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.path(digest));
      return size === undefined || st.size === size;
    } catch {
      return false;
    }
  }

  /**
   * Re-hashes a cached blob (before serving it: the disk is not trusted between uses). A mismatch
   * removes the blob and throws FORGE_DIGEST_MISMATCH, so the next pull fetches it again.
   */
  async verify(digest: string): Promise<string> {
    const p = this.path(digest);
    let got: string;
    try {
      got = (await hashFile(p)).digest;
    } catch (err) {
      throw new ForgeError(Codes.NOT_FOUND, `blob ${digest} is not in the cache (${p}): pull it first`, {
        cause: err,
      });
    }
    if (got !== digest) {
      await rm(p, { force: true });
      throw new ForgeError(
        Codes.DIGEST_MISMATCH,
        `cached blob ${p} is corrupt (its content hashes to ${got}, not ${digest}): removed it; pull again`,
        { details: { expected: digest, actual: got } },
      );
    }
    return p;
  }

  /** The digest this cache computed for a file identity (path, inode, size, mtime), if any. */
  async knownDigest(id: string): Promise<string | null> {
    const f = join(this.root, "file-digests", sha256(id).slice(7));
    const d = (await readFile(f, "utf8").catch(() => "")).trim();
    return DIGEST.test(d) ? d : null;
  }

  async rememberDigest(id: string, digest: string): Promise<void> {
    const dir = join(this.root, "file-digests");
    await mkdir(dir, { recursive: true });
    const f = join(dir, sha256(id).slice(7));
    const tmp = `${f}.${process.pid}.tmp`;
    await writeFile(tmp, digest);
    await rename(tmp, f);
  }

  /** Stores small verified bytes (manifests, configs) under their digest. */
  async putBytes(digest: string, bytes: Buffer): Promise<string> {
    const got = sha256(bytes);
    if (got !== digest) throw mismatch(digest, got, "content");
    const p = this.path(digest);
    if (await this.has(digest, bytes.length)) return p;
    await mkdir(join(this.root, "tmp"), { recursive: true });
    await mkdir(join(this.root, "sha256"), { recursive: true });
    const tmp = join(
      this.root,
      "tmp",
      `${hexOf(digest)}.${process.pid}.${Math.random().toString(36).slice(2)}`,
    );
    await writeFile(tmp, bytes, { mode: 0o444 });
    await rename(tmp, p);
    return p;
  }

  async readBytes(digest: string): Promise<Buffer> {
    const b = await readFile(this.path(digest));
    const got = sha256(b);
    if (got !== digest) {
      await rm(this.path(digest), { force: true });
      throw mismatch(digest, got, "cached");
    }
    return b;
  }

  /**
   * Downloads a blob into the cache (unless present), resuming after interruptions, and returns its
   * path. Throws FORGE_DIGEST_MISMATCH for content that does not hash to `digest` and
   * FORGE_REGISTRY_UNAVAILABLE when the download keeps failing; nothing unverified stays behind
   * under sha256/.
   */
  async ingest(digest: string, size: number, fetchFrom: RangeFetch, o: IngestOptions = {}): Promise<string> {
    if (await this.has(digest, size)) return this.path(digest);
    const running = this.inflight.get(digest);
    if (running) return running;
    const p = this.download(digest, size, fetchFrom, o).finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, p);
    return p;
  }

  private async download(
    digest: string,
    size: number,
    fetchFrom: RangeFetch,
    o: IngestOptions,
  ): Promise<string> {
    const hex = hexOf(digest);
    const partialDir = join(this.root, "partial");
    await mkdir(partialDir, { recursive: true });
    await mkdir(join(this.root, "tmp"), { recursive: true });
    await mkdir(join(this.root, "sha256"), { recursive: true });
    const lock = join(partialDir, `${hex}.lock`);
    const owned = await takeLock(lock);
    const part = owned
      ? join(partialDir, `${hex}.part`)
      : join(this.root, "tmp", `${hex}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    try {
      await this.fill(digest, size, part, fetchFrom, o);
      const final = this.path(digest);
      await chmod(part, 0o444);
      await rename(part, final);
      return final;
    } catch (err) {
      // A corrupt download is dropped; an interrupted one is kept (owned) for the next attempt.
      if (!owned || (err as { code?: string }).code === Codes.DIGEST_MISMATCH)
        await rm(part, { force: true });
      throw err;
    } finally {
      if (owned) await unlink(lock).catch(() => undefined);
    }
  }

  private async fill(
    digest: string,
    size: number,
    part: string,
    fetchFrom: RangeFetch,
    o: IngestOptions,
  ): Promise<void> {
    const attempts = o.attempts ?? 5;
    const h = createHash("sha256");
    let offset = 0;
    try {
      const st = await stat(part);
      if (st.size <= size) {
        for await (const c of createReadStream(part, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
        offset = st.size;
      } else await rm(part, { force: true });
    } catch {
      // no partial: start at 0
    }
    let lastErr: unknown = null;
    for (let attempt = 1; offset < size || attempt === 1; attempt++) {
      if (attempt > attempts) {
        throw new ForgeError(
          Codes.REGISTRY_UNAVAILABLE,
          `download of ${digest} stopped at ${offset} of ${size} bytes after ${attempts} attempts (${(lastErr as Error)?.message ?? "truncated"}): run the pull again to resume`,
          { cause: lastErr, details: { offset, size } },
        );
      }
      if (offset > 0) o.onResume?.(offset);
      let fh: Awaited<ReturnType<typeof open>> | null = null;
      try {
        const res = await fetchFrom(offset);
        if (offset > 0 && res.status !== 206) {
          // The registry ignored Range: start over from byte 0.
          await rm(part, { force: true });
          return this.fill(digest, size, part, async (off) => (off === 0 ? res : fetchFrom(off)), o);
        }
        fh = await open(part, offset === 0 ? "w" : "a");
        if (!res.body) throw new Error("empty body");
        // Network chunks are small (~64 KiB): gather them into 4 MiB writes.
        let pending: Uint8Array[] = [];
        let pendingBytes = 0;
        const flush = async () => {
          if (pendingBytes === 0) return;
          await fh!.writev(pending);
          offset += pendingBytes;
          pending = [];
          pendingBytes = 0;
          o.onProgress?.(offset, size);
        };
        try {
          for await (const chunk of res.body) {
            if (offset + pendingBytes + chunk.length > size) {
              throw new ForgeError(
                Codes.DIGEST_MISMATCH,
                `blob ${digest} is longer than its descriptor's ${size} bytes: refused`,
              );
            }
            h.update(chunk);
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= 4 << 20) await flush();
          }
        } finally {
          // What arrived before an interruption is kept (and hashed): the resume starts after it.
          await flush();
        }
        if (offset === size) await fh.sync();
      } catch (err) {
        if ((err as { code?: string }).code === Codes.DIGEST_MISMATCH) throw err;
        lastErr = err;
      } finally {
        await fh?.close();
      }
      if (offset === size) break;
    }
    const got = `sha256:${h.digest("hex")}`;
    if (got !== digest) throw mismatch(digest, got, "downloaded");
  }
}

function mismatch(expected: string, got: string, what: string): ForgeError {
  return new ForgeError(
    Codes.DIGEST_MISMATCH,
    `${what} blob does not match its digest: expected ${expected}, got ${got}: the registry's copy is corrupt or was tampered with; it was not stored`,
    { details: { expected, actual: got } },
  );
}

/** O_EXCL lock file holding our pid; a lock whose owner is dead is taken over. False: held by a live process. */
async function takeLock(path: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    try {
      const fh = await open(path, "wx");
      await fh.write(String(process.pid));
      await fh.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (pid > 0 && pid !== process.pid && alive(pid)) return false;
    if (pid === process.pid) return false;
    await unlink(path).catch(() => undefined);
  }
  return false;
}

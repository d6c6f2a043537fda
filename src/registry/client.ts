/**
 * An OCI distribution-spec 1.1 client for one registry: blobs (HEAD-skip, cross-repository mount,
 * monolithic and chunked upload with resume), manifests and indexes, tags, and referrers (the API,
 * or the `sha256-<hex>` tag-schema fallback kept with If-Match and a read-back check). Every blob it
 * pulls lands in the BlobCache only after its digest and size were verified.
 */

import { createHash } from "node:crypto";
import { appendFile, mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { scopeFor } from "./auth.js";
import { type BlobCache, hashFile, hexOf, sha256 } from "./cache.js";
import { withFileLock } from "./lock.js";
import { type Descriptor, ImageIndex, ImageManifest, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { DIGEST } from "./reference.js";
import { RegistryHttpError, Transport, type TransportOptions } from "./transport.js";

export interface ClientOptions extends TransportOptions {
  cache: BlobCache;
  /** Blobs up to this size go up in one PUT (default 16 MiB). */
  monolithicMax?: number;
  /** PATCH size for a chunked upload (default 32 MiB). */
  chunkSize?: number;
}

/** Where a blob's bytes come from for an upload. */
export type BlobSource = { path: string } | { bytes: Buffer };

export interface PushedBlob {
  digest: string;
  size: number;
  /** How it got there: already present (HEAD), mounted from another repository, or uploaded. */
  how: "exists" | "mounted" | "uploaded";
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  /** The parsed document (an image manifest or an index). */
  manifest: ImageManifest | ImageIndex;
}

const ACCEPT = [OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
/** Largest manifest accepted, as the distribution spec suggests registries do (4 MiB). */
const MANIFEST_MAX = 4 << 20;

export class RegistryClient {
  readonly registry: string;
  readonly cache: BlobCache;
  private readonly t: Transport;
  private readonly monolithicMax: number;
  private readonly chunkSize: number;

  constructor(registry: string, o: ClientOptions) {
    this.registry = registry;
    this.cache = o.cache;
    this.t = new Transport(registry, o);
    this.monolithicMax = o.monolithicMax ?? 16 << 20;
    this.chunkSize = o.chunkSize ?? 32 << 20;
  }

  /** GET /v2/: the registry answers (auth challenges included). */
  async ping(): Promise<void> {
    const res = await this.t.send({
      method: "GET",
      url: "/v2/",
      scope: "",
      ok: (s) => s === 200 || s === 401,
    });
    await res.body?.cancel();
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.t.send({
      method: "HEAD",
      url: `/v2/${repo}/blobs/${digest}`,
      scope: scopeFor(repo, false),
      ok: (s) => s === 200 || s === 404,
    });
    await res.body?.cancel();
    return res.status === 200;
  }

  /**
   * Puts one blob in `repo`: skipped when the registry has it, mounted when it is known in another
   * repository of this registry (from `mountFrom` or the cache's record of where it was seen), else
   * uploaded: monolithic up to `monolithicMax`, chunked above, resuming an earlier interrupted upload.
   */
  async pushBlob(
    repo: string,
    src: BlobSource,
    desc: { digest: string; size: number },
    o: { mountFrom?: string[]; onProgress?: (sent: number, total: number) => void } = {},
  ): Promise<PushedBlob> {
    const { digest, size } = desc;
    if (await this.hasBlob(repo, digest)) return { digest, size, how: "exists" };
    const sources = [...(o.mountFrom ?? []), ...(await this.seenIn(digest))].filter((r) => r !== repo);
    for (const from of new Set(sources)) {
      const res = await this.t.send({
        method: "POST",
        url: `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`,
        scope: `${scopeFor(repo, true)} ${scopeFor(from, false)}`,
        ok: (s) => s === 201 || s === 202,
        idempotent: false,
      });
      await res.body?.cancel();
      if (res.status === 201) {
        await this.noteSeen(digest, repo);
        return { digest, size, how: "mounted" };
      }
      // 202: the registry opened an ordinary upload instead; abandon it (it expires) and move on.
      break;
    }
    if (size <= this.monolithicMax) {
      const bytes = "bytes" in src ? src.bytes : await readFile(src.path);
      if (bytes.length !== size) throw changed(digest);
      const loc = await this.startUpload(repo);
      await this.finishUpload(repo, loc, digest, bytes);
      o.onProgress?.(size, size);
    } else {
      await this.chunkedUpload(repo, src, digest, size, o.onProgress);
    }
    await this.noteSeen(digest, repo);
    return { digest, size, how: "uploaded" };
  }

  private async startUpload(repo: string): Promise<string> {
    const res = await this.t.send({
      method: "POST",
      url: `/v2/${repo}/blobs/uploads/`,
      scope: scopeFor(repo, true),
      ok: (s) => s === 202,
      idempotent: false,
    });
    await res.body?.cancel();
    return this.location(res);
  }

  private location(res: Response): string {
    const loc = res.headers.get("location");
    if (!loc)
      throw new ForgeError(Codes.REGISTRY_PROTOCOL, `${this.registry} answered an upload without a Location`);
    return new URL(loc, this.t.base).toString();
  }

  private async finishUpload(repo: string, loc: string, digest: string, body?: Buffer): Promise<void> {
    const u = new URL(loc);
    u.searchParams.set("digest", digest);
    const res = await this.t.send({
      method: "PUT",
      url: u.toString(),
      scope: scopeFor(repo, true),
      headers: { "content-type": "application/octet-stream" },
      body: body ?? Buffer.alloc(0),
      ok: (s) => s === 201,
      idempotent: false,
    });
    await res.body?.cancel();
  }

  /**
   * PATCH chunks in order (Content-Range `start-end`), reading the next chunk while one is sent.
   * The session (location, offset) is saved under cache/uploads, so a later run resumes: it asks
   * the registry how much it holds (GET location → Range) and continues from there.
   */
  private async chunkedUpload(
    repo: string,
    src: BlobSource,
    digest: string | null,
    size: number,
    onProgress?: (sent: number, total: number) => void,
    key: string = digest ? hexOf(digest) : "",
  ): Promise<string> {
    const statePath = join(
      this.cache.root,
      "uploads",
      this.registry.replace(/[^a-z0-9.-]/gi, "_"),
      `${repo.replaceAll("/", "_")}-${key}.json`,
    );
    let loc: string | null = null;
    let offset = 0;
    const saved = (await readFile(statePath, "utf8").then(JSON.parse, () => null)) as {
      location?: string;
    } | null;
    if (saved?.location) {
      const status = await this.uploadStatus(repo, saved.location);
      if (status) ({ location: loc, offset } = status);
    }
    if (!loc) {
      loc = await this.startUpload(repo);
      offset = 0;
    }
    await mkdir(dirname(statePath), { recursive: true });
    const fh = "path" in src ? await open(src.path, "r") : null;
    const read = async (at: number, max = this.chunkSize): Promise<Buffer> => {
      const n = Math.min(max, size - at);
      if (!fh) return (src as { bytes: Buffer }).bytes.subarray(at, at + n);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, at);
      if (bytesRead !== n) throw changed(digest ?? "the file");
      return buf;
    };
    // Without a digest, it is computed in the same pass as the upload (one read of the file).
    let h = digest ? null : createHash("sha256");
    let hashedTo = 0;
    const hashUpTo = async (to: number) => {
      if (!h) return;
      if (hashedTo > to) {
        h = createHash("sha256");
        hashedTo = 0;
      }
      while (hashedTo < to) {
        const b = await read(hashedTo, Math.min(4 << 20, to - hashedTo));
        h.update(b);
        hashedTo += b.length;
      }
    };
    /** One PATCH body: the file range read in 1 MiB pieces, hashed as they go out. */
    const pieces = (from: number, to: number) =>
      async function* () {
        for (let at = from; at < to; ) {
          const b = await read(at, Math.min(1 << 20, to - at));
          if (h && hashedTo === at) {
            h.update(b);
            hashedTo = at + b.length;
          }
          at += b.length;
          yield b;
        }
      };
    try {
      await hashUpTo(offset);
      let retries = 0;
      while (offset < size) {
        const end = Math.min(size, offset + this.chunkSize);
        try {
          const res = await this.t.upload({
            method: "PATCH",
            url: loc,
            scope: scopeFor(repo, true),
            headers: {
              "content-type": "application/octet-stream",
              "content-range": `${offset}-${end - 1}`,
              "content-length": String(end - offset),
            },
            pieces: pieces(offset, end),
            ok: (s) => s === 202,
          });
          const next = res.headers.location;
          if (typeof next !== "string")
            throw new ForgeError(
              Codes.REGISTRY_PROTOCOL,
              `${this.registry} answered a PATCH without a Location`,
            );
          loc = new URL(next, this.t.base).toString();
          offset = end;
          retries = 0;
          await writeFile(statePath, JSON.stringify({ location: loc, offset }));
          onProgress?.(offset, size);
        } catch (err) {
          // Ask the registry what it kept, then continue from there (bounded).
          if (++retries > 3 || (err instanceof RegistryHttpError && err.status < 500 && err.status !== 416))
            throw err;
          const status = await this.uploadStatus(repo, loc);
          if (!status) throw err;
          ({ location: loc, offset } = status);
          await hashUpTo(offset);
        }
      }
      await hashUpTo(size);
      const final = digest ?? `sha256:${h!.digest("hex")}`;
      await this.finishUpload(repo, loc, final);
      await rm(statePath, { force: true });
      return final;
    } finally {
      await fh?.close();
    }
  }

  /**
   * Pushes a file whose digest is not known yet. A file this cache hashed before (same inode, size
   * and mtime) goes the pushBlob way (HEAD-skip, mount); a new large file is hashed while it is
   * uploaded, in one read; a small one is read, hashed, then pushed.
   */
  async pushFile(
    repo: string,
    path: string,
    o: { onProgress?: (sent: number, total: number) => void } = {},
  ): Promise<PushedBlob> {
    const st = await stat(path);
    const id = `${resolve(path)}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = await this.cache.knownDigest(id);
    if (known || st.size <= this.monolithicMax) {
      const digest = known ?? (await hashFile(path)).digest;
      const r = await this.pushBlob(repo, { path }, { digest, size: st.size }, o);
      await this.cache.rememberDigest(id, digest);
      return r;
    }
    const key = `f-${sha256(id).slice(7, 39)}`;
    const digest = await this.chunkedUpload(repo, { path }, null, st.size, o.onProgress, key);
    await this.cache.rememberDigest(id, digest);
    await this.noteSeen(digest, repo);
    return { digest, size: st.size, how: "uploaded" };
  }

  /** GET on an upload location: the bytes the registry holds (Range: 0-N), or null for a dead session. */
  private async uploadStatus(
    repo: string,
    loc: string,
  ): Promise<{ location: string; offset: number } | null> {
    try {
      const res = await this.t.send({
        method: "GET",
        url: loc,
        scope: scopeFor(repo, true),
        ok: (s) => s === 204,
      });
      await res.body?.cancel();
      const m = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get("range") ?? "");
      return { location: this.location(res), offset: m ? Number(m[1]) + 1 : 0 };
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 404) return null;
      throw err;
    }
  }

  /** Pulls a blob into the cache (verified, resumable) and returns its cache path. */
  async pullBlob(
    repo: string,
    desc: Descriptor,
    o: { onProgress?: (bytes: number, total: number) => void; onResume?: (offset: number) => void } = {},
  ): Promise<string> {
    const path = await this.cache.ingest(
      desc.digest,
      desc.size,
      (offset) =>
        this.t.stream({
          method: "GET",
          url: `/v2/${repo}/blobs/${desc.digest}`,
          scope: scopeFor(repo, false),
          headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
          ok: (s) => s === 200 || s === 206,
        }),
      o,
    );
    await this.noteSeen(desc.digest, repo);
    return path;
  }

  /** Fetches a manifest or index by tag or digest; its bytes are verified against the digest. */
  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const res = await this.t.send({
      method: "GET",
      url: `/v2/${repo}/manifests/${reference}`,
      scope: scopeFor(repo, false),
      headers: { accept: ACCEPT },
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MANIFEST_MAX)
      throw new ForgeError(
        Codes.REGISTRY_PROTOCOL,
        `manifest ${repo}:${reference} is larger than 4 MiB: refused`,
      );
    const digest = sha256(bytes);
    const claimed = res.headers.get("docker-content-digest");
    if (DIGEST.test(reference) && digest !== reference)
      throw new ForgeError(
        Codes.DIGEST_MISMATCH,
        `manifest ${repo}@${reference} from ${this.registry} hashes to ${digest}: refused (corrupt or tampered)`,
      );
    if (claimed && claimed !== digest)
      throw new ForgeError(
        Codes.DIGEST_MISMATCH,
        `manifest ${repo}:${reference} from ${this.registry} hashes to ${digest}, not the ${claimed} it claims: refused`,
      );
    const manifest = parseManifest(bytes, `${repo}:${reference}`);
    const mediaType =
      (manifest.mediaType as string | undefined) ?? res.headers.get("content-type") ?? OCI_MANIFEST;
    await this.cache.putBytes(digest, bytes);
    return { digest, mediaType, bytes, manifest };
  }

  /** HEAD a manifest: its digest, or null when absent. */
  async resolve(repo: string, reference: string): Promise<string | null> {
    const res = await this.t.send({
      method: "HEAD",
      url: `/v2/${repo}/manifests/${reference}`,
      scope: scopeFor(repo, false),
      headers: { accept: ACCEPT },
      ok: (s) => s === 200 || s === 404,
    });
    await res.body?.cancel();
    if (res.status === 404) return null;
    return res.headers.get("docker-content-digest") ?? (await this.getManifest(repo, reference)).digest;
  }

  /**
   * PUTs a manifest (or index) under a tag or its digest. Returns its digest and whether the
   * registry processed `subject` itself (the OCI-Subject header: a registry with a referrers API).
   */
  async putManifest(
    repo: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
    headers: Record<string, string> = {},
  ): Promise<{ digest: string; subjectHandled: boolean }> {
    const digest = sha256(bytes);
    const res = await this.t.send({
      method: "PUT",
      url: `/v2/${repo}/manifests/${reference}`,
      scope: scopeFor(repo, true),
      headers: { "content-type": mediaType, ...headers },
      body: bytes,
      ok: (s) => s === 201,
    });
    await res.body?.cancel();
    const said = res.headers.get("docker-content-digest");
    if (said && said !== digest)
      throw new ForgeError(
        Codes.REGISTRY_PROTOCOL,
        `${this.registry} stored manifest as ${said}, expected ${digest}`,
      );
    return { digest, subjectHandled: res.headers.has("oci-subject") };
  }

  /** Every tag of `repo`, following `Link` pagination. */
  async listTags(repo: string): Promise<string[]> {
    const out: string[] = [];
    let url: string | null = `/v2/${repo}/tags/list?n=1000`;
    while (url) {
      const res: Response = await this.t.send({ method: "GET", url, scope: scopeFor(repo, false) });
      const body = (await res.json()) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = res.headers.get("link");
      const m = link ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      url = m ? new URL(m[1]!, this.t.base).toString() : null;
    }
    return out;
  }

  /**
   * The artifacts whose `subject` is `digest` (optionally of one artifactType): the referrers API
   * where the registry has one, else the `sha256-<hex>` fallback index.
   */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    const res = await this.t.send({
      method: "GET",
      url: `/v2/${repo}/referrers/${digest}${q}`,
      scope: scopeFor(repo, false),
      headers: { accept: OCI_INDEX },
      ok: (s) => s === 200 || s === 404,
    });
    let list: Descriptor[];
    if (res.status === 200 && (res.headers.get("content-type") ?? "").includes(OCI_INDEX)) {
      const idx = parseManifest(Buffer.from(await res.arrayBuffer()), `referrers of ${digest}`);
      list = "manifests" in idx ? idx.manifests : [];
    } else {
      await res.body?.cancel();
      list = (await this.fallbackIndex(repo, digest))?.index.manifests ?? [];
    }
    return artifactType ? list.filter((d) => d.artifactType === artifactType) : list;
  }

  /** The fallback index at tag `sha256-<hex>`, with its ETag, or null when absent. */
  private async fallbackIndex(
    repo: string,
    subject: string,
  ): Promise<{ index: ImageIndex; etag: string | null } | null> {
    const tag = fallbackTag(subject);
    const res = await this.t.send({
      method: "GET",
      url: `/v2/${repo}/manifests/${tag}`,
      scope: scopeFor(repo, false),
      headers: { accept: OCI_INDEX },
      ok: (s) => s === 200 || s === 404,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const m = parseManifest(Buffer.from(await res.arrayBuffer()), `${repo}:${tag}`);
    if (!("manifests" in m) || !Array.isArray(m.manifests))
      throw new ForgeError(
        Codes.REGISTRY_PROTOCOL,
        `${repo}:${tag} is not an image index: the referrers fallback tag is taken`,
      );
    return { index: m as ImageIndex, etag: res.headers.get("etag") };
  }

  /**
   * Adds `desc` to the fallback index of `subject`. Writers on this host take a lock file; the PUT
   * carries If-Match (a registry that honours it refuses a stale write with 412); then the index is
   * read back and the write repeated until it holds `desc`, since some registries (Distribution
   * 2.8) ignore If-Match.
   */
  async addReferrerFallback(repo: string, subject: string, desc: Descriptor): Promise<void> {
    const lock = join(
      this.cache.root,
      "locks",
      this.registry.replace(/[^a-z0-9.-]/gi, "_"),
      repo.replaceAll("/", "_"),
      `${hexOf(subject)}.lock`,
    );
    await withFileLock(lock, async () => {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const cur = await this.fallbackIndex(repo, subject);
        if (cur?.index.manifests.some((d) => d.digest === desc.digest)) return;
        const index: ImageIndex = {
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [...(cur?.index.manifests ?? []), desc],
        };
        const bytes = Buffer.from(JSON.stringify(index));
        try {
          await this.putManifest(
            repo,
            fallbackTag(subject),
            bytes,
            OCI_INDEX,
            cur?.etag ? { "if-match": cur.etag } : { "if-none-match": "*" },
          );
        } catch (err) {
          if (err instanceof RegistryHttpError && err.status === 412) continue;
          throw err;
        }
      }
      const final = await this.fallbackIndex(repo, subject);
      if (!final?.index.manifests.some((d) => d.digest === desc.digest))
        throw new ForgeError(
          Codes.CONFLICT,
          `could not add ${desc.digest} to the referrers index of ${subject}: other writers kept overwriting it; retry`,
        );
    });
  }

  /** Repositories of this registry a blob was pulled from or pushed to (for cross-repo mounts). */
  private async seenIn(digest: string): Promise<string[]> {
    const f = join(this.cache.root, "seen", this.registry.replace(/[^a-z0-9.-]/gi, "_"), hexOf(digest));
    const text = await readFile(f, "utf8").catch(() => "");
    return [...new Set(text.split("\n").filter(Boolean))].reverse();
  }

  private async noteSeen(digest: string, repo: string): Promise<void> {
    if ((await this.seenIn(digest)).includes(repo)) return;
    const f = join(this.cache.root, "seen", this.registry.replace(/[^a-z0-9.-]/gi, "_"), hexOf(digest));
    await mkdir(dirname(f), { recursive: true });
    await appendFile(f, `${repo}\n`);
  }

  /** Hash a file to describe it (the digest a push will use). */
  static describeFile = hashFile;
}

/** The tag of the referrers fallback index: `sha256-<hex>`. */
export function fallbackTag(digest: string): string {
  return `sha256-${hexOf(digest)}`;
}

function changed(digest: string): ForgeError {
  return new ForgeError(
    Codes.ARTIFACT_INVALID,
    `the file for ${digest} changed while it was being pushed: push again`,
  );
}

export function parseManifest(bytes: Buffer, what: string): ImageManifest | ImageIndex {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new ForgeError(Codes.REGISTRY_PROTOCOL, `${what} is not JSON: ${(err as Error).message}`);
  }
  const isIndex = typeof json === "object" && json !== null && "manifests" in json;
  const r = (isIndex ? ImageIndex : ImageManifest).safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ForgeError(
      Codes.REGISTRY_PROTOCOL,
      `${what} is not a valid OCI ${isIndex ? "index" : "manifest"}: ${i.path.join(".")}: ${i.message}`,
    );
  }
  return r.data;
}

/**
 * The collector's policy bundles: signed bundle files (`*.json`, as written by
 * `forge-collector policy sign`) in one directory; the highest version is the one served.
 * With the public key, a file that does not verify is skipped, so the collector never offers a
 * bundle an agent would refuse. Two files claiming the same version with different content are
 * an operator error: loading fails rather than guessing.
 */
import { type FSWatcher, readdirSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import {
  BundleRejectedError,
  bundleSha256,
  type SignedBundle,
  verifySignedBundle,
} from "../protocol/policy-bundle.js";

export interface LoadedBundle {
  signed: SignedBundle;
  id: string;
  version: number;
  sha256: string;
  /** The file it came from. */
  file: string;
}

export interface BundleDirOptions {
  /** SPKI PEM of the signing key; when set, only bundles that verify are considered. */
  publicKeyPem?: string;
  /** Called for each file that is skipped (unreadable, not JSON, rejected). */
  onSkip?: (file: string, err: Error) => void;
}

/**
 * Reads every `*.json` in `dir` (not hidden files, not subdirectories) and returns the bundle
 * with the highest version, or null when there is none. Throws FORGE_BUNDLE_REJECTED
 * (version-reused) when two files hold different bundles with the same top version.
 */
export function loadBundleDir(dir: string, opts: BundleDirOptions = {}): LoadedBundle | null {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith(".json") && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `cannot read the policy bundle directory '${dir}': ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  let best: LoadedBundle | null = null;
  for (const name of names) {
    const file = join(dir, name);
    let loaded: LoadedBundle;
    try {
      loaded = readBundleFile(file, opts.publicKeyPem);
    } catch (err) {
      opts.onSkip?.(file, err as Error);
      continue;
    }
    if (best === null || loaded.version > best.version) best = loaded;
    else if (loaded.version === best.version && loaded.sha256 !== best.sha256) {
      throw new BundleRejectedError(
        "version-reused",
        `${best.file} and ${file} both claim version ${loaded.version} with different content; remove one`,
      );
    }
  }
  return best;
}

function readBundleFile(file: string, publicKeyPem: string | undefined): LoadedBundle {
  const doc: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (publicKeyPem !== undefined) {
    const v = verifySignedBundle(doc, publicKeyPem);
    return {
      signed: doc as SignedBundle,
      id: v.bundle.id,
      version: v.bundle.version,
      sha256: v.sha256,
      file,
    };
  }
  // Without the key the collector is only a courier; agents verify. Still refuse what is plainly no bundle.
  const d = doc as Partial<SignedBundle> | null;
  const b = d?.bundle;
  if (typeof d?.signature !== "string" || d.signature === "")
    throw new BundleRejectedError("unsigned", `${file} carries no signature`);
  if (b === undefined || typeof b.id !== "string" || !Number.isSafeInteger(b.version)) {
    throw new BundleRejectedError("malformed", `${file} is not a signed bundle`);
  }
  return { signed: doc as SignedBundle, id: b.id, version: b.version, sha256: bundleSha256(b), file };
}

export interface BundleSource {
  /** The bundle being served, or null. */
  current(): LoadedBundle | null;
  /**
   * Re-reads the directory. On failure the previous bundle stays current and the error is
   * returned (never thrown): a bad file must not take policy distribution down.
   */
  reload(): { changed: boolean; error?: Error };
  /** Called with the new bundle whenever reload() changes it. Returns an unsubscribe function. */
  onChange(listener: (b: LoadedBundle) => void): () => void;
  close(): void;
}

/**
 * A directory of bundles kept current: loaded once now (throwing on a bad directory), then on
 * reload(), and on file changes when `watch` is set (fs.watch, debounced by `debounceMs`).
 */
export function createBundleSource(
  dir: string,
  opts: BundleDirOptions & { watch?: boolean; debounceMs?: number; onError?: (err: Error) => void } = {},
): BundleSource {
  let cur = loadBundleDir(dir, opts);
  const listeners = new Set<(b: LoadedBundle) => void>();
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;

  const source: BundleSource = {
    current: () => cur,
    reload() {
      let next: LoadedBundle | null;
      try {
        next = loadBundleDir(dir, opts);
      } catch (err) {
        return { changed: false, error: err as Error };
      }
      // Never step back: agents refuse older versions anyway, so deleting the newest file changes nothing.
      if (next === null || (cur !== null && next.version <= cur.version)) {
        if (next !== null && cur !== null && next.version === cur.version && next.sha256 !== cur.sha256) {
          const err = new BundleRejectedError(
            "version-reused",
            `${next.file} replaces version ${cur.version} with different content; sign it as a new version`,
          );
          return { changed: false, error: err };
        }
        return { changed: false };
      }
      cur = next;
      for (const l of listeners) l(next);
      return { changed: true };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (timer !== null) clearTimeout(timer);
      watcher?.close();
      watcher = null;
      listeners.clear();
    },
  };

  if (opts.watch) {
    watcher = watch(dir, () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        const r = source.reload();
        if (r.error !== undefined) opts.onError?.(r.error);
      }, opts.debounceMs ?? 100);
    });
  }
  return source;
}

/**
 * The registry component's public face: open a client for a reference, push and pull artifacts,
 * find referrers. Callers never build URLs or touch the cache layout themselves.
 */
import { join } from "node:path";
import { authFileCandidates, type CredentialStore, loadCredentials } from "./auth.js";
import { BlobCache } from "./cache.js";
import { type ClientOptions, RegistryClient } from "./client.js";

export * from "./artifacts.js";
export { authFileCandidates, loadCredentials } from "./auth.js";
export { BlobCache, hashFile, sha256 } from "./cache.js";
export { fallbackTag, RegistryClient } from "./client.js";
export * from "./media-types.js";
export * from "./reference.js";
export * from "./serve.js";

export interface OpenOptions {
  /** FORGE_HOME: the cache is <home>/blobs. */
  home: string;
  insecure?: boolean;
  /** An explicit Docker-style auth file (else the default candidates). */
  authFile?: string;
  env?: Record<string, string | undefined>;
  credentials?: CredentialStore;
  extra?: Partial<ClientOptions>;
}

const caches = new Map<string, BlobCache>();

/** The blob cache of a FORGE_HOME (one instance per root, so in-process pulls de-duplicate). */
export function cacheOf(home: string): BlobCache {
  const root = join(home, "blobs");
  let c = caches.get(root);
  if (!c) {
    c = new BlobCache(root);
    caches.set(root, c);
  }
  return c;
}

/** A client for one registry (`host[:port]`), with credentials from the auth file. */
export function openClient(registry: string, o: OpenOptions): RegistryClient {
  const env = o.env ?? {};
  const credentials =
    o.credentials ??
    loadCredentials(authFileCandidates({ ...env, FORGE_HOME: o.home }, o.authFile), o.authFile !== undefined);
  return new RegistryClient(registry, {
    cache: cacheOf(o.home),
    insecure: o.insecure ?? false,
    credentials,
    ...o.extra,
  });
}

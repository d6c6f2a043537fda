/**
 * Artifact references: `oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX]` (the `oci://` prefix optional).
 * The grammar is the distribution-spec's: repository path components `[a-z0-9]+([._-][a-z0-9]+)*`,
 * tags `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. A reference always names its registry host: there is no
 * implicit default registry, so an artifact never comes from somewhere the user did not write.
 */
import { Codes, ForgeError } from "../errors.js";

export interface Reference {
  /** `host[:port]`, lower case. */
  registry: string;
  repository: string;
  tag: string | null;
  /** `sha256:<64 hex>` when pinned. */
  digest: string | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

function bad(ref: string, why: string): ForgeError {
  return new ForgeError(
    Codes.REF_INVALID,
    `invalid reference '${ref}': ${why} (write oci://HOST/REPO:TAG or oci://HOST/REPO@sha256:HEX)`,
  );
}

/** True when `s` is written as an OCI reference (`oci://…`). */
export function isOciRef(s: string): boolean {
  return s.startsWith("oci://");
}

/** Parses a reference; throws FORGE_REF_INVALID naming what is wrong. `@DIGEST` may follow a tag. */
export function parseReference(input: string): Reference {
  const ref = input.trim();
  let rest = ref.startsWith("oci://") ? ref.slice(6) : ref;
  if (/^[a-z]+:\/\//i.test(rest)) throw bad(ref, "only the oci:// scheme is understood");
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `digest '${digest}' is not sha256:<64 lowercase hex>`);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) throw bad(ref, "it names no registry host");
  const registry = rest.slice(0, slash).toLowerCase();
  if (!HOST.test(registry)) throw bad(ref, `'${registry}' is not a host[:port]`);
  let path = rest.slice(slash + 1);
  let tag: string | null = null;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `tag '${tag}' is not [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  }
  if (path === "") throw bad(ref, "it names no repository");
  for (const c of path.split("/")) {
    if (!COMPONENT.test(c)) throw bad(ref, `repository component '${c}' must be lower-case [a-z0-9._-]`);
  }
  if (tag === null && digest === null) tag = "latest";
  return { registry, repository: path, tag, digest };
}

/** The canonical text of a reference: `oci://host/repo:tag@sha256:…` (tag and digest as present). */
export function formatReference(r: Reference, withScheme = true): string {
  return `${withScheme ? "oci://" : ""}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The host part of `registry` without the port, brackets stripped (for loopback checks and policy). */
export function registryHost(registry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (m) return m[1]!.toLowerCase();
  return registry.replace(/:\d+$/, "").toLowerCase();
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts `--insecure` (plain HTTP) may reach. */
export function isLoopback(registry: string): boolean {
  const h = registryHost(registry);
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

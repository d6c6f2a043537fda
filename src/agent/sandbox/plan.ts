import { existsSync, lstatSync, realpathSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { SandboxProfile } from "../../gate/sandbox-profile.js";

/**
 * A profile made concrete for one action: absolute, real paths, the agent's own state added to
 * what is hidden. Platform code (bwrap.ts, seatbelt.ts) turns it into arguments; it does no I/O
 * beyond resolving the paths here.
 */
export interface SandboxPlan {
  name: string;
  workspace: string;
  tmp: string;
  cwd: string;
  /** Writable directories (real paths that exist). */
  write: string[];
  /** Existing paths hidden from the action: directories become empty, files read as empty. */
  hide: { path: string; dir: boolean }[];
  /** Existing paths bound read-only over the write roots: the agent's code and packaged policy pack (readable, never writable). */
  readOnly: string[];
  network: SandboxProfile["network"];
  limits: SandboxProfile["limits"];
}

export interface PlanInput {
  name: string;
  profile: SandboxProfile;
  /** executors.cwd: what `$WORKSPACE` means. */
  workspace: string;
  /** The private temp dir made for this action: what `$TMP` means. */
  tmp: string;
  /** The action's cwd (resolved against the workspace). */
  cwd: string;
  /** The user's home, for `~`. */
  home: string;
  /** The agent's own state, hidden whatever the profile says (home, socket, keys, db, policy, config). */
  protect: readonly string[];
  /** The agent's code and its packaged default pack: visible as they are, never writable (the gate's readOnly). */
  readOnly?: readonly string[];
}

/** Resolves `~`, `$WORKSPACE`, `$TMP`; follows symlinks so a bind or a hide cannot be redirected. */
export function planSandbox(i: PlanInput): SandboxPlan {
  const expand = (p: string) => {
    if (p === "$WORKSPACE" || p.startsWith("$WORKSPACE/")) return i.workspace + p.slice(10);
    if (p === "$TMP" || p.startsWith("$TMP/")) return i.tmp + p.slice(4);
    if (p === "~" || p.startsWith("~/")) return join(i.home, p.slice(1));
    return isAbsolute(p) ? p : resolve(i.workspace, p);
  };
  const write = unique(
    i.profile.write
      .map(expand)
      .map(real)
      .filter((p): p is string => p !== null),
  );
  const hide: { path: string; dir: boolean }[] = [];
  const seen = new Set<string>();
  for (const raw of [...i.profile.deny_read.map(expand), ...i.protect]) {
    // Both the path as named and where it leads are hidden: a symlink into the agent's home
    // must not become a way around the hide.
    for (const p of unique([resolve(raw), real(raw)].filter((x): x is string => x !== null))) {
      if (seen.has(p)) continue;
      const kind = kindOf(p);
      if (kind === null) continue;
      seen.add(p);
      hide.push({ path: p, dir: kind === "dir" });
    }
  }
  // Hide parents before children so a child's hide lands inside the parent's empty dir... and is
  // then not needed: drop paths under an already hidden directory.
  hide.sort((a, b) => a.path.length - b.path.length);
  const kept = hide.filter((h, k) => !hide.slice(0, k).some((p) => p.dir && within(h.path, p.path)));
  // Read-only paths under a hidden one stay hidden; the rest keep their content (a file hidden as
  // /dev/null inside a git workspace shows as modified, and `git commit -a` there fails on it).
  const readOnly = unique(
    (i.readOnly ?? [])
      .map(real)
      .filter((p): p is string => p !== null && !kept.some((h) => within(p, h.path)))
      // Outside the write roots the root's read-only bind already covers them.
      .filter((p) => write.some((w) => within(p, w))),
  );
  return {
    name: i.name,
    workspace: real(i.workspace) ?? i.workspace,
    tmp: i.tmp,
    cwd: real(i.cwd) ?? i.cwd,
    write,
    hide: kept,
    readOnly,
    network: i.profile.network,
    limits: i.profile.limits,
  };
}

export function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function kindOf(p: string): "dir" | "file" | null {
  try {
    if (!existsSync(p)) return null;
    return lstatSync(p).isDirectory() ? "dir" : "file";
  } catch {
    return null;
  }
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

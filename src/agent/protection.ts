import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalHost } from "../gate/hosts.js";
import { defaultPolicyPath } from "../gate/policy-files.js";
import type { ProtectedResources } from "../gate/protect.js";
import type { AgentConfig } from "./config.js";

/**
 * The I/O half of the gate's self-protection: what the agent must guard (its home, socket, keys,
 * evidence, policy, config, code, processes and endpoints), resolved once at start with realpath,
 * and the program directories the executor may search. The gate (src/gate/protect.ts) only
 * compares strings.
 */

/** Every spelling of `p` the kernel would accept as the same file: as given, and with symlinks resolved. */
export function spellings(p: string): string[] {
  const abs = resolve(p);
  const out = new Set([abs]);
  // realpath of the nearest existing ancestor, then the rest: a file created later is covered too.
  let head = abs;
  const tail: string[] = [];
  for (let i = 0; i < 64; i++) {
    try {
      out.add(join(realpathSync(head), ...tail));
      break;
    } catch {
      const parent = dirname(head);
      if (parent === head) break;
      tail.unshift(basename(head));
      head = parent;
    }
  }
  return [...out];
}

/** The directory the running code was loaded from (`…/dist/src` when built, `…/src` under vitest). */
export function codeRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

/** The agent's process group and session ids (Linux /proc; empty elsewhere). */
function processGroups(pid: number): number[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [Number(f[2]), Number(f[3])].filter((n) => Number.isInteger(n) && n > 1);
  } catch {
    return [];
  }
}

function endpoint(url: string | undefined): { host: string; port: number } | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url.includes("://") ? url : `http://${url}`);
    const dflt = u.protocol === "wss:" || u.protocol === "https:" ? 443 : 80;
    return { host: canonicalHost(u.hostname), port: u.port === "" ? dflt : Number(u.port) };
  } catch {
    return null;
  }
}

export interface ProtectionInput {
  config: AgentConfig;
  policyPath: string;
  reviewTokenPath: string;
  pid?: number;
}

/** What the gate must never let an action touch, for this agent. */
export function protectedResources(i: ProtectionInput): ProtectedResources {
  const c = i.config;
  const pid = i.pid ?? process.pid;
  const paths = new Set<string>();
  const add = (p: string, prefix = false) => {
    for (const s of spellings(p)) paths.add(prefix ? `${s}*` : s);
  };
  add(c.home);
  add(c.socket);
  add(c.evidence.keys);
  add(c.evidence.path, true); // -wal, -shm, -journal
  const readOnly = new Set<string>();
  // The packaged default pack is part of the code (public, in every clone): readable as it is,
  // never writable. Hidden, it read as an empty file inside a workspace holding the repository, so
  // the README's `git status` action showed it modified and `git commit -a` failed on it.
  // A configured policy file stays fully protected.
  if (resolve(i.policyPath) === resolve(defaultPolicyPath()))
    for (const s of spellings(i.policyPath)) readOnly.add(s);
  else add(i.policyPath);
  add(i.reviewTokenPath);
  if (c.policy_updates.public_key !== undefined) add(c.policy_updates.public_key);
  for (const s of c.source) if (s.startsWith("file:")) add(s.slice(5));
  for (const s of spellings(codeRoot())) readOnly.add(s);
  const endpoints = [endpoint(c.collector_url), endpoint(c.facade.listen)].filter(
    (e): e is { host: string; port: number } => e !== null,
  );
  return {
    paths: [...paths],
    readOnly: [...readOnly],
    names: [basename(c.socket), basename(i.reviewTokenPath)].filter((n) => n.length >= 6 && n.includes(".")),
    pids: [pid],
    pgids: processGroups(pid),
    processNames: ["forge-agent", basename(process.execPath)],
    endpoints,
  };
}

/**
 * The directories of `pathVar` a program may be looked up in: absolute, existing directories
 * owned by root and writable by nobody else, outside the home, the temp dirs, the workspace and
 * the agent's home. Anything else could hold a program an action wrote a moment ago.
 */
export function trustedProgramDirs(
  pathVar: string,
  avoid: readonly string[],
): { dirs: string[]; dropped: string[] } {
  const dirs: string[] = [];
  const dropped: string[] = [];
  const under = [homedir(), tmpdir(), "/tmp", "/var/tmp", "/dev/shm", ...avoid].flatMap(spellings);
  for (const d of pathVar.split(":")) {
    if (d === "" || dirs.includes(d) || dropped.includes(d)) continue;
    let ok = isAbsolute(d) && existsSync(d);
    if (ok) {
      try {
        const real = realpathSync(d);
        const st = statSync(real);
        ok =
          st.isDirectory() &&
          st.uid === 0 &&
          (st.mode & 0o022) === 0 &&
          !under.some((u) => real === u || real.startsWith(`${u}/`) || d.startsWith(`${u}/`));
      } catch {
        ok = false;
      }
    }
    (ok ? dirs : dropped).push(d);
  }
  return { dirs, dropped };
}

import type { SandboxPlan } from "./plan.js";

/**
 * The macOS Seatbelt (SBPL) profile for a plan, for `sandbox-exec -p PROFILE`. Written against the
 * public SBPL references (the profiles in /System/Library/Sandbox/Profiles, Chromium's and Codex's
 * seatbelt policies); it cannot run on Linux, so its text is what is tested here.
 * Order matters in SBPL: later rules win, so the denials of hidden paths come last.
 */
export function seatbeltProfile(plan: SandboxPlan, proxyPort?: number): string {
  const q = (p: string) => `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const lines = [
    "(version 1)",
    "(deny default)",
    "(allow process-exec)",
    "(allow process-fork)",
    "(allow signal (target same-sandbox))",
    "(allow sysctl-read)",
    "(allow mach-lookup)",
    "(allow ipc-posix-shm)",
    "(allow file-read*)",
    `(allow file-write* (literal "/dev/null") (literal "/dev/tty") (subpath ${q(plan.tmp)})${plan.write.map((w) => ` (subpath ${q(w)})`).join("")})`,
  ];
  if (plan.network.mode === "open") lines.push("(allow network*)");
  else if (plan.network.mode === "allowlist" && proxyPort !== undefined)
    lines.push(`(allow network-outbound (remote tcp "localhost:${proxyPort}"))`);
  for (const r of plan.readOnly) lines.push(`(deny file-write* (subpath ${q(r)}))`);
  for (const h of plan.hide) {
    const f = h.dir ? `(subpath ${q(h.path)})` : `(literal ${q(h.path)})`;
    lines.push(`(deny file-read* file-write* ${f})`);
  }
  return `${lines.join("\n")}\n`;
}

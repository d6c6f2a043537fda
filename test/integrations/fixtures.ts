import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../agent/helpers.js";

/**
 * What the integration tests share: a policy over shell commands (echo allowed, rm denied, deploy
 * escalated, reads allowed) and the configuration snippets of docs/integrations.md, run as written.
 */
export const SHELL_POLICY = `
bundle: { id: integrations-test, version: 1 }
defaults: { effect: deny }
rules:
  - id: echo-ok
    match: { kind: shell, program: echo }
    effect: allow
  - id: no-rm
    match: { kind: shell, program: rm }
    effect: deny
  - id: deploy-review
    match: { kind: shell, program: deploy }
    effect: escalate
  - id: read-ok
    match: { kind: file.read }
    effect: allow
  - id: mcp-read-ok
    match: { kind: tool, tool: "mcp__*__read_file" }
    effect: allow
`;

const DOC = readFileSync(join(REPO, "docs", "integrations.md"), "utf8");

/** The fenced block of `lang` in docs/integrations.md that follows the first line containing `marker`. */
export function snippet(marker: string, lang: string): string {
  const at = DOC.indexOf(marker);
  if (at < 0) throw new Error(`docs/integrations.md has no '${marker}'`);
  const open = DOC.indexOf(`\`\`\`${lang}\n`, at);
  const close = DOC.indexOf("\n```", open + 4 + lang.length);
  return DOC.slice(open + 4 + lang.length, close);
}

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A child process run to its end: `stdin` written and closed (closed at once when absent). */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env, timeout: opts.timeout });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => {
      stdout += b;
    });
    p.stderr.on("data", (b: Buffer) => {
      stderr += b;
    });
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(opts.stdin ?? "");
  });
}

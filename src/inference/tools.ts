import { createHash } from "node:crypto";
import { type Action, parseAction } from "../gate/actions.js";
import type { ToolCall } from "./backend.js";

/** Shell tools by name; `exec_command` is the Codex CLI's (`{cmd, workdir}`). */
const SHELL = new Set(["shell", "run_shell", "bash", "sh", "exec", "run_command", "exec_command"]);
const HTTP = new Set(["http_request", "fetch", "http"]);

/**
 * Maps a model's tool call onto the action the gate judges. Well-known tool names become typed
 * actions (shell, file.*, http, email.send) so policies on commands, paths and hosts apply to them;
 * anything else is `{kind:"tool", name, arguments}`. A well-known name with unusable arguments
 * throws FORGE_ACTION_INVALID rather than slipping through as a generic tool.
 */
export function toolCallToAction(call: ToolCall): Action {
  const name = call.function.name;
  const a = (call.function.arguments ?? {}) as Record<string, unknown>;
  if (SHELL.has(name)) {
    return parseAction({
      kind: "shell",
      command: a.command ?? a.cmd,
      ...((a.cwd ?? a.workdir) === undefined ? {} : { cwd: a.cwd ?? a.workdir }),
    });
  }
  switch (name) {
    case "write_file":
      return parseAction({
        kind: "file.write",
        path: a.path,
        ...(typeof a.content === "string" ? { content: a.content, content_sha256: sha256(a.content) } : {}),
      });
    case "read_file":
      return parseAction({ kind: "file.read", path: a.path });
    case "delete_file":
      return parseAction({ kind: "file.delete", path: a.path });
    case "send_email":
      return parseAction({
        kind: "email.send",
        to: typeof a.to === "string" ? [a.to] : a.to,
        ...(a.cc === undefined ? {} : { cc: typeof a.cc === "string" ? [a.cc] : a.cc }),
        subject: a.subject ?? "",
        ...(typeof a.body === "string" ? { body_sha256: sha256(a.body) } : {}),
      });
  }
  if (HTTP.has(name)) {
    return parseAction({
      kind: "http",
      method: a.method ?? "GET",
      url: a.url,
      ...(a.headers === undefined ? {} : { headers: a.headers }),
      ...(typeof a.body === "string" ? { body: a.body, body_sha256: sha256(a.body) } : {}),
    });
  }
  return parseAction({ kind: "tool", name, arguments: a });
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/**
 * What the governed-facade tests share (Ollama's and OpenAI's API against the daemon): one policy
 * with an ALLOW, a DENY and an ESCALATE for tool calls, and the tools that trigger them.
 */
export const FACADE_POLICY = `
bundle: { id: facade-test, version: 1 }
defaults: { effect: deny }
rules:
  - id: clock-ok
    match: { kind: tool, tool: get_time }
    effect: allow
  - id: no-rm
    match: { kind: shell, program: rm }
    effect: deny
  - id: email-needs-review
    match: { kind: email.send }
    effect: escalate
`;

const tool = (name: string, properties: Record<string, { type: "string"; enum: string[] }>) => ({
  type: "function" as const,
  function: { name, parameters: { type: "object", properties, required: Object.keys(properties) } },
});
// Enums leave the random-weight model exactly one choice under the grammar.
export const SHELL = tool("run_shell", { command: { type: "string", enum: ["rm -rf ~/projects"] } });
export const CLOCK = tool("get_time", { zone: { type: "string", enum: ["UTC"] } });
export const EMAIL = tool("send_email", {
  to: { type: "string", enum: ["ops@example.com"] },
  subject: { type: "string", enum: ["status"] },
});

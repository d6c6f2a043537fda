import { beforeAll, describe, expect, it } from "vitest";
import { Gate, initGate, loadPolicyText, type PolicyBundle } from "../../src/gate/index.js";

/** Gate.preview (the daemon's dry run) and Gate.deniesOutright (what the MCP gateway may hide). */
const POLICY = `
bundle: { id: preview-test, version: 1 }
defaults: { effect: deny }
rules:
  - id: secret-read
    match: { kind: file.read, paths: "~/.ssh/**" }
    effect: escalate
    labels: [secret-read]
  - id: upload-after-secret
    match: { kind: tool, tool: "mcp__*__upload" }
    when: { labels: [secret-read] }
    effect: deny
  - id: upload
    match: { kind: tool, tool: "mcp__*__upload" }
    effect: allow
  - id: no-delete
    match: { kind: tool, tool: "mcp__*__delete_*" }
    effect: deny
  - id: write-outside
    match: { kind: tool, tool: "mcp__*__write_file", paths_outside: "/work/**" }
    effect: deny
  - id: write
    match: { kind: tool, tool: "mcp__*__write_file" }
    effect: allow
  - id: secret-arg
    match: { kind: tool, tool: "mcp__*__query", arguments: { table: "^secrets$" } }
    effect: deny
  - id: query
    match: { kind: tool, tool: "mcp__*__query" }
    effect: allow
`;

let bundle: PolicyBundle;
beforeAll(async () => {
  await initGate();
  bundle = loadPolicyText(POLICY, "preview.yaml");
});
const mk = () => new Gate(bundle, { home: "/home/u", cwd: "/work" });
const tool = (name: string, args: Record<string, unknown> = {}) => ({ kind: "tool", name, arguments: args });

describe("Gate.preview", () => {
  it("decides as evaluate would, and leaves no trace in the session or the principal", () => {
    const g = mk();
    const read = { kind: "file.read", path: "/home/u/.ssh/id_rsa" };
    const before = JSON.stringify(g.exportState());
    const p = g.preview({ session_id: "s", principal: "uid:1", action: read });
    expect(p.evaluation).toBe("ESCALATE");
    expect(JSON.stringify(g.exportState())).toBe(before);
    expect(g.stats().sessions).toBe(0);
    // The real evaluation marks the session; a preview after it sees that state, and still adds none.
    expect(g.evaluate({ session_id: "s", principal: "uid:1", action: read }).evaluation).toBe("ESCALATE");
    const marked = JSON.stringify(g.exportState());
    expect(g.preview({ session_id: "s", action: tool("mcp__x__upload") }).evaluation).toBe("DENY");
    expect(g.preview({ session_id: "other", action: tool("mcp__x__upload") }).evaluation).toBe("ALLOW");
    expect(JSON.stringify(g.exportState())).toBe(marked);
  });

  it("an invalid action previews as DENY and changes nothing", () => {
    const g = mk();
    expect(g.preview({ session_id: "s", action: { kind: "nope" } }).evaluation).toBe("DENY");
    expect(g.stats().sessions).toBe(0);
  });
});

describe("Gate.deniesOutright", () => {
  const outright = (name: string, session = "s") => {
    const g = mk();
    return g.deniesOutright(g.preview({ session_id: session, action: tool(name) }));
  };
  it("is true only for a deny rule that names the tool and looks at nothing else", () => {
    expect(outright("mcp__fs__delete_file")).toBe(true);
    // Allowed, or denied only for some arguments: shown.
    expect(outright("mcp__fs__write_file")).toBe(false);
    expect(outright("mcp__db__query")).toBe(false);
    expect(outright("mcp__x__upload")).toBe(false);
    // The default effect (deny) is not outright: an argument-matching allow rule might exist.
    expect(outright("mcp__x__unknown")).toBe(false);
  });

  it("a deny under a session condition is not outright, even while the condition holds", () => {
    const g = mk();
    g.evaluate({ session_id: "s", action: { kind: "file.read", path: "/home/u/.ssh/id_rsa" } });
    const d = g.preview({ session_id: "s", action: tool("mcp__x__upload") });
    expect(d.evaluation).toBe("DENY");
    expect(g.deniesOutright(d)).toBe(false);
  });
});

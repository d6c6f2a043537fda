import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Codes, ForgeError } from "../../src/errors.js";
import { parseAction } from "../../src/gate/actions.js";
import { toGrammarSchema, toolCallSchema } from "../../src/inference/schema.js";
import { toolCallToAction } from "../../src/inference/tools.js";

const call = (name: string, args: Record<string, unknown>) => ({ function: { name, arguments: args } });

describe("toolCallToAction", () => {
  it("maps well-known tools onto typed actions", () => {
    for (const name of ["shell", "run_shell", "bash"]) {
      expect(toolCallToAction(call(name, { command: "ls -la", cwd: "/tmp" }))).toEqual({
        kind: "shell",
        command: "ls -la",
        cwd: "/tmp",
      });
    }
    // The Codex CLI's shell tool.
    expect(
      toolCallToAction(call("exec_command", { cmd: "rm -rf ~/x", workdir: "/srv", tty: false })),
    ).toEqual({
      kind: "shell",
      command: "rm -rf ~/x",
      cwd: "/srv",
    });
    expect(toolCallToAction(call("write_file", { path: "/tmp/x", content: "hi" }))).toEqual({
      kind: "file.write",
      path: "/tmp/x",
      content: "hi",
      content_sha256: "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
    });
    expect(toolCallToAction(call("read_file", { path: "~/.ssh/id_ed25519" }))).toEqual({
      kind: "file.read",
      path: "~/.ssh/id_ed25519",
    });
    expect(toolCallToAction(call("fetch", { url: "https://example.com/a" }))).toEqual({
      kind: "http",
      method: "GET",
      url: "https://example.com/a",
    });
    expect(
      toolCallToAction(call("http_request", { url: "https://x.io", method: "post", body: "b" })),
    ).toMatchObject({
      kind: "http",
      method: "POST",
      body: "b",
    });
    expect(toolCallToAction(call("send_email", { to: "a@b.io", subject: "s", body: "hello" }))).toMatchObject(
      {
        kind: "email.send",
        to: ["a@b.io"],
        cc: [],
        subject: "s",
        body_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    );
    expect(toolCallToAction(call("get_weather", { city: "Oslo" }))).toEqual({
      kind: "tool",
      name: "get_weather",
      arguments: { city: "Oslo" },
    });
  });

  it("refuses a well-known tool with unusable arguments instead of passing it off as a generic tool", () => {
    for (const [name, args] of [
      ["bash", { cmd: 42 }],
      ["run_shell", {}],
      ["write_file", { content: "x" }],
      ["fetch", { url: "not a url" }],
      ["send_email", { to: [] }],
    ] as const) {
      let err: unknown;
      try {
        toolCallToAction(call(name, args as Record<string, unknown>));
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).code).toBe(Codes.ACTION_INVALID);
    }
  });

  it("for any call: a valid action of the right kind, or FORGE_ACTION_INVALID (property)", () => {
    const names = fc.oneof(
      fc.constantFrom("shell", "bash", "write_file", "read_file", "fetch", "send_email", "delete_file"),
      fc.string({ minLength: 1, maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        names,
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        (name, args) => {
          try {
            const a = toolCallToAction(call(name, args));
            expect(parseAction(a)).toEqual(a);
            if (["shell", "bash"].includes(name)) expect(a.kind).toBe("shell");
          } catch (err) {
            expect((err as ForgeError).code).toBe(Codes.ACTION_INVALID);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("tool-call grammar schema", () => {
  it("keeps what node-llama-cpp can express and refuses what it cannot", () => {
    expect(
      toGrammarSchema({
        type: "object",
        properties: { n: { type: "integer", minimum: 1 }, s: { type: ["string", "null"], maxLength: 3 } },
        required: ["n"],
      }),
    ).toEqual({
      type: "object",
      properties: {
        n: { type: "integer" },
        s: { oneOf: [{ type: "string", maxLength: 3 }, { type: "null" }] },
      },
      required: ["n"],
    });
    expect(() => toGrammarSchema({ $ref: "#/x" })).toThrow(/not supported/);
    expect(() => toGrammarSchema({ type: "widget" })).toThrow(/unknown type/);
  });

  it("one tool: name is a constant; several: one of them", () => {
    const a = {
      type: "function" as const,
      function: { name: "a", parameters: { type: "object", properties: {} } },
    };
    const b = { type: "function" as const, function: { name: "b" } };
    expect(toolCallSchema([a])).toMatchObject({ properties: { name: { const: "a" } } });
    expect(toolCallSchema([a, b])).toMatchObject({
      oneOf: [{ properties: { name: { const: "a" } } }, { properties: { name: { const: "b" } } }],
    });
  });
});

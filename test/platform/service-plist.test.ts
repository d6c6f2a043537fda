// The generated plist is read back by a real plist parser: Debian's plistutil (libplist).
// Our XML -> plistutil -> binary plist -> plistutil -> XML, then that XML is decoded and compared
// value by value with what we meant to write.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { launchdJob, launchdPlist } from "../../src/platform/service/launchd.js";
import { escapeXml, type PlistValue, toPlistXml } from "../../src/platform/service/plist.js";
import { resolveServiceSpec } from "../../src/platform/service/spec.js";
import { missing } from "../support/tools.js";

const dir = mkdtempSync(join(tmpdir(), "forge-plist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Round-trips `xml` through libplist's parser and binary writer; returns libplist's XML. */
function throughPlistutil(xml: string): string {
  const src = join(dir, `p${++n}.plist`);
  const bin = `${src}.bin`;
  writeFileSync(src, xml);
  execFileSync("plistutil", ["-i", src, "-o", bin, "-f", "bin"]);
  return execFileSync("plistutil", ["-i", bin, "-f", "xml"], { encoding: "utf8" });
}

/** Decodes libplist's XML output (its own, regular format) into values. Test-side only. */
function decodePlist(xml: string): PlistValue {
  const body = xml.slice(xml.indexOf(">", xml.indexOf("<plist ")) + 1);
  const tokens = [...body.matchAll(/<(\/?)([a-z]+)(\/?)>|([^<]+)/g)];
  let i = 0;
  const unXml = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const text = (): string => {
    const t = tokens[i]!;
    if (t[4] !== undefined) {
      i++;
      return unXml(t[4]);
    }
    return "";
  };
  const skipWs = () => {
    while (tokens[i]?.[4] !== undefined && /^\s*$/.test(tokens[i]![4]!)) i++;
  };
  const value = (): PlistValue => {
    skipWs();
    const [, close, tag, selfClose] = tokens[i++]!;
    if (close) throw new Error(`unexpected </${tag}>`);
    if (tag === "true" || tag === "false") return tag === "true";
    if (selfClose) return tag === "dict" ? {} : [];
    if (tag === "string" || tag === "integer") {
      const s = text();
      i++; // closing tag
      return tag === "integer" ? Number(s) : s;
    }
    if (tag === "array") {
      const out: PlistValue[] = [];
      for (skipWs(); tokens[i]![1] !== "/"; skipWs()) out.push(value());
      i++;
      return out;
    }
    if (tag === "dict") {
      const out: Record<string, PlistValue> = {};
      for (skipWs(); tokens[i]![1] !== "/"; skipWs()) {
        i++; // <key>
        const k = text();
        i++; // </key>
        out[k] = value();
      }
      i++;
      return out;
    }
    throw new Error(`unexpected <${tag}>`);
  };
  return value();
}

const base = {
  uid: 501,
  homedir: "/Users/alice",
  node: "/opt/homebrew/bin/node",
  script: "/opt/forge agent/bin/forge-agent.js",
} as const;

describe.skipIf(missing("plistutil"))("launchd plist read by plistutil", () => {
  for (const scope of ["system", "user"] as const) {
    it(`${scope}: every key survives libplist's parser with the value we meant`, () => {
      const spec = resolveServiceSpec({
        ...base,
        target: "launchd",
        scope,
        config: "/etc/forge/agent.yaml",
        env: { FORGE_COLLECTOR_URL: "ws://collector.local:7070/ingest?a=1&b=2" },
      });
      const xml = launchdPlist(spec);
      const back = throughPlistutil(xml);
      // Same bytes: libplist parsed and re-wrote exactly what we wrote.
      expect(back).toBe(xml);
      const job = decodePlist(back) as Record<string, PlistValue>;
      expect(job).toEqual(launchdJob(spec));
      expect(Object.keys(job)).toEqual([
        "Label",
        "ProgramArguments",
        "WorkingDirectory",
        "EnvironmentVariables",
        "RunAtLoad",
        "KeepAlive",
        "ThrottleInterval",
        "ExitTimeOut",
        "StandardOutPath",
        "StandardErrorPath",
      ]);
      expect(job.Label).toBe("dev.forge.agent");
      expect(job.ProgramArguments).toEqual([
        "/opt/homebrew/bin/node",
        "/opt/forge agent/bin/forge-agent.js",
        "run",
        "--config",
        "/etc/forge/agent.yaml",
      ]);
      expect(job.RunAtLoad).toBe(true);
      expect(job.KeepAlive).toBe(true);
      expect(job.ThrottleInterval).toBe(10);
      const env = job.EnvironmentVariables as Record<string, string>;
      expect(env.FORGE_COLLECTOR_URL).toBe("ws://collector.local:7070/ingest?a=1&b=2");
      if (scope === "user") {
        expect(job.WorkingDirectory).toBe("/Users/alice/Library/Application Support/forge-agent");
        expect(env.FORGE_HOME).toBe("/Users/alice/Library/Application Support/forge-agent");
        expect(job.StandardOutPath).toBe("/Users/alice/Library/Logs/forge-agent/forge-agent.out.log");
        expect(job.StandardErrorPath).toBe("/Users/alice/Library/Logs/forge-agent/forge-agent.err.log");
        expect(spec.filePath).toBe("/Users/alice/Library/LaunchAgents/dev.forge.agent.plist");
      } else {
        expect(job.WorkingDirectory).toBe("/Library/Application Support/forge-agent");
        expect(env.FORGE_HOME).toBe("/Library/Application Support/forge-agent");
        expect(job.StandardOutPath).toBe("/Library/Logs/forge-agent/forge-agent.out.log");
        expect(spec.filePath).toBe("/Library/LaunchDaemons/dev.forge.agent.plist");
      }
      expect(env.PATH!.split(":")[0]).toBe("/opt/homebrew/bin");
    });
  }

  it("empty containers, booleans and integers round-trip", () => {
    const v: PlistValue = { a: [], b: {}, c: false, d: -7, e: [true, "x", { f: 0 }] };
    expect(decodePlist(throughPlistutil(toPlistXml(v)))).toEqual(v);
  });

  it("refuses non-integers and strings XML cannot carry", () => {
    expect(() => toPlistXml({ a: 1.5 })).toThrow(expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }));
    for (const bad of ["a\u0000b", "\u0007", "x\uFFFE", "\uD800", "a\uDC00b"]) {
      expect(() => escapeXml(bad)).toThrow(expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }));
    }
  });
});

describe.skipIf(missing("plistutil"))("XML escaping, property-tested against plistutil", () => {
  const representable = (s: string) =>
    !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(
      s,
    );
  // Any code point XML can carry, with XML's specials, CR/LF/tab and odd Unicode over-represented.
  const odd = fc.oneof(
    fc.string({ unit: "binary", maxLength: 24 }).filter(representable),
    fc.string({
      unit: fc.constantFrom(
        "&",
        "<",
        ">",
        '"',
        "'",
        "\r",
        "\n",
        "\t",
        " ",
        "]]>",
        "&amp;",
        "é",
        "😀",
        "\u0085",
        "\u2028",
        "\u007F",
      ),
      maxLength: 16,
    }),
  );

  it("env values and a path with odd characters round-trip through plistutil exactly", () => {
    fc.assert(
      fc.property(fc.array(odd, { minLength: 1, maxLength: 12 }), odd, (values, dirName) => {
        const env: Record<string, string> = {};
        values.forEach((v, k) => {
          env[`V${k}`] = v;
        });
        // Paths are normalised ("//", "/./", "..", a trailing "/") before they are written.
        const home = resolve(`/Users/alice/${dirName}`);
        const xml = launchdPlist(
          resolveServiceSpec({ ...base, target: "launchd", scope: "user", home, env }),
        );
        const job = decodePlist(throughPlistutil(xml)) as Record<string, PlistValue>;
        const got = job.EnvironmentVariables as Record<string, string>;
        for (const [k, v] of Object.entries(env)) expect(got[k]).toBe(v);
        expect(job.WorkingDirectory).toBe(home);
        expect(got.FORGE_HOME).toBe(home);
      }),
      { numRuns: 150 },
    );
  });

  it("a character XML cannot carry anywhere in a value is refused with FORGE_SERVICE_INVALID", () => {
    const bad = fc.constantFrom(
      "\u0000",
      "\u0001",
      "\u0008",
      "\u000B",
      "\u001F",
      "\uFFFE",
      "\uFFFF",
      "\uD800",
      "\uDFFF",
    );
    fc.assert(
      fc.property(odd, bad, odd, (pre, b, post) => {
        const env = { V: `${pre}${b}${post}` };
        expect(() =>
          launchdPlist(resolveServiceSpec({ ...base, target: "launchd", scope: "user", env })),
        ).toThrow(expect.objectContaining({ code: "FORGE_SERVICE_INVALID" }));
      }),
      { numRuns: 200 },
    );
  });
});

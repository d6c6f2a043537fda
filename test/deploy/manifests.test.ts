// deploy/ checked offline against this repository, NOT against the Kubernetes or Argo CD schemas
// (no schema package is installed here): every YAML document parses; each names apiVersion, kind
// and metadata.name; the Job runs `forge-agent train` once (restartPolicy Never, backoffLimit 0);
// the Argo CD Application points at a directory that exists; the commands, flags and environment
// variables the manifests use are ones the CLIs and configs know; the Dockerfile copies only paths
// that exist.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const REPO = join(import.meta.dirname, "../..");
const DEPLOY = join(REPO, "deploy");
// biome-ignore lint/suspicious/noExplicitAny: manifests are read by shape
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: any };

function docs(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const sub of ["k8s", "argocd"])
    for (const f of readdirSync(join(DEPLOY, sub)).filter((x) => x.endsWith(".yaml"))) {
      const text = readFileSync(join(DEPLOY, sub, f), "utf8");
      for (const d of parseAllDocuments(text)) {
        expect(d.errors, `${sub}/${f}`).toEqual([]);
        out.push({ file: `${sub}/${f}`, doc: d.toJS() as Doc });
      }
    }
  return out;
}

describe("deploy/ manifests (offline, structural)", () => {
  const all = docs();
  const byKind = (k: string) => all.filter((d) => d.doc.kind === k).map((d) => d.doc);

  it("every document names apiVersion, kind and metadata.name", () => {
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of all) {
      expect(doc.apiVersion, file).toMatch(/^[a-z0-9.]*\/?v[0-9a-z]+$/);
      expect(doc.kind, file).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(doc.metadata?.name, file).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it("the training Job runs forge-agent train once, on a job file from its volume", () => {
    const [job] = byKind("Job");
    const pod = job!.spec.template.spec;
    expect(job!.spec.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe("Never");
    const c = pod.containers[0];
    expect(c.args[0]).toMatch(/^\/jobs\/.+\.yaml$/);
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain("/jobs");
    const docker = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");
    expect(docker).toMatch(/ENTRYPOINT \["node", "\/opt\/forge-agent\/bin\/forge-agent\.js", "train"\]/);
    // Every env var set is one the agent reads.
    const agentConfig = readFileSync(join(REPO, "src/agent/config.ts"), "utf8");
    for (const e of c.env) expect(agentConfig, e.name).toContain(e.name);
  });

  it("the Dockerfile copies only paths that exist (dist after npm run build)", () => {
    const docker = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");
    const copies = [...docker.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "));
    expect(copies.length).toBeGreaterThan(3);
    for (const p of copies) if (p !== "dist") expect(existsSync(join(REPO, p)), p).toBe(true);
  });

  it("the collector runs with flags and environment the collector knows", () => {
    const [dep] = byKind("Deployment");
    const c = dep!.spec.template.spec.containers[0];
    expect(c.command.at(-2)).toBe("/opt/forge-agent/bin/forge-collector.js");
    expect(existsSync(join(REPO, "bin/forge-collector.js"))).toBe(true);
    const run = readFileSync(join(REPO, "src/cli/collector-run.ts"), "utf8");
    for (const a of c.args.filter((x: string) => x.startsWith("--")))
      expect(run.includes(`${a.slice(2)}:`) || run.includes(`"${a.slice(2)}":`), a).toBe(true);
    const cfg = readFileSync(join(REPO, "src/collector/config.ts"), "utf8");
    for (const e of c.env) expect(cfg, e.name).toContain(e.name);
    expect(byKind("StatefulSet")[0]!.spec.template.spec.containers[0].image).toMatch(/^postgres:/);
  });

  it("the Argo CD Application syncs a directory of this repository", () => {
    const [app] = byKind("Application");
    expect(app!.apiVersion).toBe("argoproj.io/v1alpha1");
    expect(existsSync(join(REPO, app!.spec.source.path))).toBe(true);
  });
});

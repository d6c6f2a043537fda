// deploy/ checked offline. Against the published schemas: every document is validated with
// kubernetes-models (the Kubernetes OpenAPI schemas compiled for ajv) or @kubernetes-models/argo-cd
// (Argo CD's CRD schema), and planted errors are shown caught. Those schemas check types, enums,
// formats and required fields; they do NOT reject unknown field names (the API server's strict
// field validation does that, and there is no API server here). Against this repository: each
// document names apiVersion, kind and metadata.name; the Job runs `forge-agent train` once
// (restartPolicy Never, backoffLimit 0); the Argo CD Application points at a directory that exists;
// the commands, flags and environment variables the manifests use are ones the CLIs and configs
// know; the Dockerfile copies only paths that exist.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { ConfigMap, PersistentVolumeClaim, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { COLLECTOR } from "../../src/cli/spec.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { parseJobText } from "../../src/training/spec.js";

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

/** apiVersion/kind → the published model; a document of any other type fails (add its model here). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "batch/v1/Job": Job,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "argoproj.io/v1alpha1/Application": Application,
};

/** The schema's complaint about `doc`, or null when it validates. */
function schemaError(doc: Doc): string | null {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) return `no schema for ${doc.apiVersion} ${doc.kind}`;
  try {
    new Model(structuredClone(doc) as never).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("deploy/ manifests against the Kubernetes and Argo CD schemas (kubernetes-models 5.1.0, @kubernetes-models/argo-cd 4.0.0)", () => {
  const all = docs();

  it("every document validates against its type's schema", () => {
    expect(all.map((d) => `${d.file}: ${d.doc.kind}`)).toEqual([
      "k8s/collector.yaml: Deployment",
      "k8s/collector.yaml: Service",
      "k8s/postgres.yaml: StatefulSet",
      "k8s/postgres.yaml: Service",
      "k8s/training-job.yaml: ConfigMap",
      "k8s/training-job.yaml: PersistentVolumeClaim",
      "k8s/training-job.yaml: Job",
      "argocd/application.yaml: Application",
    ]);
    for (const { file, doc } of all) expect(schemaError(doc), file).toBeNull();
  });

  it("planted errors are caught: a wrong type, a missing required field, a value outside an enum, an unknown apiVersion", () => {
    const job = all.find((d) => d.doc.kind === "Job")!.doc;
    const app = all.find((d) => d.doc.kind === "Application")!.doc;
    const planted = (doc: Doc, plant: (d: Doc) => void): string | null => {
      const copy = structuredClone(doc);
      plant(copy);
      return schemaError(copy);
    };
    expect(
      planted(job, (d) => {
        d.spec.backoffLimit = "0";
      }),
    ).toMatch(/spec\/backoffLimit must be integer/);
    expect(
      planted(job, (d) => {
        delete d.spec.template.spec.containers[0].name;
      }),
    ).toMatch(/containers\/0 must have required property '?name'?/);
    expect(
      planted(job, (d) => {
        d.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
      }),
    ).toMatch(/imagePullPolicy must be equal to one of the allowed values/);
    expect(
      planted(app, (d) => {
        delete d.spec.destination;
      }),
    ).toMatch(/must have required property '?destination'?/);
    expect(
      planted(app, (d) => {
        d.spec.syncPolicy.automated.selfHeal = "yes";
      }),
    ).toMatch(/selfHeal must be boolean/);
    expect(
      planted(job, (d) => {
        d.apiVersion = "batch/v2";
      }),
    ).toMatch(/no schema for batch\/v2 Job/);
    // The limit, shown: a misspelt field name passes these schemas.
    expect(
      planted(job, (d) => {
        d.spec.template.spec.containers[0].imagePullPolicyy = "Always";
      }),
    ).toBeNull();
  });
});

describe("deploy/ manifests (offline, against this repository)", () => {
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

  it("the Job's volumes are declared here: its job file validates (torch, paths on the state volume)", () => {
    const [job] = byKind("Job");
    const pod = job!.spec.template.spec;
    const vol = (n: string) => pod.volumes.find((v: { name: string }) => v.name === n);
    const [cm] = byKind("ConfigMap");
    expect(vol("job").configMap.name).toBe(cm!.metadata!.name);
    expect(vol("state").persistentVolumeClaim.claimName).toBe(
      byKind("PersistentVolumeClaim")[0]!.metadata!.name,
    );
    // The mounted file through the real job schema (a typo or a bad value fails here, file:line).
    const file = pod.containers[0].args[0] as string;
    const spec = parseJobText((cm as { data: Record<string, string> }).data[basename(file)]!, file);
    expect(spec.trainer).toBe("torch");
    expect(spec.dataset.sha256).toBe(createHash("sha256").update(generatedCorpus()).digest("hex"));
    // Writable paths: the ConfigMap's mount is read-only; checkpoints and the export go to the volume.
    const state = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === "state").mountPath;
    for (const p of [spec.checkpoints.dir!, spec.export!.gguf])
      expect(p.startsWith(`${state}/`), p).toBe(true);
    // The cluster's memory limit holds the job's own memory budget.
    expect(spec.budgets.max_memory_mb!).toBeLessThanOrEqual(
      Number.parseInt(pod.containers[0].resources.limits.memory) * 1024,
    );
  });

  it("the Dockerfile copies only paths that exist, and builds in a stage of its own", () => {
    const docker = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");
    // COPY --from=build copies out of the build stage; every other COPY copies from the repository.
    const copies = [...docker.matchAll(/^COPY (?!--from=)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(" "));
    expect(copies.length).toBeGreaterThan(3);
    for (const p of copies) expect(existsSync(join(REPO, p)), p).toBe(true);
    // The build stage runs npm ci (native build, tsc); the runtime stage takes its outputs.
    expect(docker).toMatch(/^FROM \S+ AS build$/m);
    expect(docker).toMatch(/^RUN npm ci && npm prune --omit=dev$/m);
    for (const out of ["node_modules", "dist", "native/build"])
      expect(docker).toContain(`COPY --from=build /src/${out} ./${out}`);
  });

  it("the collector runs with flags and environment the collector knows", () => {
    const [dep] = byKind("Deployment");
    const c = dep!.spec.template.spec.containers[0];
    expect(c.command.at(-2)).toBe("/opt/forge-agent/bin/forge-collector.js");
    expect(existsSync(join(REPO, "bin/forge-collector.js"))).toBe(true);
    // Every flag the manifest passes is one `forge-collector run` takes (its spec, src/cli/spec.ts).
    for (const a of c.args.filter((x: string) => x.startsWith("--")))
      expect(Object.keys(COLLECTOR.run.flags), a).toContain(a.slice(2).split("=")[0]);
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

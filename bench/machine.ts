/**
 * The machine record of a benchmark run: enough about the host, the native addon and the model
 * that runs from different hosts compare honestly (chip, cores, memory, OS, Node, addon build,
 * backend, model digest, date).
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { cpus, hostname, loadavg, release, totalmem } from "node:os";
import si from "systeminformation";
import { defaultAddonPath, mlxMemory, native } from "../src/platform/native.js";
import type { Machine } from "./report.js";

export interface MachineInput {
  backend: "llama" | "ollama" | "openai";
  /** The model as the user named it; undefined = the generated tiny model. */
  model: string | undefined;
  /** A GGUF file to digest (llama backend). */
  modelPath?: string;
  /** ollama/openai base URL, for the server's own digest. */
  inferenceHost?: string;
  /** What to call the generated tiny model in the record. */
  defaultModelName?: string;
}

/** sha256 of a file, streamed (a multi-GB GGUF costs about a second per GB). */
export function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

function addonBuild(): Machine["addon"] {
  const path = defaultAddonPath();
  try {
    const addon = native();
    const mlx = mlxMemory();
    return {
      path,
      loaded: true,
      abi: addon.abi,
      mlx: mlx.available,
      ...(mlx.available ? {} : { mlx_reason: mlx.reason }),
    };
  } catch (err) {
    return { path, loaded: false, error: (err as Error).message, abi: null, mlx: false };
  }
}

/** The digest the model server reports for `model` (Ollama /api/tags), or null and why. */
async function serverDigest(
  host: string,
  model: string | undefined,
): Promise<{ digest: string | null; note: string }> {
  try {
    const res = await fetch(new URL("/api/tags", host), { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return { digest: null, note: `${host}/api/tags answered HTTP ${res.status}` };
    const body = (await res.json()) as { models?: Array<{ name?: string; model?: string; digest?: string }> };
    const hit = body.models?.find((m) => m.name === model || m.model === model);
    return hit?.digest
      ? { digest: hit.digest, note: `digest reported by the Ollama server at ${host}` }
      : { digest: null, note: `model '${model}' is not listed by ${host}/api/tags` };
  } catch (err) {
    return { digest: null, note: `no answer from ${host} (${(err as Error).message})` };
  }
}

/** Describes this host and the model under test. Never throws for a missing part: it says what is missing. */
export async function describeMachine(input: MachineInput): Promise<Machine> {
  const [cpu, os] = await Promise.all([si.cpu(), si.osInfo()]);
  const logical = cpus();
  let model_digest: string | null = null;
  let model_digest_note: string | undefined;
  let model_bytes: number | null = null;
  if (input.backend === "llama" && input.modelPath !== undefined) {
    model_digest = await fileSha256(input.modelPath);
    model_bytes = statSync(input.modelPath).size;
    model_digest_note = "sha256 of the GGUF file";
  } else if (input.backend === "ollama") {
    const d = await serverDigest(input.inferenceHost ?? "http://127.0.0.1:11434", input.model);
    model_digest = d.digest;
    model_digest_note = d.note;
  } else {
    model_digest_note =
      input.backend === "openai"
        ? "the OpenAI-compatible API does not report a model digest"
        : "no model loaded: the inference suite was not selected";
  }
  return {
    hostname: hostname(),
    chip: logical[0]?.model.trim() || `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cores: {
      logical: logical.length || cpu.cores,
      physical: cpu.physicalCores || null,
      performance: Number.isInteger(cpu.performanceCores) ? (cpu.performanceCores as number) : null,
      efficiency: Number.isInteger(cpu.efficiencyCores) ? (cpu.efficiencyCores as number) : null,
    },
    memory_bytes: totalmem(),
    os: {
      platform: process.platform,
      arch: process.arch,
      release: release(),
      name: `${os.distro} ${os.release}`.trim(),
    },
    node: { version: process.version, v8: process.versions.v8, abi: process.versions.modules },
    addon: addonBuild(),
    backend: input.backend,
    model: input.model ?? input.defaultModelName ?? "default",
    model_digest,
    ...(model_digest_note === undefined ? {} : { model_digest_note }),
    model_bytes,
    load_average: { start: loadavg(), end: null },
    date: new Date().toISOString(),
  };
}

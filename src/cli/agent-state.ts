import { callAgent } from "../agent/client.js";

/** What `forge-agent status` and `doctor` learn about the agent on a socket from its /v1/health. */
export interface AgentState {
  running: boolean;
  socket: string;
  /** Why it is not running (nothing answers, or an answer that is not an agent's). */
  reason?: string;
  pid?: number;
  version?: string | null;
  uptime_s?: number;
  host_id?: string;
  policy?: { id: string; version: number; sha256: string; source?: string };
  backend?: string;
  models?: { backend: string; model: string | null; admission?: { stage: string | null; exempt: boolean } }[];
  /** The loopback TCP address of the Ollama facade, or null (socket only). */
  facade?: string | null;
  collector_url?: string | null;
  collector?: {
    connected: boolean;
    backlog: number;
    lastAckedSeq: number;
    error: { code: string; reason: string; message: string; fix: string; at: string } | null;
  } | null;
  evidence?: { last_seq?: number };
}

/** Asks the agent on `socket` for its health; a missing or silent agent is `running: false`, never a throw. */
export async function agentState(socket: string, timeoutMs = 3000): Promise<AgentState> {
  let r: { status: number; body: unknown };
  try {
    r = await callAgent(socket, "GET", "/v1/health", undefined, timeoutMs);
  } catch (err) {
    return { running: false, socket, reason: (err as Error).message };
  }
  const b = r.body as Record<string, unknown> | null;
  if (r.status !== 200 || b === null || typeof b !== "object" || typeof b.pid !== "number")
    return {
      running: false,
      socket,
      reason: `${socket} answered, but not as a forge-agent (HTTP ${r.status})`,
    };
  return { ...(b as Omit<AgentState, "running" | "socket">), running: true, socket };
}

/** The human lines for an agent's state (status prints them; one line per fact). */
export function formatAgent(a: AgentState): string[] {
  if (!a.running)
    return [
      `agent:     not running (${a.reason ?? "no answer"})`,
      `socket:    ${a.socket}`,
      "           start it: npm start (from the repository), or forge-agent run, or forge-agent install",
    ];
  const lines = [
    `agent:     running (pid ${a.pid}, up ${a.uptime_s ?? "?"} s${a.version ? `, version ${a.version}` : ""})`,
    `socket:    ${a.socket}`,
  ];
  if (a.policy)
    lines.push(`policy:    ${a.policy.id}@${a.policy.version} (sha256 ${a.policy.sha256.slice(0, 12)}…)`);
  const c = a.collector;
  if (a.collector_url === null || a.collector_url === undefined)
    lines.push("collector: none configured (records stay in the local store)");
  else if (c?.connected)
    lines.push(
      `collector: connected to ${a.collector_url} (acked seq ${c.lastAckedSeq}, backlog ${c.backlog})`,
    );
  else if (c?.error)
    lines.push(
      `collector: NOT CONNECTED to ${a.collector_url}: ${c.error.code} (${c.error.reason}): ${c.error.message}`,
      `           fix: ${c.error.fix}`,
    );
  else lines.push(`collector: connecting to ${a.collector_url} (backlog ${c?.backlog ?? "?"})`);
  const m = a.models ?? [];
  if (m.length === 0) lines.push(`model:     none (backend ${a.backend ?? "none"})`);
  for (const x of m) {
    const adm = x.admission
      ? x.admission.exempt
        ? "exempt smoke-test model"
        : `admission: stage ${x.admission.stage ?? "none (unpromoted)"}`
      : "not loaded yet";
    lines.push(`model:     ${x.model ?? "the generated smoke-test model"} (${x.backend}; ${adm})`);
  }
  lines.push(
    `ollama:    ${a.facade ? `OLLAMA_HOST=http://${a.facade}` : "socket only (facade.listen unset)"}`,
  );
  return lines;
}

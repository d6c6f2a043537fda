/**
 * Policy distribution: the newest signed bundle of the policy directory (policy-bundles.ts) is
 * sent as `policy {bundle, signature, key_id}` to every agent when it authenticates and to every
 * connected agent when the directory changes. Agents answer `policy_result`; a rejection becomes
 * a stored alert. GET /v1/policy shows the bundle served and what each host said.
 */
import type { CollectorContext, Connection, Message } from "./context.js";
import type { BundleSource, LoadedBundle } from "./policy-bundles.js";

interface HostResult {
  ok: boolean;
  version: number | null;
  reason: string | null;
  message: string | null;
  at_ms: number;
}

export class PolicyPush {
  private readonly results = new Map<string, HostResult>();

  constructor(
    private readonly ctx: CollectorContext,
    private readonly source: BundleSource,
  ) {}

  register(): void {
    const { ctx } = this;
    ctx.authenticated.push((conn) => this.offer(conn));
    this.source.onChange((b) => {
      ctx.logger.info(
        { id: b.id, version: b.version, file: b.file },
        "new policy bundle; pushing to connected agents",
      );
      for (const conn of ctx.hosts.values()) this.offer(conn, b);
    });
    ctx.messages.set("policy_result", async (conn, msg) => this.onResult(conn.host!.host_id, msg));
    ctx.routes.add("GET", "/v1/policy", () => {
      const b = this.source.current();
      return {
        json: {
          current:
            b === null
              ? null
              : { id: b.id, version: b.version, sha256: b.sha256, key_id: b.signed.key_id, file: b.file },
          hosts: Object.fromEntries(this.results),
        },
      };
    });
  }

  private offer(conn: Connection, b: LoadedBundle | null = this.source.current()): void {
    if (b === null) return;
    const { bundle, signature, key_id } = b.signed;
    conn.send({ type: "policy", bundle, signature, key_id });
  }

  private async onResult(hostId: string, msg: Message): Promise<void> {
    const r: HostResult = {
      ok: msg.ok === true,
      version: typeof msg.version === "number" ? msg.version : null,
      reason: typeof msg.reason === "string" ? msg.reason : null,
      message: typeof msg.message === "string" ? msg.message.slice(0, 500) : null,
      at_ms: Date.now(),
    };
    this.results.set(hostId, r);
    if (!r.ok) {
      await this.ctx.alert({
        host_id: hostId,
        code: `policy-rejected:${r.reason ?? "unknown"}`,
        seq: null,
        message: `host refused policy bundle version ${r.version ?? "?"}: ${r.message ?? ""}`,
      });
    }
  }
}

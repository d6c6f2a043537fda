import { createPrompt, isDownKey, isUpKey, useEffect, useKeypress, useRef, useState } from "@inquirer/core";
import type { ActionView } from "../agent/actions.js";
import { printable, reviewLines } from "./review-view.js";

/** What `review watch` needs from the agent; the command wires these to the socket API. */
export interface WatchSource {
  /** The pending reviews, oldest first. */
  load(): Promise<ActionView[]>;
  /** Approves or denies one; resolves with the lines to show (the outcome, an executed action's result). */
  decide(id: string, decision: "approve" | "deny"): Promise<string[]>;
  /** Called once for each escalation that appears after the first load (the desktop notification). */
  onNew?(r: ActionView): void;
  /** ms between two loads. */
  intervalMs: number;
}

const HELP = "↑/↓ select · a approve · d deny · q quit";

/**
 * The live review list: reloads every `intervalMs`, keeps the selection on the same action when
 * the list changes, and decides the selected one on a key. One decision at a time: keys are
 * ignored while one is in flight. Resolves when the reviewer quits (q, Esc); Ctrl-C rejects with
 * inquirer's ExitPromptError, as any inquirer prompt.
 */
export const watchReviews = createPrompt<void, WatchSource>((src, done) => {
  const [reviews, setReviews] = useState<ActionView[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const seen = useRef<Set<string> | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        const list = await src.load();
        if (stopped) return;
        const ids = new Set(list.map((r) => r.action_id));
        if (seen.current !== null) {
          for (const r of list) if (!seen.current.has(r.action_id)) src.onNew?.(r);
        }
        seen.current = ids;
        setReviews(list);
        setNow(Date.now());
      } catch (err) {
        if (!stopped) setMessage([`cannot load the reviews: ${printable((err as Error).message)}`]);
      }
      if (!stopped) timer = setTimeout(() => void tick(), src.intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const list = reviews ?? [];
  const index = Math.max(
    0,
    list.findIndex((r) => r.action_id === selected),
  );
  const current = list[index];

  useKeypress(async (key) => {
    if (key.name === "q" || key.name === "escape") {
      done();
      return;
    }
    if (busy || list.length === 0) return;
    if (isUpKey(key) || isDownKey(key)) {
      const next = Math.min(list.length - 1, Math.max(0, index + (isUpKey(key) ? -1 : 1)));
      setSelected(list[next]!.action_id);
      return;
    }
    if ((key.name === "a" || key.name === "d") && current !== undefined) {
      const decision = key.name === "a" ? "approve" : "deny";
      setBusy(true);
      setMessage([`${decision === "approve" ? "approving" : "denying"} ${current.action_id}…`]);
      try {
        setMessage(await src.decide(current.action_id, decision));
        const after = list.filter((r) => r.action_id !== current.action_id);
        setReviews(after);
        setSelected(after[Math.min(index, after.length - 1)]?.action_id ?? null);
      } catch (err) {
        setMessage([`${current.action_id}: ${printable((err as Error).message)}`]);
      }
      setBusy(false);
    }
  });

  const head =
    reviews === null
      ? "forge-agent review watch: loading…"
      : `forge-agent review watch: ${list.length} pending  (${HELP})`;
  const body =
    reviews === null
      ? []
      : list.length === 0
        ? ["  no pending reviews: waiting for escalations"]
        : list.flatMap((r, i) =>
            reviewLines(r, now).map((l, j) => (j === 0 ? `${i === index ? "❯" : " "} ${l}` : `  ${l}`)),
          );
  return [head, [...body, ...(message.length > 0 ? ["", ...message] : [])].join("\n")].join("\n");
});

import { execFile } from "node:child_process";

/** Runs a program with argv (no shell); resolves whether it exited 0. The seam tests replace via PATH. */
export type Run = (file: string, args: string[]) => Promise<boolean>;

const run: Run = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (err) => resolve(err === null));
  });

/** A desktop notification: title and body, each plain text. Resolves false when it could not be shown. */
export type Notifier = (title: string, body: string) => Promise<boolean>;

/**
 * The desktop notifier of this platform: `notify-send` on Linux, `osascript` on macOS, nothing
 * elsewhere (null). The text is passed as argv, never through a shell or into AppleScript source:
 * a proposed command in the body cannot run anything.
 */
export function desktopNotifier(
  platform: NodeJS.Platform = process.platform,
  exec: Run = run,
): Notifier | null {
  if (platform === "linux") {
    return (title, body) => exec("notify-send", ["--app-name=forge-agent", "--", title, body]);
  }
  if (platform === "darwin") {
    return (title, body) =>
      exec("osascript", [
        "-e",
        "on run argv",
        "-e",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "-e",
        "end run",
        title,
        body,
      ]);
  }
  return null;
}

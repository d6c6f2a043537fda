import { isatty } from "node:tty";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import pretty from "pino-pretty";

/** How log lines are written: JSON (one object a line), pretty (for people), or pretty only on a terminal. */
export type LogFormat = "auto" | "json" | "pretty";

/**
 * The process's logger on file descriptor `fd` (1 stdout, 2 stderr): human-readable lines (pino-pretty, written
 * synchronously, colour on) when `format` is pretty, or auto and `fd` is a terminal; JSON lines
 * otherwise, so a file, a pipe or journald gets records a program can read.
 */
export function processLogger(
  options: LoggerOptions,
  fd: number,
  format: LogFormat = "auto",
  tty: boolean = isatty(fd),
): Logger {
  if (format === "pretty" || (format === "auto" && tty)) {
    const stream: DestinationStream = pretty({
      destination: fd,
      sync: true,
      colorize: tty,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,host_id",
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options, pino.destination({ fd, sync: true }));
}

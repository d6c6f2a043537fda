/**
 * Shell lines → every simple command they would run, with tree-sitter-bash: the parsers
 * (backend.ts), the program tables (programs.ts), the walk (walk.ts), word values (words.ts) and
 * the commands that run other commands (wrappers.ts).
 */
export { initShell, shellBackend, shellReady, useShellBackend } from "./backend.js";
export { CREDENTIAL_HEADER, encodedRun, sedScript, urlData } from "./effects.js";
export { PROJECT_RUNNERS, PROJECT_WRAPPERS, programFamily, runLanguage } from "./programs.js";
export { GIT_INERT_KEYS } from "./specs.js";
export {
  DEFAULT_LIMITS,
  type ShellBackend,
  type ShellLimits,
  type ShellParse,
  type SimpleCommand,
  type Word,
} from "./types.js";
export { parseShell, patchTargets } from "./walk.js";
export { braceExpand } from "./words.js";

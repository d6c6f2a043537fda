import { z } from "zod";

/** Credential stores hidden by every profile that does not list its own `deny_read` (the paths the pack's secret rules name). */
export const CREDENTIAL_PATHS: readonly string[] = [
  "~/.ssh",
  "~/.aws",
  "~/.gnupg",
  "~/.azure",
  "~/.kube",
  "~/.docker",
  "~/.config/gcloud",
  "~/.config/gh",
  "~/.netrc",
  "~/.git-credentials",
  "~/.npmrc",
  "~/.pypirc",
  "~/.vault-token",
  "~/.terraform.d",
  "~/.password-store",
  "~/Library/Keychains",
  "~/Library/Application Support/Google/Chrome",
  "~/Library/Application Support/Firefox",
  "~/.mozilla",
  "~/.config/google-chrome",
  "~/.config/chromium",
];

/**
 * How an executed action is contained: declared in policy (`sandbox.profiles`), chosen by the
 * rule that allowed the action (`sandbox: NAME`) or by `sandbox.default`. Pure data: the agent's
 * sandbox turns it into bubblewrap arguments (Linux) or a Seatbelt profile (macOS). Whatever a
 * profile says, the agent's own state is hidden too (src/agent/sandbox).
 */
export const SandboxProfileSchema = z.strictObject({
  /**
   * Directories the action may write: absolute paths, `$WORKSPACE` (executors.cwd) and `$TMP`
   * (a private temp dir made for the action). Everything else is read-only.
   */
  write: z.array(z.string().min(1)).default(["$WORKSPACE", "$TMP"]),
  /**
   * Paths hidden from the action (an empty dir or file in their place); `~` is the user's home.
   * Default: the credential stores (CREDENTIAL_PATHS).
   */
  deny_read: z.array(z.string().min(1)).default(() => [...CREDENTIAL_PATHS]),
  network: z
    .strictObject({
      /** none: no network at all; allowlist: only `hosts`, through the agent's proxy; open: the host's network. */
      mode: z.enum(["none", "allowlist", "open"]).default("none"),
      /** host or host:port (canonical spelling; `*.example.com` matches subdomains). */
      hosts: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** CPU seconds (RLIMIT_CPU). */
      cpu_seconds: z.number().int().positive().default(60),
      /** Address space in bytes (RLIMIT_AS). */
      memory_bytes: z
        .number()
        .int()
        .positive()
        .default(2 ** 31),
      /** Processes (RLIMIT_NPROC, counted inside the sandbox's user namespace). */
      processes: z.number().int().positive().default(256),
      /** Open files (RLIMIT_NOFILE). */
      open_files: z.number().int().positive().default(1024),
      /** Bytes one file may grow to (RLIMIT_FSIZE). */
      file_bytes: z
        .number()
        .int()
        .positive()
        .default(1 << 30),
    })
    .prefault({}),
});
export type SandboxProfile = z.infer<typeof SandboxProfileSchema>;

/** The `sandbox:` section of a policy file. */
export const SandboxSectionSchema = z.strictObject({
  /** The profile for actions whose allowing rule names none. */
  default: z.string().min(1).optional(),
  profiles: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), SandboxProfileSchema).default({}),
});

/** The profile used when a policy declares none: workspace + tmp writable, no network, credentials hidden. */
export const BUILTIN_PROFILE_NAME = "builtin";
export const BUILTIN_PROFILE: SandboxProfile = Object.freeze(
  SandboxProfileSchema.parse({}),
) as SandboxProfile;

/**
 * forge-collector policy keygen [--out DIR] [--json]
 * forge-collector policy sign FILE_OR_DIR --key KEY [--version N] [--id ID] [--out FILE] [--json]
 * forge-collector policy verify FILE --pub KEY [--current-version N] [--json]
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { writeNewPrivateFile } from "../platform/private-files.js";
import {
  type Bundle,
  BundleRejectedError,
  generateBundleKeys,
  keyId,
  signBundle,
  verifySignedBundle,
} from "../protocol/policy-bundle.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";
import { COLLECTOR } from "./spec.js";

export const PRIVATE_KEY_FILE = "policy-signing.key";
export const PUBLIC_KEY_FILE = "policy-signing.pub";

export default async function (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "keygen") return keygen(rest);
  if (sub === "sign") return sign(rest);
  if (sub === "verify") return verify(rest);
  throw new UsageError(
    sub === undefined ? "missing subcommand: keygen, sign or verify" : `unknown subcommand '${sub}'`,
  );
}

function keygen(argv: string[]): number {
  const { values } = parse(argv, COLLECTOR.policy.sub.keygen.flags, false);
  const dir = values.out ?? ".";
  const priv = join(dir, PRIVATE_KEY_FILE);
  const pub = join(dir, PUBLIC_KEY_FILE);
  const k = generateBundleKeys();
  writeNewKeyPair(dir, [priv, k.privateKeyPem], [pub, k.publicKeyPem], "a signing key");
  if (values.json) printJson({ key_id: k.keyId, private_key: priv, public_key: pub });
  else {
    process.stdout.write(
      `key ${k.keyId}\n  private: ${priv} (0600: keep it on the signing machine)\n  public:  ${pub} (pin it on every agent)\n`,
    );
  }
  return 0;
}

/**
 * Writes a new private key (0600, O_EXCL: never readable by others, not even briefly) and its
 * public half (0644) into `dir` (made 0700); FORGE_CONFLICT when either exists already.
 */
export function writeNewKeyPair(
  dir: string,
  [priv, privPem]: [string, string],
  [pub, pubPem]: [string, string],
  what: string,
): void {
  for (const p of [priv, pub]) {
    if (existsSync(p))
      throw new ForgeError(Codes.CONFLICT, `${p} exists; refusing to overwrite ${what} (move it away first)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeNewPrivateFile(priv, privPem);
  writeFileSync(pub, pubPem, { mode: 0o644, flag: "wx" });
}

/** The policy files of FILE_OR_DIR: the file itself, or the directory's *.yaml/*.yml in name order. */
function readPolicyFiles(path: string): Record<string, string> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UsageError(`cannot read '${path}': ${(err as Error).message}`);
  }
  const names = st.isDirectory()
    ? readdirSync(path)
        .filter((n) => /\.ya?ml$/.test(n) && !n.startsWith("."))
        .sort()
    : [basename(path)];
  if (names.length === 0) throw new UsageError(`'${path}' holds no *.yaml files`);
  const files: Record<string, string> = {};
  for (const n of names) files[n] = readFileSync(st.isDirectory() ? join(path, n) : path, "utf8");
  return files;
}

function readPrivateKey(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new UsageError(`cannot read --key '${path}': ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ForgeError(
      Codes.KEY_INSECURE,
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run 'chmod 600 ${path}'`,
    );
  }
  return readFileSync(path, "utf8");
}

/**
 * Compiles the policy with the gate (and runs its embedded tests) before anything is signed:
 * a bundle agents would reject as invalid-policy is refused here. Returns the `bundle:`
 * declaration of the policy, if it has one. The only place this module uses the gate.
 */
async function checkPolicy(path: string): Promise<{ id: string; version: number } | null> {
  const gate = await import("../gate/index.js");
  await gate.initGate();
  const compiled = gate.loadPolicy(path);
  return compiled.ref.version > 0 ? { id: compiled.ref.id, version: compiled.ref.version } : null;
}

async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COLLECTOR.policy.sub.sign.flags);
  if (positionals.length !== 1) throw new UsageError("sign takes one FILE_OR_DIR");
  if (values.key === undefined)
    throw new UsageError("--key KEY (the private key from 'policy keygen') is required");
  const path = positionals[0]!;
  const files = readPolicyFiles(path);
  const privateKeyPem = readPrivateKey(values.key);
  const declared = await checkPolicy(path);

  const flagVersion = values.version === undefined ? undefined : intFlag(values.version, "version", 0, 1);
  const version = flagVersion ?? declared?.version;
  if (version === undefined)
    throw new UsageError("--version N is required (the policy declares no bundle version)");
  if (declared !== null && flagVersion !== undefined && flagVersion !== declared.version) {
    throw new UsageError(
      `--version ${flagVersion} disagrees with the policy's 'bundle: {version: ${declared.version}}'; change one so decisions name the version agents run`,
    );
  }
  const id = values.id ?? declared?.id ?? basename(path).replace(/\.ya?ml$/, "");
  if (declared !== null && values.id !== undefined && values.id !== declared.id) {
    throw new UsageError(`--id ${values.id} disagrees with the policy's 'bundle: {id: ${declared.id}}'`);
  }

  const bundle: Bundle = { id, version, files, created_at: new Date().toISOString() };
  const signed = signBundle(bundle, privateKeyPem);
  const text = `${JSON.stringify(signed, null, 2)}\n`;
  if (values.out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  // Atomic: the collector may be watching the directory; it must never read half a file.
  mkdirSync(dirname(values.out), { recursive: true });
  const tmp = join(dirname(values.out), `.${basename(values.out)}.tmp-${process.pid}`);
  writeFileSync(tmp, text, { mode: 0o600 }); // the policy says what is denied: private, like active.json
  renameSync(tmp, values.out);
  const summary = { id, version, key_id: signed.key_id, files: Object.keys(files), out: values.out };
  if (values.json) printJson(summary);
  else
    process.stdout.write(
      `signed ${id} version ${version} (${summary.files.length} file(s)) with key ${signed.key_id} -> ${values.out}\n`,
    );
  return 0;
}

/** Compiles a bundle's files exactly as the gate compiles a policy directory (cross-file lists, one `defaults`). */
function compileAsDirectory(loadPolicy: (dir: string) => unknown, b: Bundle): void {
  const dir = mkdtempSync(join(tmpdir(), "forge-bundle-"));
  try {
    for (const [name, text] of Object.entries(b.files)) writeFileSync(join(dir, name), text);
    loadPolicy(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COLLECTOR.policy.sub.verify.flags);
  if (positionals.length !== 1) throw new UsageError("verify takes one signed bundle FILE");
  if (values.pub === undefined) throw new UsageError("--pub KEY (the public key agents pin) is required");
  const publicKeyPem = readFileSync(values.pub, "utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(positionals[0]!, "utf8"));
  } catch (err) {
    throw new BundleRejectedError("malformed", `${positionals[0]}: ${(err as Error).message}`);
  }
  const currentVersion =
    values["current-version"] === undefined
      ? undefined
      : intFlag(values["current-version"], "current-version", 0, 0);
  let v: ReturnType<typeof verifySignedBundle>;
  try {
    const gate = await import("../gate/index.js");
    await gate.initGate();
    v = verifySignedBundle(doc, publicKeyPem, {
      currentVersion,
      compile: (b) => compileAsDirectory(gate.loadPolicy, b),
    });
  } catch (err) {
    if (!values.json || !(err instanceof BundleRejectedError)) throw err;
    printJson({ ok: false, code: err.code, reason: err.reason, message: err.message });
    return 1;
  }
  const out = {
    ok: true,
    id: v.bundle.id,
    version: v.bundle.version,
    sha256: v.sha256,
    key_id: keyId(publicKeyPem),
    files: Object.keys(v.bundle.files),
  };
  if (values.json) printJson(out);
  else
    process.stdout.write(
      `ok: ${out.id} version ${out.version} sha256 ${out.sha256} signed by ${out.key_id}\n`,
    );
  return 0;
}

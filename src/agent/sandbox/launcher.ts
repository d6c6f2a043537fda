import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type SandboxPlan, within } from "./plan.js";

/**
 * The sandbox's launcher: a fixed Python program that runs inside bwrap in front of every action
 * (cold and warm). It applies the Landlock rules it is given (the second layer: writes only under
 * the write roots, reads refused under the hidden paths, TCP per the network mode, signals and
 * abstract sockets scoped to the sandbox), then either execs the command (`exec`) or waits for it
 * on fd 3 (`wait`, a warm sandbox): writes `r` once it waits, reads one command as JSON data
 * ({argv, env, cwd}) until EOF, acknowledges it with `x`, closes fd 3 and execs it (execvpe: the
 * same PATH lookup as bwrap's execvp). Nothing of a command is ever spliced into code or a shell
 * string: the rules and the command arrive as data (argv and fd 3).
 *
 * Exit codes: 126 the Landlock rules it was asked for could not be applied (nothing ran; stderr
 * starts with LANDLOCK_FAILED), 125 a warm sandbox dropped without a command, 127 exec failed.
 * Landlock syscalls by number (444–446: the same on every architecture since 5.13) through ctypes.
 */
export const LAUNCHER_PATH = "/usr/bin/python3";

/** The first bytes of the launcher's stderr when it refused to run the command unconfined (exit 126). */
export const LANDLOCK_FAILED = "forge-sandbox: landlock: ";

/** What the launcher applies: null runs the command under bwrap alone. */
export interface LandlockSpec {
  /** The ABI the agent probed: the launcher requires at least this one and handles its rights. */
  abi: number;
  /** Paths (inside the sandbox) where writing, creating and removing is allowed; missing ones are skipped. */
  write: string[];
  /** Paths whose files cannot be read (everything else can). */
  deny: string[];
  /** none: no TCP bind or connect at all; allowlist: connect only to the proxy forwarder's port. */
  net: "none" | "allowlist" | "open";
  port: number;
}

const PROGRAM = String.raw`
import os, sys, json
spec = json.loads(sys.argv[1]) if sys.argv[1] != 'null' else None
mode = sys.argv[2]
def fail(why):
    os.write(2, ('${LANDLOCK_FAILED}' + why + '\n').encode())
    os._exit(126)
def landlock(ll):
    import ctypes, stat
    libc = ctypes.CDLL(None, use_errno=True)
    sc = libc.syscall
    sc.restype = ctypes.c_long
    def err(what):
        e = ctypes.get_errno()
        fail('%s: %s' % (what, os.strerror(e)))
    abi = sc(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if mode == 'probe':
        print(abi if abi > 0 else 0)
        sys.exit(0)
    if abi < 0:
        err('the kernel offers no Landlock')
    if abi < ll['abi']:
        fail('the kernel offers ABI %d, the agent probed %d' % (abi, ll['abi']))
    want = ll['abi']
    FILE_W = 1 << 1
    READ = 1 << 2
    TRUNC = (1 << 14) if want >= 3 else 0
    DIR_W = FILE_W | TRUNC | sum(1 << b for b in range(4, 13)) | ((1 << 13) if want >= 2 else 0)
    net = 0
    if want >= 4 and ll['net'] != 'open':
        net = 3
    scoped = 3 if want >= 6 else 0
    class Ruleset(ctypes.Structure):
        _fields_ = [('fs', ctypes.c_uint64), ('net', ctypes.c_uint64), ('scoped', ctypes.c_uint64)]
    class Beneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [('access', ctypes.c_uint64), ('fd', ctypes.c_int32)]
    class Port(ctypes.Structure):
        _fields_ = [('access', ctypes.c_uint64), ('port', ctypes.c_uint64)]
    attr = Ruleset(DIR_W | READ, net, scoped)
    size = 24 if want >= 6 else 16 if want >= 4 else 8
    rs = sc(444, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if rs < 0:
        err('landlock_create_ruleset')
    def allow(path, dir_access, file_access, follow=True):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode):
                return
            a = dir_access if stat.S_ISDIR(st.st_mode) else file_access
            b = Beneath(a, fd)
            if sc(445, ctypes.c_int(rs), ctypes.c_int(1), ctypes.byref(b), ctypes.c_uint32(0)) < 0:
                err('landlock_add_rule %s' % path)
        finally:
            os.close(fd)
    for p in ll['write']:
        allow(p, DIR_W, FILE_W | TRUNC)
    deny = set(os.path.normpath(p) for p in ll['deny'])
    above = set()
    for d in deny:
        while d != '/':
            d = os.path.dirname(d)
            above.add(d)
    if not deny:
        allow('/', READ, READ)
    for a in sorted(above):
        try:
            names = os.listdir(a)
        except OSError:
            continue
        for n in names:
            c = os.path.join(a, n)
            if c not in above and c not in deny:
                allow(c, READ, READ, follow=False)
    if ll['net'] == 'allowlist' and net:
        pa = Port(2, ll['port'])
        if sc(445, ctypes.c_int(rs), ctypes.c_int(2), ctypes.byref(pa), ctypes.c_uint32(0)) < 0:
            err('landlock_add_rule port')
    if libc.prctl(38, 1, 0, 0, 0) != 0:
        err('prctl(PR_SET_NO_NEW_PRIVS)')
    if sc(446, ctypes.c_int(rs), ctypes.c_uint32(0)) < 0:
        err('landlock_restrict_self')
    os.close(rs)
if mode == 'probe':
    landlock(None)
if spec is not None:
    try:
        landlock(spec)
    except SystemExit:
        raise
    except BaseException as e:
        fail('%s: %s' % (type(e).__name__, e))
if mode == 'wait':
    os.write(3, b'r')
    chunks = []
    while True:
        b = os.read(3, 65536)
        if not b: break
        chunks.append(b)
    raw = b''.join(chunks)
    if not raw: sys.exit(125)
    d = json.loads(raw)
    os.write(3, b'x')
    os.close(3)
    os.chdir(d['cwd'])
    argv, env = d['argv'], d['env']
    # Behind the allowlist forwarder: its proxy settings win, as they do on the cold path.
    for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'):
        if k in os.environ: env[k] = os.environ[k]
else:
    argv, env = sys.argv[3:], dict(os.environ)
try:
    os.execvpe(argv[0], argv, env)
except OSError as e:
    os.write(2, ('forge-sandbox: %s: %s\n' % (argv[0], e.strerror)).encode())
    os._exit(127)
`;

/**
 * The launcher's argv (-I -S: no user site, no PYTHON* env): `exec` runs `argv` after the rules,
 * `wait` waits for its command on fd 3. Null when there is no python3 here.
 */
export function launcherArgv(
  spec: LandlockSpec | null,
  mode: "exec" | "wait",
  argv: string[] = [],
): string[] | null {
  if (!existsSync(LAUNCHER_PATH)) return null;
  return [LAUNCHER_PATH, "-I", "-S", "-c", PROGRAM, JSON.stringify(spec), mode, ...argv];
}

/** The Landlock ABI this kernel offers (0: none), asked by the launcher itself; null without python3. */
export function probeLandlockAbi(): number | null {
  if (!existsSync(LAUNCHER_PATH)) return null;
  const out = execFileSync(LAUNCHER_PATH, ["-I", "-S", "-c", PROGRAM, "null", "probe"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 10_000,
  });
  return Number.parseInt(out.trim(), 10) || 0;
}

/**
 * Writable inside a bwrap sandbox besides the write roots: its own private /tmp and /dev/shm
 * (tmpfs, gone with it) and the harmless device nodes. /run, /proc (so /proc/self) and the rest: no.
 */
const SANDBOX_PRIVATE = [
  "/tmp",
  "/dev/shm",
  "/dev/null",
  "/dev/zero",
  "/dev/full",
  "/dev/tty",
  "/dev/pts",
  "/dev/ptmx",
];

/**
 * The rules for one action's plan under bwrap (`abi`: the probed one). Landlock can only allow, so
 * reads are refused under a hidden path by allowing every sibling on the way down to it, as it is
 * when the rules are made: a file that appears later in a directory holding a hidden path is not
 * readable. Hidden paths inside a write root (the agent's home under the workspace) are left to
 * bwrap alone, else the action could not read back what it writes next to them.
 */
export function landlockSpec(plan: SandboxPlan, abi: number, port: number): LandlockSpec {
  const write = [...plan.write, ...SANDBOX_PRIVATE];
  return {
    abi,
    write,
    deny: plan.hide.map((h) => h.path).filter((p) => !write.some((w) => within(p, w))),
    net: plan.network.mode,
    port,
  };
}

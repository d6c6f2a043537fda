import { describe, expect, it } from "vitest";
import {
  collapse,
  compilePathGlobs,
  hostOf,
  Links,
  matchPathGlob,
  normalisePath,
} from "../../src/gate/paths.js";
import { canonicalPath } from "../../src/gate/protect.js";

const HOME = "/Users/dev";
const CWD = "/Users/dev/project";
const m = (globs: string[], p: string) => compilePathGlobs(globs).some((g) => matchPathGlob(g, p, HOME, CWD));

describe("paths", () => {
  it("collapses . and .. and never climbs above /", () => {
    expect(collapse("/a/./b//c/../d/")).toBe("/a/b/d");
    expect(collapse("/../../x")).toBe("/x");
    expect(collapse("/")).toBe("/");
    expect(collapse("/a/.ssh")).toBe("/a/.ssh");
    expect(normalisePath("~/../dev/.ssh/./k", CWD, HOME, Links.NONE)).toBe("/Users/dev/.ssh/k");
    expect(normalisePath("../../..", CWD, HOME, Links.NONE)).toBe("/");
  });

  it("matches path globs anchored at /, ~ and $CWD, case-insensitively", () => {
    expect(m(["~/.ssh/**"], "/Users/dev/.ssh")).toBe(true);
    expect(m(["~/.ssh/**"], "/Users/dev/.SSH/id_rsa")).toBe(true);
    expect(m(["~/.ssh/**"], "/Users/dev/.sshx")).toBe(false);
    expect(m(["$CWD/**"], "/Users/dev/project/src/a.ts")).toBe(true);
    expect(m(["$CWD/**"], "/Users/dev/projectx")).toBe(false);
    expect(m(["/etc/**", "~"], "/Users/dev")).toBe(true);
    expect(m(["/etc/*.conf"], "/etc/a/b.conf")).toBe(false);
    expect(m(["**/.env"], "/x/y/.env")).toBe(true);
    expect(m([".env"], "/.env")).toBe(true);
    expect(m(["/dev/disk*"], "/dev/disk2s1")).toBe(true);
    expect(m(["/etc/{passwd,shadow}"], "/etc/shadow")).toBe(true);
  });

  it("a file name with a line break is matched like any other (a fail-open before: `.` skips \\n)", () => {
    for (const brk of ["\n", "\r", "\u2028", "\u2029"]) {
      expect(m(["~/.ssh/**"], `/Users/dev/.ssh/a${brk}b`)).toBe(true);
      expect(m(["~/.aws/**", "/etc/x"], `/Users/dev/.aws/a${brk}b/c`)).toBe(true);
      expect(m(["**/.env"], `/x/a${brk}b/.env`)).toBe(true);
      // Eight or more globs take the first-segment split; it must agree.
      const many = [
        "/etc/**",
        "/var/**",
        "/opt/**",
        "/usr/**",
        "/bin/**",
        "/sbin/**",
        "/Library/**",
        "~/.ssh/**",
        "**/.env",
      ];
      expect(m(many, `/Users/dev/.ssh/a${brk}b`)).toBe(true);
      expect(m(many, `/x/a${brk}b/.env`)).toBe(true);
      expect(m(["/etc/*.conf"], `/etc/a${brk}b.conf`)).toBe(true);
      expect(m(["/etc/*.conf"], `/etc/a/b${brk}.conf`)).toBe(false);
    }
  });

  it("takes out macOS aliases of / (boot volume, firmlinks, /private), case-blind, repeated", () => {
    const n = (p: string) => normalisePath(p, CWD, HOME, Links.NONE);
    expect(n("/Volumes/Macintosh HD/Users/dev/.aws/credentials")).toBe("/Users/dev/.aws/credentials");
    expect(n("/Volumes/Macintosh HD")).toBe("/");
    expect(n("/volumes/MACINTOSH HD/etc/hosts")).toBe("/etc/hosts");
    expect(n("/Volumes/Macintosh HD - Data/Users/dev/.ssh/id_rsa")).toBe("/Users/dev/.ssh/id_rsa");
    // a renamed boot volume, or a clone of it: the next segment is a top-level system directory
    expect(n("/Volumes/Work SSD/Users/dev/.ssh/id_rsa")).toBe("/Users/dev/.ssh/id_rsa");
    expect(n("/Volumes/Macintosh HD/System/Volumes/Data/private/etc/sudoers")).toBe("/etc/sudoers");
    expect(n("/System/Volumes/Data")).toBe("/");
    expect(n("/PRIVATE/etc/sudoers")).toBe("/etc/sudoers");
    expect(n("/proc/self/root/private/var/db/x")).toBe("/var/db/x");
    // other volumes' own files stay where they are
    expect(n("/Volumes/USB/photos/a.jpg")).toBe("/Volumes/USB/photos/a.jpg");
    expect(n("/Volumes/USB")).toBe("/Volumes/USB");
    expect(n("/privatex/etc")).toBe("/privatex/etc");
    expect(n("/private/Users/x")).toBe("/private/Users/x");
    expect(canonicalPath("/Volumes/Macintosh HD/Users/Dev/.SSH")).toBe("/users/dev/.ssh");
    expect(canonicalPath("/private/tmp/x")).toBe("/tmp/x");
    expect(m(["~/.aws/**"], n("/Volumes/Macintosh HD/Users/dev/.aws/credentials"))).toBe(true);
  });

  it("extracts hosts", () => {
    expect(hostOf("https://user:pw@Example.COM:8443/x")).toBe("example.com");
    expect(hostOf("git@github.com:org/repo.git")).toBe("github.com");
    expect(hostOf("evil.example.net/x")).toBe("evil.example.net");
    // Canonical hosts (src/gate/hosts.ts): no brackets, every IPv4 spelling as a dotted quad.
    expect(hostOf("http://[::1]:80/")).toBe("::1");
    expect(hostOf("http://0x7f000001/")).toBe("127.0.0.1");
    expect(hostOf("http://[::ffff:127.0.0.1]/")).toBe("::ffff:7f00:1");
    expect(hostOf("file.txt")).toBe("file.txt");
    expect(hostOf("./x")).toBe(null);
  });
});

// Registry auth for real: docker-registry behind htpasswd (bcrypt, `htpasswd -B`) basic auth, and
// behind token auth with a small token server this test runs (ES256 JWTs, a test-generated cert).
import { execFileSync } from "node:child_process";
import { createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCredentials, openClient, pullArtifact, pushArtifact } from "../../src/registry/index.js";
import { missing } from "../support/tools.js";
import { startRegistry, type TestRegistry, tempDir } from "./helpers.js";

const skip = missing("docker-registry") || missing("htpasswd");

function authFile(dir: string, host: string, user: string, password: string): string {
  const f = join(dir, "config.json");
  writeFileSync(
    f,
    JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }),
  );
  return f;
}

describe.skipIf(skip)("htpasswd basic auth", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: { user: "forge", password: "pa55-word" } });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it("pushes and pulls with the credential from a Docker-style config.json", async () => {
    const dir = tempDir();
    const c = openClient(reg.host, {
      home: dir,
      insecure: true,
      authFile: authFile(dir, reg.host, "forge", "pa55-word"),
    });
    const p = await pushArtifact(c, {
      repository: "auth/basic",
      tag: "v1",
      kind: "dataset",
      files: [{ name: "d", bytes: Buffer.from("rows") }],
    });
    const got = await pullArtifact(
      openClient(reg.host, {
        home: tempDir(),
        insecure: true,
        authFile: authFile(dir, reg.host, "forge", "pa55-word"),
      }),
      "auth/basic",
      "v1",
    );
    expect(got.digest).toBe(p.digest);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses anonymous and wrong credentials with FORGE_REGISTRY_AUTH naming the fix", async () => {
    const anon = openClient(reg.host, { home: tempDir(), insecure: true, credentials: () => null });
    await expect(anon.listTags("auth/basic")).rejects.toMatchObject({
      code: "FORGE_REGISTRY_AUTH",
      message: expect.stringMatching(/needs a user name and password: add it to the auth file/),
    });
    const dir = tempDir();
    const wrong = openClient(reg.host, {
      home: dir,
      insecure: true,
      authFile: authFile(dir, reg.host, "forge", "nope"),
    });
    await expect(wrong.listTags("auth/basic")).rejects.toMatchObject({ code: "FORGE_REGISTRY_AUTH" });
  });

  it("reads auth entries written as https://host and as user/password fields", () => {
    const dir = tempDir();
    const f = join(dir, "c.json");
    writeFileSync(
      f,
      JSON.stringify({ auths: { "https://reg.example:5000/v2/": { username: "a", password: "b" } } }),
    );
    expect(loadCredentials([f], true)("reg.example:5000")).toEqual({ username: "a", password: "b" });
    writeFileSync(f, "{not json");
    expect(() => loadCredentials([f], true)).toThrow(/is not JSON/);
  });
});

/** A token server in the docker-registry `auth: token` style: Basic credentials in, an ES256 JWT out. */
class TokenServer {
  server: Server;
  port = 0;
  readonly scopes: string[] = [];
  constructor(
    private readonly key: string,
    private readonly certDer: string,
    private readonly service: string,
  ) {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      const auth = req.headers.authorization ?? "";
      const [user, pass] = Buffer.from(auth.replace(/^Basic /, ""), "base64")
        .toString()
        .split(":");
      if (user !== "robot" || pass !== "t0ken-pass") {
        res.writeHead(401).end();
        return;
      }
      const scopes = u.searchParams.getAll("scope");
      this.scopes.push(...scopes);
      const access = scopes.map((s) => {
        const [type, name, actions] = s.split(":");
        return { type, name, actions: actions?.split(",") ?? [] };
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ token: this.jwt(access), expires_in: 300 }));
    });
  }
  private jwt(access: unknown[]): string {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const head = b64({ alg: "ES256", typ: "JWT", x5c: [this.certDer] });
    const body = b64({
      iss: "forge-test-issuer",
      sub: "robot",
      aud: this.service,
      exp: now + 300,
      nbf: now - 60,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const sig = sign("sha256", Buffer.from(`${head}.${body}`), {
      key: createPrivateKey(this.key),
      dsaEncoding: "ieee-p1363",
    });
    return `${head}.${body}.${sig.toString("base64url")}`;
  }
  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }
}

describe.skipIf(missing("docker-registry"))("bearer-token auth through a token server", () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=forge-token-test",
      ],
      { stdio: "ignore" },
    );
    const der = execFileSync("openssl", ["x509", "-in", join(dir, "cert.pem"), "-outform", "DER"]).toString(
      "base64",
    );
    tokens = await new TokenServer(
      readFileSync(join(dir, "key.pem"), "utf8"),
      der,
      "forge-registry",
    ).listen();
    reg = await startRegistry({
      token: {
        realm: `http://127.0.0.1:${tokens.port}/token`,
        service: "forge-registry",
        issuer: "forge-test-issuer",
        rootCertBundle: join(dir, "cert.pem"),
      },
    });
  });
  afterAll(async () => {
    await reg?.stop();
    tokens?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("follows WWW-Authenticate to the token endpoint and uses scoped tokens", async () => {
    const c = openClient(reg.host, {
      home: tempDir(),
      insecure: true,
      authFile: authFile(dir, reg.host, "robot", "t0ken-pass"),
    });
    const p = await pushArtifact(c, {
      repository: "tok/m",
      tag: "v1",
      kind: "prompt-template",
      files: [{ name: "t.txt", bytes: Buffer.from("{{prompt}}") }],
    });
    const pulled = await pullArtifact(
      openClient(reg.host, {
        home: tempDir(),
        insecure: true,
        authFile: authFile(dir, reg.host, "robot", "t0ken-pass"),
      }),
      "tok/m",
      "v1",
    );
    expect(pulled.digest).toBe(p.digest);
    expect(tokens.scopes).toContain("repository:tok/m:pull,push");
    expect(tokens.scopes).toContain("repository:tok/m:pull");
  });

  it("refuses when the token endpoint refuses the credential", async () => {
    const c = openClient(reg.host, {
      home: tempDir(),
      insecure: true,
      authFile: authFile(dir, reg.host, "robot", "wrong"),
    });
    await expect(c.listTags("tok/m")).rejects.toMatchObject({
      code: "FORGE_REGISTRY_AUTH",
      message: expect.stringMatching(/token endpoint .* refused \(HTTP 401\): check the credentials/),
    });
  });
});

// Runs inside the sandbox's empty network namespace, before the action: listens on
// 127.0.0.1:PORT there and forwards each connection to the agent's allowlist proxy on a Unix
// socket bound into the sandbox, then runs the command with the proxy variables set and exits
// with its status. `--fd3` (a warm sandbox) passes fd 3, the launcher's command pipe, to the
// command and closes its own copy (the agent then sees the launcher's close, not ours).
// Usage: node forwarder.js SOCKET PORT [--fd3] -- COMMAND...
import { spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { connect, createServer } from "node:net";

const args = process.argv.slice(2);
const [sock, portText] = args;
const fd3 = args[2] === "--fd3";
const [sep, ...command] = args.slice(fd3 ? 3 : 2);
if (sock === undefined || portText === undefined || sep !== "--" || command.length === 0) {
  process.stderr.write("usage: forwarder SOCKET PORT [--fd3] -- COMMAND...\n");
  process.exit(125);
}
const server = createServer((c) => {
  const up = connect(sock);
  c.pipe(up);
  up.pipe(c);
  c.on("error", () => up.destroy());
  up.on("error", () => c.destroy());
});
server.listen(Number(portText), "127.0.0.1", () => {
  const proxy = `http://127.0.0.1:${portText}`;
  const env = { ...process.env };
  for (const k of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"])
    env[k] = proxy;
  env.NO_PROXY = "";
  env.no_proxy = "";
  const child = spawn(command[0]!, command.slice(1), {
    stdio: fd3 ? ["inherit", "inherit", "inherit", 3] : "inherit",
    env,
  });
  if (fd3) closeSync(3);
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 9 : 1)));
  child.on("error", () => process.exit(127));
});

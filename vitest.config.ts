import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Per-user directories under .test-tmp: a test (or a CLI it spawns with process.env) that falls
// back to the per-user config or home (src/agent/config.ts userPaths) never touches the real
// ~/.config/forge-agent or ~/.local/share/forge-agent of whoever runs the tests.
const xdg = (dir: string) => fileURLToPath(new URL(`.test-tmp/xdg/${dir}`, import.meta.url));

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    env: {
      XDG_CONFIG_HOME: xdg("config"),
      XDG_DATA_HOME: xdg("data"),
      XDG_STATE_HOME: xdg("state"),
    },
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: the fault and fleet tests start real processes; more workers only thrash.
    maxWorkers: 2,
  },
});

import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const COLLECTOR_BIN = join(ROOT, "bin", "forge-collector.js");
export const WRITER = join(ROOT, "test", "fixtures", "shipper-writer.mjs");

export { ensureBuilt } from "../support/build.js";

#!/usr/bin/env node
import { main } from "../dist/src/cli/forge-agent.js";

process.exitCode = await main(process.argv.slice(2), process.env);

export { type DriftConfig, type DriftConfigInput, parseDriftConfig } from "./config.js";
export { type DriftEvent, DriftMonitor, type SignalView, type TestResult } from "./detector.js";
export { driftMessage, driftRecord, jsonSafe, webhookBody } from "./record.js";

export { type ChainHead, checkBatch } from "./chain.js";
export type { CollectorContext, Connection, Logger, Message, MessageHandler } from "./context.js";
export type { RouteHandler, RouteRequest, RouteResponse } from "./routes.js";
export { type Collector, type CollectorOptions, startCollector } from "./server.js";
export type { CollectorStorage, HostRow } from "./storage.js";

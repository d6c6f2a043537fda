import type { WebSocket } from "ws";
import type { ChainRecord } from "../protocol/text-batch.js";
import type { CollectorIdentity } from "./identity.js";
import type { CollectorMetrics } from "./metrics.js";
import type { RouteTable } from "./routes.js";
import type { AlertInput, CollectorStorage, HostRow } from "./storage.js";

/** The logging surface the collector uses (pino's shape). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * Key under which the connection hands the records handler several queued records messages at once
 * (a symbol: it cannot arrive in JSON from an agent).
 */
export const COALESCED: unique symbol = Symbol("coalesced records messages");

/**
 * Key under which the connection attaches a records message's decoded form (text-batch.ts Decoded),
 * decoded as the frame arrives: while the previous batch of the connection is being committed, not
 * after its ack (a symbol: it cannot arrive in JSON from an agent).
 */
export const DECODED: unique symbol = Symbol("decoded records message");

/** An incoming message: a JSON object with a string `type`. */
export type Message = { type: string } & Record<string, unknown>;

/** One agent connection, as message handlers see it. */
export interface Connection {
  readonly id: number;
  readonly ws: WebSocket;
  /** Set once hello verified; handlers other than hello only run on authenticated connections. */
  host: HostRow | null;
  /** The agent's nonce from hello: acks and reviews sent here are signed over it. Null for agents that send none. */
  agentNonce: string | null;
  /** Sends one message; an ack or review is signed with the collector's key first (collector-auth.ts). */
  send(msg: Message): void;
  /** Closes with a stable close code (protocol.ts CloseCodes) and counts the refusal. */
  refuse(code: number, reason: string): void;
}

/**
 * Handles one message type on an authenticated connection. Messages of one connection are
 * handled one at a time, in order. Throwing closes the connection with STORAGE_ERROR.
 */
export type MessageHandler = (conn: Connection, msg: Message) => Promise<void>;

/** What the built-in parts and later plugins (fleet, reviews, policy) share. */
export interface CollectorContext {
  readonly storage: CollectorStorage;
  readonly logger: Logger;
  readonly metrics: CollectorMetrics;
  readonly routes: RouteTable;
  readonly messages: Map<string, MessageHandler>;
  /** Authenticated connections by host_id (the latest one per host on this collector). */
  readonly hosts: Map<string, Connection>;
  /** Called after a connection's hello is accepted (and acked): e.g. to offer the policy bundle. */
  readonly authenticated: Array<(conn: Connection) => void>;
  /**
   * Called after a records batch is committed and acked, with the records it stored (in seq order,
   * none already held): e.g. drift, which so reads no record back from storage.
   */
  readonly committed: Array<(conn: Connection, records: readonly ChainRecord[]) => void>;
  /** Logs, stores and counts an alert; never throws. */
  alert(a: AlertInput): Promise<void>;
  /** Sends a message to a connected host; false when it is not connected here. */
  sendTo(hostId: string, msg: Message): boolean;
  readonly requireRegistered: boolean;
  /** Most hosts pinned on first use; past it a new host is refused (4004) with an alert. */
  readonly maxPinnedHosts: number;
  readonly adminToken: string | null;
  /** The key agents pin; it signs every ack and review. */
  readonly identity: CollectorIdentity;
}

import type { GbnfJsonSchema } from "node-llama-cpp";
import { Codes, ForgeError } from "../errors.js";
import type { ToolSpec } from "./backend.js";

/**
 * Client JSON Schemas (a tool's `parameters`, a `format`) mapped onto the subset node-llama-cpp
 * turns into a grammar. Keywords it cannot express are dropped; a shape it cannot express at all
 * (`$ref`, `allOf`, `not`) is refused, so a tool call never escapes the schema the client offered.
 */
export function toGrammarSchema(schema: unknown, where = "schema"): GbnfJsonSchema {
  if (schema === true || schema === undefined || isEmptyObject(schema)) return ANY;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema))
    throw invalid(where, "must be a JSON Schema object");
  const s = schema as Record<string, unknown>;
  for (const k of ["$ref", "allOf", "not", "if"]) if (k in s) throw invalid(where, `'${k}' is not supported`);
  const description = typeof s.description === "string" ? { description: s.description } : {};
  if ("const" in s) return { const: scalar(s.const, `${where}.const`), ...description };
  if (Array.isArray(s.enum))
    return { enum: s.enum.map((v, i) => scalar(v, `${where}.enum[${i}]`)), ...description };
  const alternatives = (s.oneOf ?? s.anyOf) as unknown;
  if (Array.isArray(alternatives))
    return { oneOf: alternatives.map((a, i) => toGrammarSchema(a, `${where}.oneOf[${i}]`)), ...description };
  const type = s.type ?? (s.properties ? "object" : undefined);
  if (type === undefined) return ANY;
  if (Array.isArray(type))
    return { oneOf: type.map((t) => toGrammarSchema({ ...s, type: t }, where)), ...description };
  switch (type) {
    case "string": {
      const out: { type: "string"; minLength?: number; maxLength?: number; description?: string } = {
        type: "string",
        ...description,
      };
      if (typeof s.minLength === "number") out.minLength = s.minLength;
      if (typeof s.maxLength === "number") out.maxLength = s.maxLength;
      return out;
    }
    case "number":
    case "integer":
    case "boolean":
    case "null":
      return { type, ...description } as GbnfJsonSchema;
    case "array": {
      const out: Record<string, unknown> = { type: "array", ...description };
      if (s.items !== undefined) out.items = toGrammarSchema(s.items, `${where}.items`);
      if (typeof s.minItems === "number") out.minItems = s.minItems;
      if (typeof s.maxItems === "number") out.maxItems = s.maxItems;
      return out as GbnfJsonSchema;
    }
    case "object": {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      if (typeof props !== "object" || Array.isArray(props))
        throw invalid(where, "'properties' must be an object");
      const properties: Record<string, GbnfJsonSchema> = {};
      for (const [k, v] of Object.entries(props))
        properties[k] = toGrammarSchema(v, `${where}.properties.${k}`);
      const required = Array.isArray(s.required)
        ? s.required.filter((r) => typeof r === "string")
        : undefined;
      const out: Record<string, unknown> = { type: "object", properties, ...description };
      if (required) out.required = required;
      // An object without declared properties is a free-form map.
      if (Object.keys(properties).length === 0) out.additionalProperties = true;
      return out as GbnfJsonSchema;
    }
    default:
      throw invalid(where, `unknown type '${String(type)}'`);
  }
}

/** The grammar schema of "one call to one of these tools": name from the list, arguments from its schema. */
export function toolCallSchema(tools: ToolSpec[]): GbnfJsonSchema {
  const one = (t: ToolSpec): GbnfJsonSchema => ({
    type: "object",
    properties: {
      name: { const: t.function.name },
      arguments: toGrammarSchema(
        t.function.parameters ?? { type: "object" },
        `tools.${t.function.name}.parameters`,
      ),
    },
    required: ["name", "arguments"],
  });
  return tools.length === 1 ? one(tools[0]!) : { oneOf: tools.map(one) };
}

const ANY: GbnfJsonSchema = { type: ["string", "number", "boolean", "null"] };

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function scalar(v: unknown, where: string): string | number | boolean | null {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  throw invalid(where, "only string, number, boolean or null values are supported");
}

function invalid(where: string, why: string): ForgeError {
  return new ForgeError(Codes.BAD_REQUEST, `${where}: ${why}`);
}

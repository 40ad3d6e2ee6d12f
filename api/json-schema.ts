import { z } from "zod";

/** A JSON Schema (draft 2020-12) as an object, for the OpenAPI document. */
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema of a zod schema, as the request reads it ("input": defaults optional) or the server writes
 * it ("output"). The protocol's number arrays are z.custom (their elements are checked later, fast, by
 * sparse/linear-system-request.ts); they are the only z.custom in these schemas, so one rule maps them.
 */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === "custom") {
        Object.assign(ctx.jsonSchema, { type: "array", items: { type: "number" } });
      }
    },
  }) as JsonSchema;
  delete json["$schema"];
  return json;
}

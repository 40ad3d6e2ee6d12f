import type { ApiClient } from "./api-client.ts";

export type JsonSchema = Record<string, unknown>;

/** The input schemas of the MCP tools, by tool name, and whether the server offers GET /api/v1/swarm. */
export interface ToolSchemas {
  readonly inputs: Readonly<Record<string, JsonSchema>>;
  readonly hasSwarmRoute: boolean;
  /** Why the schemas are the permissive fallback (the server's document could not be read), or null. */
  readonly fallbackReason: string | null;
}

/** Values per image of classify_images: a 28×28 Fashion-MNIST picture, row-major, pixel/255. */
export const IMAGE_VALUES = 784;
/** Images in one classify_images call (the arguments travel in the agent's context: 1000 are ~4 MB). */
export const MAX_IMAGES = 1_000;

/** The tool's input schema (the jobs endpoint's classify body, without its `kind`). */
const CLASSIFY_INPUT_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    images: {
      type: "array",
      minItems: 1,
      maxItems: MAX_IMAGES,
      description: `rows of ${IMAGE_VALUES} pixel values in [0, 1] (28×28, row-major, pixel/255; white on black as Fashion-MNIST)`,
      items: {
        type: "array",
        minItems: IMAGE_VALUES,
        maxItems: IMAGE_VALUES,
        items: { type: "number", minimum: 0, maximum: 1 },
      },
    },
  },
  required: ["images"],
  additionalProperties: false,
};

const ANY_OBJECT: JsonSchema = { type: "object" };
const NO_ARGUMENTS: JsonSchema = { type: "object", properties: {}, additionalProperties: false };

type Doc = { paths?: Record<string, Record<string, Record<string, unknown>> | undefined> };

function objectOr(value: unknown, fallback: JsonSchema): JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonSchema)
    : fallback;
}

function requestBodyOf(doc: Doc, path: string): JsonSchema {
  const body = doc.paths?.[path]?.["post"]?.["requestBody"] as
    { content?: Record<string, { schema?: unknown }> } | undefined;
  const schema = objectOr(body?.content?.["application/json"]?.schema, ANY_OBJECT);
  return schema["type"] === "object" ? schema : ANY_OBJECT;
}

function sessionIdSchema(doc: Doc): JsonSchema {
  const parameters = doc.paths?.["/status/{session_id}"]?.["get"]?.["parameters"];
  const param = Array.isArray(parameters)
    ? (parameters as { name?: unknown; schema?: unknown }[]).find((p) => p.name === "session_id")
    : undefined;
  return {
    type: "object",
    properties: { session_id: objectOr(param?.schema, { type: "string" }) },
    required: ["session_id"],
    additionalProperties: false,
  };
}

/**
 * The tools' input schemas come from the server's own OpenAPI document (GET /api/v1/openapi.json, which
 * it generates from the zod schemas it validates with), so a tool's schema is what the server at --server
 * accepts, whatever its version. The server still validates every call: a bad input comes back as a tool
 * error with the API's code. When the document cannot be read (server down at startup), the tools are
 * listed with permissive object schemas and say why; calls then go through once the server is up.
 */
export async function loadToolSchemas(client: ApiClient): Promise<ToolSchemas> {
  let doc: Doc;
  try {
    doc = objectOr(await client.getJson("/api/v1/openapi.json"), {}) as Doc;
  } catch (error) {
    return {
      inputs: {
        solve: ANY_OBJECT,
        verify: ANY_OBJECT,
        job_status: sessionIdSchema({}),
        swarm_status: NO_ARGUMENTS,
        classify_images: CLASSIFY_INPUT_SCHEMA,
      },
      hasSwarmRoute: false,
      fallbackReason: (error as Error).message,
    };
  }
  return {
    inputs: {
      solve: requestBodyOf(doc, "/solve-stream"),
      verify: requestBodyOf(doc, "/verify"),
      job_status: sessionIdSchema(doc),
      swarm_status: NO_ARGUMENTS,
      // Written here, not read from the document: POST /api/v1/jobs takes several kinds of job in one body.
      classify_images: CLASSIFY_INPUT_SCHEMA,
    },
    hasSwarmRoute: doc.paths?.["/swarm"]?.["get"] !== undefined,
    fallbackReason: null,
  };
}

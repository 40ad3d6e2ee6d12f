/* global document */
// The API reference page: fetches /api/v1/openapi.json and lists each operation with its request schema,
// its answer and its error codes. Text only (textContent), no innerHTML: the document is data, not markup.
// Served from this origin because the server's Content-Security-Policy runs no inline or third-party script.

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

function schemaBlock(title, schema) {
  const details = element("details");
  details.append(element("summary", title), element("pre", JSON.stringify(schema, null, 2)));
  return details;
}

function renderOperation(path, method, op, schemas) {
  const section = element("section", undefined, "operation");
  section.id = op.operationId;
  const heading = element("h2");
  heading.append(element("span", method, `method ${method}`), element("code", `/api/v1${path}`, "path"));
  section.append(heading, element("p", op.summary));
  const body = op.requestBody?.content?.["application/json"]?.schema;
  if (body !== undefined) section.append(schemaBlock("Request body (application/json)", body));
  // The WebSocket endpoint (x-websocket): how to use it, and what each side sends (component schemas).
  const ws = op["x-websocket"];
  if (ws !== undefined) {
    section.append(element("p", op.description));
    const named = (ref) => schemas[ref.$ref.replace("#/components/schemas/", "")];
    section.append(schemaBlock("The client sends (JSON text frames)", named(ws.client)));
    section.append(schemaBlock("The server sends", named(ws.server)));
  }
  for (const [status, response] of Object.entries(op.responses)) {
    for (const [mediaType, media] of Object.entries(response.content ?? {})) {
      section.append(schemaBlock(`${status} ${mediaType}: ${response.description}`, media.schema));
    }
  }
  return section;
}

async function main() {
  const target = document.getElementById("operations");
  try {
    const response = await fetch("/api/v1/openapi.json");
    if (!response.ok) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    const doc = await response.json();
    document.getElementById("title").textContent = `${doc.info.title} ${doc.info.version}`;
    document.getElementById("description").textContent = doc.info.description;
    const sections = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item))
        sections.push(renderOperation(path, method, op, doc.components?.schemas ?? {}));
    }
    target.replaceChildren(...sections);
  } catch (error) {
    target.replaceChildren(element("p", `Could not load the document: ${error}`, "error"));
  }
}

void main();

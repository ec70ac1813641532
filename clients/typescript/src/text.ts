// The operations whose success answer is not JSON. openapi-fetch parses every
// answer as JSON unless the call says `parseAs`, so a plain GET of a log file
// threw a SyntaxError; these helpers read them as text and turn a failure into
// a ManagementApiError, as unwrap() does for JSON answers.

import type { Client } from "openapi-fetch";
import { ManagementApiError } from "./errors.js";
import type { paths } from "./schema.js";

/**
 * The GET paths whose 200 answer is text (`application/yaml`, `text/plain`).
 * The client of createManagementClient reads them as text when a call gives no
 * `parseAs`. `GET /events` (`text/event-stream`) never ends: use `watch()`.
 */
export const TEXT_RESPONSE_PATHS = ["/config.yaml", "/request-error-logs/{name}", "/request-log-by-id/{id}"] as const;

/** The text of a successful answer ("" for an empty one); a ManagementApiError for any other. */
function textOf(result: { data?: string; error?: unknown; response: Response }): string {
  if (!result.response.ok) {
    throw new ManagementApiError(result.response, result.error);
  }
  return result.data ?? "";
}

/**
 * GET /request-error-logs/{name}: one `error-*.log` file (from GET
 * /request-error-logs) as text. A name that is not there is a
 * ManagementApiError with status 404 (`isNotFound(err)`).
 */
export async function getRequestErrorLog(api: Client<paths>, name: string): Promise<string> {
  return textOf(await api.GET("/request-error-logs/{name}", { params: { path: { name } }, parseAs: "text" }));
}

/**
 * GET /request-log-by-id/{id}: the log of the request whose `X-Request-ID`
 * was `id`, as text; 404 (`isNotFound(err)`) when there is none.
 */
export async function getRequestLog(api: Client<paths>, id: string): Promise<string> {
  return textOf(await api.GET("/request-log-by-id/{id}", { params: { path: { id } }, parseAs: "text" }));
}

/** GET /config.yaml: the stored file's text (comments included) and the revision it is at. */
export async function readConfigYAML(api: Client<paths>): Promise<{ yaml: string; etag: string | undefined }> {
  const result = await api.GET("/config.yaml", { parseAs: "text" });
  return { yaml: textOf(result), etag: result.response.headers.get("ETag") ?? undefined };
}

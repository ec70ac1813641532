// Typed client for the CLI Proxy API Management API.
//
// The request and response types come from src/schema.d.ts, which is generated from
// api/openapi.yaml (`make generate-ts`); this file only adds authentication and a few
// helpers for the ETag / If-Match flow and for the raw config.yaml endpoints;
// errors.ts adds the typed error and conditional edits, text.ts the operations
// that answer text.

import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";
import { TEXT_RESPONSE_PATHS, getRequestErrorLog, getRequestLog, readConfigYAML } from "./text.js";

export type { components, operations, paths };
export {
  DEFAULT_EDIT_ATTEMPTS,
  ManagementApiError,
  apiErrorOf,
  edit,
  isConfigChanged,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  isUnauthorized,
  statusOf,
  unwrap,
  type ConfigChangedTest,
  type Editor,
  type FailureTest,
  type FetchResult,
} from "./errors.js";
export { TEXT_RESPONSE_PATHS, getRequestErrorLog, getRequestLog, readConfigYAML } from "./text.js";
export { watch, type ConfigChangeEvent, type WatchEvent, type WatchOptions } from "./watch.js";

/** Shorthand for the schemas of the spec, e.g. `Schemas["ConfigView"]`. */
export type Schemas = components["schemas"];

/** The JSON error body every failing operation returns. */
export type ApiError = Schemas["Error"];

/** Prefix of every Management API route (the spec's `servers[0].url`). */
export const MANAGEMENT_PREFIX = "/v0/management";

export interface ManagementClientOptions {
  /**
   * Where the server is: its origin (`http://127.0.0.1:8317`) or the full management
   * root (`http://127.0.0.1:8317/v0/management`). `/v0/management` is appended when
   * missing.
   */
  baseUrl: string;
  /** The management key; sent as `Authorization: Bearer <key>` on every request. */
  key: string;
  /** A fetch to use instead of `globalThis.fetch` (tests, proxies, logging). */
  fetch?: (input: Request) => Promise<Response>;
}

/** `{ "If-Match": etag }`, or `{}` when there is no ETag to send. */
export type IfMatchHeader = { "If-Match"?: string };

/**
 * Header object for a conditional write. Pass it as `params.header` (or `headers`) of
 * any mutation; with `undefined`/`null`/`""` nothing is sent and the write applies
 * unconditionally.
 *
 * ```ts
 * await api.PUT("/debug", { body: { value: true }, params: { header: withIfMatch(etag) } });
 * ```
 */
export function withIfMatch(etag: string | null | undefined): IfMatchHeader {
  return etag ? { "If-Match": etag } : {};
}

type HasResponse = { response: Response; error?: unknown };

/**
 * The config revision a response names: its `ETag` header, or, for a 412
 * `config changed` answer without that header, the current revision from the body's
 * `etag` field. Accepts a `Response` or an openapi-fetch result (`{ data, error, response }`).
 */
export function etagOf(result: Response | HasResponse): string | undefined {
  const response = result instanceof Response ? result : result.response;
  const header = response.headers.get("ETag");
  if (header) {
    return header;
  }
  if (!(result instanceof Response)) {
    const err = result.error;
    if (err && typeof err === "object" && "etag" in err && typeof err.etag === "string" && err.etag) {
      return err.etag;
    }
  }
  return undefined;
}

/** Middleware that puts the management key on every request. */
export function bearerAuth(key: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${key}`);
      return request;
    },
  };
}

function managementRoot(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  return trimmed.endsWith(MANAGEMENT_PREFIX) ? trimmed : trimmed + MANAGEMENT_PREFIX;
}

function createHelpers(api: Client<paths>) {
  return {
    /** GET /config.yaml: the stored file as text (comments included) and its ETag. */
    getConfigYAML() {
      return api.GET("/config.yaml", { parseAs: "text" });
    },

    /**
     * PUT /config.yaml: replace the whole file. `text` is sent as is with
     * `Content-Type: application/yaml`; pass the ETag from `getConfigYAML()` as
     * `ifMatch` to refuse the write (412) when the config changed in between.
     */
    putConfigYAML(text: string, ifMatch?: string | null) {
      return api.PUT("/config.yaml", {
        body: text,
        bodySerializer: (body: string) => body,
        headers: { "Content-Type": "application/yaml" },
        params: { header: withIfMatch(ifMatch) },
      });
    },

    /** GET /config.yaml as `{ yaml, etag }`; a failure throws a ManagementApiError. */
    readConfigYAML() {
      return readConfigYAML(api);
    },

    /** One `error-*.log` file as text; a failure (404 …) throws a ManagementApiError. */
    getRequestErrorLog(name: string) {
      return getRequestErrorLog(api, name);
    },

    /** The request log of one `X-Request-ID` as text; a failure (404 …) throws a ManagementApiError. */
    getRequestLog(id: string) {
      return getRequestLog(api, id);
    },
  };
}

const textPaths: ReadonlySet<string> = new Set(TEXT_RESPONSE_PATHS);

/**
 * Makes a GET of a path that answers text read it as text when the call names
 * no `parseAs`: the types already say its data is a string, and openapi-fetch's
 * default (JSON) would throw a SyntaxError instead.
 */
function readTextAnswersAsText(api: Client<paths>): void {
  const get = api.GET;
  const getText = (url: string, init?: { parseAs?: string }) =>
    get(url as never, (textPaths.has(url) && init?.parseAs === undefined ? { ...init, parseAs: "text" } : init) as never);
  api.GET = getText as typeof api.GET;
}

/** The openapi-fetch client for `paths`, plus the config.yaml and text helpers. */
export type ManagementClient = Client<paths> & ReturnType<typeof createHelpers>;

/**
 * Creates a client whose `GET`/`PUT`/`PATCH`/`POST`/`DELETE` methods are typed by the
 * spec (paths are relative to `/v0/management`) and that authenticates every request
 * with the management key.
 */
export function createManagementClient(options: ManagementClientOptions): ManagementClient {
  const api = createClient<paths>({
    baseUrl: managementRoot(options.baseUrl),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  api.use(bearerAuth(options.key));
  readTextAnswersAsText(api);
  return Object.assign(api, createHelpers(api));
}

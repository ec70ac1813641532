// Typed errors and conditional edits, the same layer as the Go SDK's
// (clients/go/mgmtclient/sdk.go): unwrap() turns a failed answer into a
// ManagementApiError, edit() is a read-modify-write that survives concurrent
// writers without ever sending a body computed from stale state.

/** The result shape of every openapi-fetch call: `{ data, error, response }`. */
export interface FetchResult<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/**
 * A non-2xx answer of the Management API. `message` is the usual one-line
 * description; the body's fields are `code` (its `error`), `detail` (its
 * `message`) and `etag` (with 412, the revision the server holds now).
 */
export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  /** The HTTP status, e.g. 412. */
  readonly status: number;
  /** The body's `error` field: the stable reason, e.g. `"config changed"`, `"invalid body"`. */
  readonly code: string;
  /** The body's `message` field: the human-readable detail, when there is one. */
  readonly detail: string | undefined;
  /** The config revision the server holds now: the body's `etag` (412) or the `ETag` header. */
  readonly etag: string | undefined;
  /** The parsed body (or text) as the server sent it. */
  readonly body: unknown;

  constructor(response: Response, body: unknown) {
    const fields = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
    const code = typeof fields["error"] === "string" ? fields["error"] : response.statusText;
    const detail = typeof fields["message"] === "string" && fields["message"] !== "" ? fields["message"] : undefined;
    super(`management API: ${response.status} ${code}${detail ? `: ${detail}` : ""}`);
    this.status = response.status;
    this.code = code;
    this.detail = detail;
    const etag = typeof fields["etag"] === "string" && fields["etag"] !== "" ? fields["etag"] : undefined;
    this.etag = etag ?? response.headers.get("ETag") ?? undefined;
    this.body = body;
  }
}

/** True for a 412 `config changed`: the If-Match revision was stale and nothing changed. */
export function isConfigChanged(err: unknown): err is ManagementApiError {
  return err instanceof ManagementApiError && err.status === 412;
}

/**
 * The data of a successful answer; throws a {@link ManagementApiError} for any other.
 *
 * ```ts
 * const keys = unwrap(await api.GET("/api-keys"))["api-keys"];
 * ```
 */
export function unwrap<D>(result: FetchResult<D>): D {
  const { response } = result;
  if (response.status >= 200 && response.status < 300) {
    return result.data as D;
  }
  throw new ManagementApiError(response, result.error);
}

/** What {@link edit} works on: how to read a state with its ETag, and how to write a new one. */
export interface Editor<T> {
  /** The current state and the revision it was read at (`etagOf(result)`). */
  read(): Promise<{ value: T; etag: string | undefined }>;
  /**
   * Store `next` only if the config is still at `ifMatch` (send `withIfMatch(ifMatch)`).
   * A 412 must reject with a {@link ManagementApiError}, which `unwrap` does.
   */
  write(next: T, ifMatch: string): Promise<unknown>;
  /** Rounds of read, compute, write before giving up; default {@link DEFAULT_EDIT_ATTEMPTS}. */
  attempts?: number;
}

/** How many rounds {@link edit} tries by default. */
export const DEFAULT_EDIT_ATTEMPTS = 5;

/**
 * A conditional read-modify-write. Reads the state, computes the new one with `change`
 * and writes it with `If-Match` set to the revision it read. When another writer got
 * there first (412) the computed value is thrown away: `edit` reads again and calls
 * `change` with the fresh state, so a body computed from stale state is never sent
 * (that would be exactly the lost update If-Match prevents). `change` may run more
 * than once, so it should only compute.
 *
 * After `attempts` rounds of 412 it rejects with the last 412 error
 * (`isConfigChanged(err)` holds); any other error ends it at once.
 *
 * ```ts
 * await edit({
 *   read: async () => { const r = await api.GET("/api-keys"); return { value: unwrap(r)["api-keys"], etag: etagOf(r) }; },
 *   write: async (keys, ifMatch) => unwrap(await api.PUT("/api-keys", { body: keys, params: { header: withIfMatch(ifMatch) } })),
 * }, (keys) => (keys.includes("new-key") ? keys : [...keys, "new-key"]));
 * ```
 */
export async function edit<T>(editor: Editor<T>, change: (current: T) => T | Promise<T>): Promise<void> {
  const attempts = editor.attempts && editor.attempts > 0 ? editor.attempts : DEFAULT_EDIT_ATTEMPTS;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const { value, etag } = await editor.read();
    if (!etag) {
      // Without a revision the write would be unconditional.
      throw new Error("edit: the read returned no ETag, so the write cannot be conditional");
    }
    const next = await change(value);
    try {
      await editor.write(next, etag);
      return;
    } catch (err) {
      if (!isConfigChanged(err)) {
        throw err;
      }
      last = err;
    }
  }
  throw last;
}

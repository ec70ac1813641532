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
 * description (`management API: <status> <errorCode>[: <serverMessage>]`); the
 * body's fields are `errorCode` (its `error`), `serverMessage` (its `message`)
 * and `etag` (with 412, the revision the server holds now).
 */
export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  /** The HTTP status, e.g. 412. */
  readonly status: number;
  /**
   * The body's `error` field: the stable reason, e.g. `"config changed"`,
   * `"invalid body"`; the HTTP status text when the body has none (not JSON).
   */
  readonly errorCode: string;
  /** The body's `message` field: the human-readable detail, when there is one. */
  readonly serverMessage: string | undefined;
  /** The config revision the server holds now: the body's `etag` (412) or the `ETag` header. */
  readonly etag: string | undefined;
  /** The parsed body (or text) as the server sent it. */
  readonly body: unknown;

  constructor(response: Response, body: unknown) {
    const fields = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
    const errorCode = typeof fields["error"] === "string" ? fields["error"] : response.statusText;
    const serverMessage =
      typeof fields["message"] === "string" && fields["message"] !== "" ? fields["message"] : undefined;
    super(`management API: ${response.status} ${errorCode}${serverMessage ? `: ${serverMessage}` : ""}`);
    this.status = response.status;
    this.errorCode = errorCode;
    this.serverMessage = serverMessage;
    const etag = typeof fields["etag"] === "string" && fields["etag"] !== "" ? fields["etag"] : undefined;
    this.etag = etag ?? response.headers.get("ETag") ?? undefined;
    this.body = body;
  }

  /** @deprecated The body's `error` field: use {@link errorCode}. */
  get code(): string {
    return this.errorCode;
  }

  /** @deprecated The body's `message` field: use {@link serverMessage}. */
  get detail(): string | undefined {
    return this.serverMessage;
  }
}

/**
 * The ManagementApiError a value stands for: a thrown one as is, or one built
 * from a failed openapi-fetch result (`{ data, error, response }` with a
 * non-2xx response); `undefined` for anything else (a success, a network error).
 */
export function apiErrorOf(value: unknown): ManagementApiError | undefined {
  if (value instanceof ManagementApiError) {
    return value;
  }
  const response = responseOf(value);
  if (response === undefined || response.ok || value instanceof Response) {
    return undefined;
  }
  return new ManagementApiError(response, (value as { error?: unknown }).error);
}

function responseOf(value: unknown): Response | undefined {
  if (value instanceof Response) {
    return value;
  }
  if (value !== null && typeof value === "object" && "response" in value && value.response instanceof Response) {
    return value.response;
  }
  return undefined;
}

/** The HTTP status a thrown ManagementApiError, an openapi-fetch result or a Response carries. */
export function statusOf(value: unknown): number | undefined {
  return value instanceof ManagementApiError ? value.status : responseOf(value)?.status;
}

/**
 * A test for one kind of failure. It takes what you have: an openapi-fetch
 * result (`{ data, error, response }`) or a Response (then it is a plain
 * boolean), or a caught value (then `true` narrows it to the
 * ManagementApiError that `unwrap`, `edit` and the helpers throw).
 */
export interface FailureTest {
  (result: FetchResult<unknown> | Response): boolean;
  (err: unknown): err is ManagementApiError;
}

function statusTest(status: number): FailureTest {
  return ((value: unknown) => statusOf(value) === status) as FailureTest;
}

/** 404: the item, file or log is not there (`error` says what). */
export const isNotFound: FailureTest = statusTest(404);
/** 409: the write conflicts with the current state, e.g. a hand edit of config.yaml that does not load. */
export const isConflict: FailureTest = statusTest(409);
/** 401: no management key, or a wrong one. */
export const isUnauthorized: FailureTest = statusTest(401);
/** 412: the If-Match revision was stale and nothing changed (the same as {@link isConfigChanged}). */
export const isPreconditionFailed: FailureTest = statusTest(412);

/** {@link isConfigChanged}: a {@link FailureTest} that also reads a result's `error` body alone. */
export interface ConfigChangedTest {
  (result: FetchResult<unknown> | Response): boolean;
  (errorBody: { error: string } | undefined): boolean;
  (err: unknown): err is ManagementApiError;
}

/**
 * True for a 412 `config changed`: the If-Match revision was stale and nothing
 * changed. Accepts a thrown error, an openapi-fetch result, a Response, or the
 * result's `error` body alone (`{ error: "config changed", etag }`).
 */
export const isConfigChanged: ConfigChangedTest = ((value: unknown) =>
  statusOf(value) === 412 || isConfigChangedBody(value)) as ConfigChangedTest;

function isConfigChangedBody(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof Error) &&
    !("response" in value) &&
    "error" in value &&
    value.error === "config changed"
  );
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

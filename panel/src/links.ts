// Links between pages that carry a value (the hash holds only the page):
// the value waits in sessionStorage until the page reads it once.

const REQUEST_KEY = "cpa-panel-request-id";

/** Opens the request log page on one request ID (for pages that show request IDs). */
export function showRequestLog(id: string): void {
  sessionStorage.setItem(REQUEST_KEY, id);
  location.hash = "#/request-log";
}

export function takeRequestLogID(): string | null {
  const v = sessionStorage.getItem(REQUEST_KEY);
  sessionStorage.removeItem(REQUEST_KEY);
  return v;
}

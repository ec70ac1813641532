// A project outside this repository using the packed SDK the way the README
// says (test/pack.test.ts installs the tarball next to it, compiles it with
// the strict tsconfig.json here and runs it against the real server). It adds
// a client key with a conditional edit; with --race a concurrent writer gets
// in first, so the edit gets 412 and recomputes from the fresh list.

import {
  createManagementClient,
  edit,
  etagOf,
  getRequestLog,
  isConfigChanged,
  isNotFound,
  unwrap,
  withIfMatch,
  type Schemas,
} from "@cli-proxy-api/management-client";

const api = createManagementClient({
  baseUrl: process.env["CPA_URL"] ?? "http://127.0.0.1:8317",
  key: process.env["CPA_KEY"] ?? "",
});
const race = process.argv.includes("--race");

let rounds = 0;
await edit(
  {
    read: async () => {
      const r = await api.GET("/api-keys");
      return { value: unwrap(r)["api-keys"], etag: etagOf(r) };
    },
    write: async (keys, ifMatch) =>
      unwrap(await api.PUT("/api-keys", { body: keys, params: { header: withIfMatch(ifMatch) } })),
  },
  async (keys) => {
    rounds++;
    if (race && rounds === 1) {
      unwrap(await api.PUT("/api-keys", { body: [...keys, "other-key"] })); // someone else writes first
    }
    return keys.includes("ts-key") ? keys : [...keys, "ts-key"];
  },
);

const stale = await api.PUT("/debug", { body: { value: true }, params: { header: withIfMatch('"stale"') } });
if (!isConfigChanged(stale)) throw new Error(`a stale If-Match got ${stale.response.status}`);
try {
  unwrap(stale);
} catch (err) {
  if (!isConfigChanged(err)) throw err;
  // isConfigChanged narrowed err to ManagementApiError.
  console.log(`412 ${err.errorCode}, current ${err.etag === etagOf(await api.GET("/debug"))}`);
}

// A log that is not there: the text helper throws a ManagementApiError.
const noLog: string | Error = await getRequestLog(api, "0123456789abcdef").catch((err: Error) => err);
if (!isNotFound(noLog)) throw new Error(`no request log: ${String(noLog)}`);

// The package's types are real (not `any`): a wrong body does not compile.
// @ts-expect-error PUT /debug takes {value: boolean}
const wrongBody = () => api.PUT("/debug", { body: { value: "yes" } });
void wrongBody;

const list: Schemas["ApiKeysList"] = unwrap(await api.GET("/api-keys"));
console.log(rounds, list["api-keys"].join(","));

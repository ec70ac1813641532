// The package as a user gets it: `npm pack` of a clean copy of this package (no
// dist/, so `prepare` has to build it), the tarball installed into a scratch project
// outside the repository, consumer/main.ts compiled there with strict settings
// (skipLibCheck on, as most projects have it; a @ts-expect-error in main.ts proves
// the types are real, not `any`) and run against the real server.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { KEY, packageDir, startServer, type RunningServer } from "./server.js";

const run = promisify(execFile);
const quiet = { npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };

async function sh(cwd: string, cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env: { ...process.env, ...quiet, ...env }, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`, { cause: err });
  }
}

describe("the packed npm package", () => {
  let tmp = "";
  let server: RunningServer | undefined;
  let tarball = "";

  before(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "cpa-ts-pack-"));
  });
  after(async () => {
    await server?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("npm pack of a clean copy builds dist/ and ships only the package", async () => {
    const pkg = path.join(tmp, "pkg");
    await mkdir(pkg);
    for (const f of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md", "src"]) {
      await cp(path.join(packageDir, f), path.join(pkg, f), { recursive: true });
    }
    await symlink(path.join(packageDir, "node_modules"), path.join(pkg, "node_modules"), "dir");
    await sh(pkg, "npm", ["pack", "--pack-destination", tmp]);
    const tgz = (await readdir(tmp)).filter((f) => f.endsWith(".tgz"));
    assert.equal(tgz.length, 1, `one tarball: ${tgz.join(", ")}`);
    tarball = path.join(tmp, tgz[0] ?? "");

    const files = (await sh(tmp, "tar", ["-tzf", tarball])).split("\n").filter(Boolean).sort();
    assert.deepEqual(files, [
      "package/README.md",
      "package/dist/client.d.ts",
      "package/dist/client.js",
      "package/dist/errors.d.ts",
      "package/dist/errors.js",
      "package/dist/schema.d.ts",
      "package/dist/text.d.ts",
      "package/dist/text.js",
      "package/dist/watch.d.ts",
      "package/dist/watch.js",
      "package/package.json",
    ]);
  });

  it("installs into an outside project, compiles strictly and does a conditional edit with a 412 retry", async () => {
    assert.ok(tarball, "the pack test ran");
    const app = path.join(tmp, "app");
    await mkdir(app);
    await writeFile(
      path.join(app, "package.json"),
      JSON.stringify({ name: "outside-app", version: "0.0.0", private: true, type: "module" }, null, 2),
    );
    for (const f of ["main.ts", "tsconfig.json"]) {
      await cp(path.join(packageDir, "consumer", f), path.join(app, f));
    }
    const own = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    // The tarball's dependencies and @types/node come from the registry (the npm
    // cache of `make ts-deps` usually has them).
    await sh(app, "npm", [
      "install",
      "--prefer-offline",
      "--ignore-scripts",
      "--no-package-lock",
      tarball,
      `@types/node@${own.devDependencies["@types/node"]}`,
    ]);
    await sh(app, process.execPath, [path.join(packageDir, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);

    server = await startServer();
    const out = await sh(app, process.execPath, ["main.js", "--race"], {
      CPA_URL: server.origin,
      CPA_KEY: KEY,
    });
    assert.equal(out, "412 config changed, current true\n2 k1,other-key,ts-key\n");
  });
});

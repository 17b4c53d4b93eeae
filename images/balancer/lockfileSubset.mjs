// @ts-check
// Rewrites the workspace's package.json and package-lock.json (in the current directory) so that `npm ci` installs
// only the balancer's part of the lockfile, at the paths the lockfile gives it (a nested version under
// balancer/node_modules stays nested). `npm ci --workspace` alone is not enough: it also installs packages the
// root's own dependencies need. Run by images/balancer/Dockerfile with the base image's node.
//
//   node lockfileSubset.mjs                      the balancer's production dependencies
//   node lockfileSubset.mjs --dev <root dep>...  also its dev dependencies and the named root dev dependencies
//                                                (the compiler lives in the root)
import { readFileSync, writeFileSync } from "node:fs";

const workspace = "balancer";
const [flag, ...rootDevDependencies] = process.argv.slice(2);
const withDev = flag === "--dev";
if (flag !== undefined && !withDev) throw new Error(`unknown option ${flag}: the only option is --dev <root dev dependency>...`);

/** @param {string} path */
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
/** @param {string} path @param {unknown} value */
const writeJson = (path, value) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

const lockfile = readJson("package-lock.json");
/** @type {Record<string, Record<string, any>>} */
const packages = lockfile.packages;

/** Where Node finds `name` when required from the package at `from`, by the lockfile's layout. */
function resolve(/** @type {string} */ from, /** @type {string} */ name) {
  for (let dir = from; ; ) {
    const candidate = `${dir === "" ? "" : `${dir}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === "") return undefined;
    const parent = dir.lastIndexOf("/node_modules/");
    dir = parent === -1 ? "" : dir.slice(0, parent);
  }
}

/** @type {Set<string>} */
const kept = new Set();
function keep(/** @type {string} */ from, /** @type {Record<string, string>} */ dependencies, /** @type {Set<string>} */ optional) {
  for (const name of Object.keys(dependencies)) {
    const path = resolve(from, name);
    if (path === undefined) {
      if (optional.has(name)) continue;
      throw new Error(`${from || "the root"} needs ${name}, which package-lock.json does not hold: run npm install`);
    }
    if (kept.has(path)) continue;
    kept.add(path);
    const entry = packages[path] ?? {};
    const optionalNames = new Set([
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([peer]) => peer),
    ]);
    keep(path, { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }, optionalNames);
  }
}

const workspaceEntry = packages[workspace];
if (workspaceEntry === undefined) throw new Error(`package-lock.json has no ${workspace} workspace`);
keep(workspace, { ...workspaceEntry.dependencies, ...workspaceEntry.optionalDependencies }, new Set(Object.keys(workspaceEntry.optionalDependencies ?? {})));
if (withDev) {
  keep(workspace, workspaceEntry.devDependencies ?? {}, new Set());
  const rootDev = packages[""]?.devDependencies ?? {};
  for (const name of rootDevDependencies) {
    if (rootDev[name] === undefined) throw new Error(`${name} is not a dev dependency of the root package.json`);
  }
  keep("", Object.fromEntries(rootDevDependencies.map((name) => [name, rootDev[name]])), new Set());
}

const root = readJson("package.json");
const workspaceManifest = readJson(`${workspace}/package.json`);
const rootDevSubset = Object.fromEntries(rootDevDependencies.map((name) => [name, root.devDependencies[name]]));
const subsetRoot = { name: root.name, version: root.version, private: true, workspaces: [workspace], devDependencies: rootDevSubset };
const subsetWorkspace = withDev ? workspaceManifest : { ...workspaceManifest, devDependencies: undefined };
const { devDependencies: _workspaceDev, ...workspaceEntryWithoutDev } = workspaceEntry;
// Dev flags describe the whole workspace; in the subset every kept package is installed, so none may be omitted.
const unflagged = (/** @type {Record<string, any>} */ entry) => ({ ...entry, dev: undefined, devOptional: undefined });

writeJson("package.json", subsetRoot);
writeJson(`${workspace}/package.json`, subsetWorkspace);
writeJson("package-lock.json", {
  ...lockfile,
  packages: {
    "": { name: root.name, version: root.version, workspaces: [workspace], devDependencies: rootDevSubset },
    [workspace]: withDev ? workspaceEntry : workspaceEntryWithoutDev,
    // The workspace's own link (node_modules/@mediaplane/balancer), which npm expects beside it.
    ...Object.fromEntries(Object.entries(packages).filter(([, entry]) => entry.link === true && entry.resolved === workspace)),
    ...Object.fromEntries([...kept].sort().map((path) => [path, withDev ? packages[path] : unflagged(packages[path] ?? {})])),
  },
});

import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, readFile, readdir } from "node:fs/promises";
import { request } from "node:http";
import { join, relative } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { ISecret } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startRedis, type RedisServer } from "../../balancer/test/support/redis.js";
import { declareWithMocks, objectOf, type DeclaredResource } from "../k8s/support/declared.js";
import { testIngressBinding } from "../k8s/support/fixtures.js";
import { eventually } from "../k8s/support/processes.js";
import { podRun, type PodRun } from "./support/podRun.js";
import {
  buildImage,
  ensureStandInBases,
  imageToolsMissing,
  mountImage,
  podman,
  repositoryRoot,
  startContainer,
  unmountImage,
  type RunningContainer,
} from "./support/podman.js";

// images/balancer/Dockerfile built on the stand-in of its pinned Node base, then started as the balancer-api
// Deployment starts it: the rendered pod spec's user, groups, capabilities, read-only root, env and Secret files.
const missing = await imageToolsMissing();
if (missing !== undefined) console.warn(missing);

const image = "localhost/mediaplane/balancer:test";
const baseDomain = "api.example.org";
const tenantSecret = "acme-shared-secret-0123456789";
const redisPassword = randomBytes(12).toString("hex");

let redis: RedisServer;
let declared: DeclaredResource[];
let run: PodRun;
let container: RunningContainer;
let apiPort: number;
let adminPort: number;
let imageRoot: string;

interface Answer {
  status: number;
  body: string;
}

/** A GET with a Host header, as traefik forwards a tenant's request (fetch may not set Host). */
function get(port: number, path: string, host = "127.0.0.1"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** BBB's checksum: lowercase hex of SHA-256 over call name + query + shared secret (docs/bbb-api.md, "Checksum"). */
function signed(callName: string, query: string, secret: string): string {
  const checksum = createHash("sha256").update(`${callName}${query}${secret}`).digest("hex");
  return `/t/acme/bigbluebutton/api/${callName}?${query === "" ? "" : `${query}&`}checksum=${checksum}`;
}

/** Installed packages under an image's node_modules folders: path relative to /app → version. */
async function installedPackages(appDir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (nodeModules: string): Promise<void> => {
    if (!existsSync(nodeModules)) return;
    for (const entry of await readdir(nodeModules)) {
      if (entry.startsWith(".")) continue;
      const names = entry.startsWith("@") ? (await readdir(join(nodeModules, entry))).map((name) => `${entry}/${name}`) : [entry];
      for (const name of names) {
        const dir = join(nodeModules, name);
        if ((await lstat(dir)).isSymbolicLink()) continue; // the workspace's own link, not a dependency
        const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version: string };
        found.set(relative(appDir, dir), manifest.version);
        await visit(join(dir, "node_modules"));
      }
    }
  };
  await visit(join(appDir, "node_modules"));
  await visit(join(appDir, "balancer", "node_modules"));
  return found;
}

/** What Node loads from the balancer: its dependencies resolved through the installed folders, recursively. */
async function reachableFromBalancer(appDir: string): Promise<Set<string>> {
  const reached = new Set<string>();
  const resolveFrom = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(dir.lastIndexOf("/node_modules/"), 0))) {
      const candidate = join(dir, "node_modules", name);
      if (existsSync(join(appDir, candidate, "package.json")) && !candidate.startsWith("node_modules/@mediaplane/")) return candidate;
      if (dir === "") return undefined;
    }
  };
  const follow = async (from: string): Promise<void> => {
    const manifest = JSON.parse(await readFile(join(appDir, from, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    const optional = new Set([...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependenciesMeta ?? {})]);
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies })) {
      const path = resolveFrom(from, name);
      if (path === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${from} needs ${name}, which the image does not hold`);
      }
      if (reached.has(path)) continue;
      reached.add(path);
      await follow(path);
    }
  };
  await follow("balancer");
  return reached;
}

/** Every file under `root` whose path matches `pattern`, relative to `root` (symlinks not followed). */
async function filesMatching(root: string, pattern: RegExp, under = ""): Promise<string[]> {
  const matches: string[] = [];
  for (const entry of await readdir(join(root, under), { withFileTypes: true })) {
    const path = join(under, entry.name);
    if (entry.isDirectory()) {
      if (["proc", "sys", "dev"].includes(path)) continue;
      matches.push(...(await filesMatching(root, pattern, path)));
    } else if (pattern.test(`/${path}`)) {
      matches.push(`/${path}`);
    }
  }
  return matches;
}

describe.skipIf(missing !== undefined)("the balancer image, started as the balancer-api Deployment starts it", () => {
  beforeAll(async () => {
    await ensureStandInBases();
    await buildImage({ dockerfile: "images/balancer/Dockerfile", context: ".", tag: image });
    imageRoot = await mountImage(image);

    redis = await startRedis(["--requirepass", redisPassword]);
    ({ declared } = await declareWithMocks(async () => {
      const k8s = await import("@pulumi/kubernetes");
      const { Balancer } = await import("../../components/k8s/Balancer.js");
      const { renderBalancerConfigFile } = await import("@mediaplane/balancer/config");
      new Balancer("balancer", {
        provider: new k8s.Provider("cluster", { kubeconfig: "{}" }),
        namespace: "platform",
        image: "registry.example.org/balancer@sha256:" + "cd".repeat(32),
        configFile: renderBalancerConfigFile({
          tenants: [{ slug: "acme", secrets: [tenantSecret] }],
          nodes: [{ id: "bbb-1", url: "https://bbb-1.example.org/bigbluebutton/api/", secret: "node-secret-0123456789" }],
        }),
        redisUrl: `redis://:${redisPassword}@127.0.0.1:${redis.port}/0`,
        redisEndpoint: { kind: "managed", port: redis.port },
        nodeUrls: ["https://bbb-1.example.org/bigbluebutton/api/"],
        podCidrs: ["10.244.0.0/16"],
        apiBaseDomain: baseDomain,
        trustedProxies: ["10.244.0.0/16"],
        api: { autoscaling: { minReplicas: 2, maxReplicas: 4, targetCpuPercent: 70 } },
        ingress: testIngressBinding(),
      });
      return {};
    }));
    const deployment = objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", "balancer-api");
    const pod = deployment.spec?.template.spec;
    const balancer = pod?.containers[0];
    if (pod === undefined || balancer === undefined) throw new Error("balancer-api has no pod template");
    [apiPort, adminPort] = [await freePort(), await freePort()];
    run = await podRun({
      pod,
      container: balancer,
      secrets: [objectOf<ISecret>(declared, "kubernetes:core/v1:Secret", "balancer")],
      // Placement only: the test shares the host's network, so loopback and free ports instead of the pod's own IP.
      envOverrides: { LISTEN_HOST: "127.0.0.1", ADMIN_HOST: "127.0.0.1", PORT: String(apiPort), ADMIN_PORT: String(adminPort) },
      unknownSecretValue: () => randomBytes(24).toString("hex"),
    });
    container = await startContainer(`mediaplane-balancer-${process.pid}`, [
      "--network=host",
      ...run.optionsBeforeImage,
      image,
      ...run.argsAfterImage,
    ]);
    await eventually(async () => {
      if (container.exited()) throw new Error(`the balancer exited:\n${container.output()}`);
      const ready = await get(adminPort, "/readyz");
      if (ready.status !== 200) throw new Error(`readyz: ${ready.status} ${ready.body}`);
      // The admin server (and /readyz) starts before the API server binds: wait for the API as well.
      const version = await get(apiPort, "/t/acme/bigbluebutton/api/", baseDomain);
      if (version.status !== 200) throw new Error(`API version document: ${version.status} ${version.body}`);
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${container.output()}`);
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await container?.stop();
    await run?.cleanup();
    if (imageRoot !== undefined) await unmountImage(image);
    await redis?.close();
  });

  it("answers /readyz on the admin port once Redis answers", async () => {
    expect((await get(adminPort, "/readyz")).status).toBe(200);
  });

  it("answers a tenant's checksummed getMeetings with a BBB success document", async () => {
    const answer = await get(apiPort, signed("getMeetings", "", tenantSecret), baseDomain);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("<returncode>SUCCESS</returncode>");
    expect(answer.body).toContain("<messageKey>noMeetings</messageKey>");
  });

  it("refuses a getMeetings signed with another secret, with BBB's checksumError", async () => {
    const answer = await get(apiPort, signed("getMeetings", "", "not-the-tenant-secret-0000"), baseDomain);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("<returncode>FAILED</returncode>");
    expect(answer.body).toContain("<messageKey>checksumError</messageKey>");
  });

  it("runs the image's entrypoint as uid and gid 10001 with no capabilities and no way to gain privileges", async () => {
    const status = await podman(["exec", container.name, "cat", "/proc/1/status"]);
    expect(await podman(["exec", container.name, "cat", "/proc/1/cmdline"])).toBe("node\0balancer/dist/main.js\0");
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(status).toMatch(new RegExp(`^${set}:\\s+0{16}$`, "m"));
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
  });

  it("cannot write its root file system, only the /tmp volume", async () => {
    const write = (path: string) => podman(["exec", container.name, "node", "-e", `require("fs").writeFileSync(${JSON.stringify(path)}, "x")`]);
    await expect(write("/app/balancer/dist/main.js")).rejects.toThrow(/EROFS|read-only/);
    await expect(write("/var/tmp/x")).rejects.toThrow(/EROFS|read-only/);
    await expect(write("/tmp/x")).resolves.toBe("");
  });

  it("holds exactly the balancer's production dependencies, at the versions and paths the lockfile gives them", async () => {
    const app = join(imageRoot, "app");
    const installed = await installedPackages(app);
    const lockfile = JSON.parse(await readFile(join(repositoryRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    expect([...installed.keys()].sort()).toEqual([...(await reachableFromBalancer(app))].sort());
    for (const [path, version] of installed) {
      expect({ path, version, dev: lockfile.packages[path]?.dev ?? false }).toEqual({ path, version: lockfile.packages[path]?.version, dev: false });
    }
    // The version the balancer needs, nested because another workspace package hoists a different major.
    expect(installed.get("balancer/node_modules/undici")).toBe(lockfile.packages["balancer/node_modules/undici"]?.version);
  });

  it("carries no compiler, build tools, tests of ours, simulator, sandbox, npm config or build CA", async () => {
    // Dependencies' own test folders stay as their packages publish them: the tree is the lockfile's, unedited.
    const unwanted = await filesMatching(
      imageRoot,
      /^\/(usr\/(local\/)?bin\/(cc|gcc|g\+\+|make|tsc|tsx)$|app\/.*\/typescript\/|app\/.*\/(vitest|@types)\/|app\/balancer\/dist\/(simulator|sandbox)\/|app\/balancer\/.*\.test\.js$|.*\/\.npmrc$|mnt\/.)/,
    );
    expect(unwanted).toEqual([]);
    const config = JSON.parse(await podman(["image", "inspect", image])) as [{ Config: { Env?: string[] } }];
    expect(config[0].Config.Env?.filter((variable) => variable.startsWith("NODE_EXTRA_CA_CERTS"))).toEqual([]);
  });
});

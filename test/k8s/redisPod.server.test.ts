import { randomBytes } from "node:crypto";
import { chmod, chown, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IStatefulSet } from "kubernetes-models/apps/v1";
import type { IConfigMap, IContainer, IPodSpec, ISecret } from "kubernetes-models/v1";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { containerPid, hostStandInImage, imageToolsMissing, podman, startContainer, type RunningContainer, type StandInImage } from "../images/support/podman.js";
import { podRun, type PodRun } from "../images/support/podRun.js";
import { runStack } from "../stacks/support/stackRun.js";
import { eventually } from "./support/processes.js";

/*
 * The dev stack's in-cluster Redis as its pod runs it, in podman: the rendered StatefulSet's command and args,
 * environment (Secret values resolved), the redis-config ConfigMap at /etc/redis, the redis-auth Secret's password
 * file at /etc/redis-auth (mode and group as the kubelet projects them with the pod's fsGroup), a data directory as
 * a fresh volume with the fsGroup applied, uid/gid 999, ALL capabilities dropped, no-new-privileges and a read-only
 * root. Debian's redis-server stands in for the image's. Only placement changes: loopback and a free port instead
 * of 0.0.0.0:6379 (the pod has its own network; this test shares the host's).
 *
 * Upstream rules this encodes: redis.conf (INCLUDES: `include` reads another file as if its lines were here; the
 * last value of a directive wins) for the password file; redis_exporter v1.45.0 main.go reads `REDIS_PASSWORD`
 * from the environment (flag default `getEnv("REDIS_PASSWORD", "")`), so the sidecar needs no argument either.
 */
const unavailable = await imageToolsMissing();
const password = randomBytes(20).toString("hex");
const runName = `mediaplane-redis-pod-${process.pid}`;

let container: IContainer;
let run: PodRun | undefined;
let standIn: StandInImage | undefined;
let redis: RunningContainer | undefined;
let dataDir: string | undefined;
let port: number;

beforeAll(async () => {
  if (unavailable !== undefined) return;
  const stack = await runStack("dev");
  const statefulSet = stack.inputsOf(stack.get("kubernetes:apps/v1:StatefulSet", "mediaplane-redis-statefulset")) as unknown as IStatefulSet;
  const pod = statefulSet.spec?.template.spec as IPodSpec;
  container = pod.containers.find((candidate) => candidate.name === "redis") as IContainer;
  const secret = stack.inputsOf(stack.get("kubernetes:core/v1:Secret", "mediaplane-redis-secret")) as unknown as ISecret;
  const configMap = stack.inputsOf(stack.get("kubernetes:core/v1:ConfigMap", "mediaplane-redis-config")) as unknown as IConfigMap;
  port = await freePort();
  const placed: IConfigMap = {
    ...configMap,
    data: { "redis.conf": (configMap.data?.["redis.conf"] ?? "").replace("port 6379", `port ${port}`).replace("bind 0.0.0.0", "bind 127.0.0.1") },
  };
  // A fresh volume as the kubelet hands it over with fsGroup 999: group-owned, setgid, group-writable.
  dataDir = await mkdtemp(join(tmpdir(), "mediaplane-redis-data-"));
  await chown(dataDir, 0, 999);
  await chmod(dataDir, 0o2770);

  run = await podRun({
    pod,
    container,
    secrets: [secret],
    configMaps: [placed],
    claims: { data: dataDir },
    // The generated password, wherever the Secret holds it (alone, and in the password file the program renders).
    unknownSecretValue: (_key, placeholder) => {
      if (!placeholder.includes("mediaplane-redis-password")) throw new Error(`unexpected unknown value ${placeholder}`);
      return password;
    },
  });
  standIn = await hostStandInImage();
  redis = await startContainer(runName, ["--network=host", ...run.optionsBeforeImage, ...standIn.imageArgs, ...run.argsAfterImage]);
  await eventually(async () => {
    if (redis?.exited() === true) throw new Error(`redis exited:\n${redis.output()}`);
    const client = connect(password);
    try {
      await client.ping();
    } finally {
      client.disconnect();
    }
  }, 20_000);
}, 120_000);

afterAll(async () => {
  await redis?.stop();
  await run?.cleanup();
  await standIn?.remove();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

/** A client that reports refusals through its commands only. */
function connect(secret: string | undefined): Redis {
  const client = new Redis({ host: "127.0.0.1", port, ...(secret === undefined ? {} : { password: secret }), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  return client;
}

describe.skipIf(unavailable !== undefined)("the in-cluster Redis as its pod runs it (podman, uid 999, read-only root)", () => {
  it("is started by its own binary on the mounted config, with nothing else on the command line", () => {
    expect([...(container.command ?? []), ...(container.args ?? [])]).toEqual(["redis-server", "/etc/redis/redis.conf"]);
  });

  it("hands the container runtime no password: what crictl or the runtime's bundle on the node would show", async () => {
    const configPath = (await podman(["inspect", "--format", "{{.OCIConfigPath}}", runName])).trim();
    const processArgs = (JSON.parse(await readFile(configPath, "utf8")) as { process: { args: string[] } }).process.args;
    expect(processArgs).toEqual(["redis-server", "/etc/redis/redis.conf"]);
    expect(processArgs.join(" ")).not.toContain(password);
  });

  it("shows no password in /proc/<pid>/cmdline", async () => {
    const cmdline = await readFile(`/proc/${await containerPid(runName)}/cmdline`, "utf8");
    expect(cmdline).toMatch(/^redis-server/);
    expect(cmdline).not.toContain(password);
  });

  it("serves a client that has the password", async () => {
    const client = connect(password);
    try {
      await client.set("meeting:pod-test", "node-1");
      expect(await client.get("meeting:pod-test")).toBe("node-1");
    } finally {
      client.disconnect();
    }
  });

  it("refuses a client without the password, and one with another", async () => {
    for (const secret of [undefined, "not-the-password"]) {
      const client = connect(secret);
      try {
        await expect(client.get("meeting:pod-test")).rejects.toThrow(secret === undefined ? /NOAUTH/ : /WRONGPASS|invalid password/);
      } finally {
        client.disconnect();
      }
    }
  });

  it("writes its append-only file to the volume it is given", async () => {
    const entries = await readdir(join(dataDir ?? "", "appendonlydir"));
    expect(entries.some((entry) => entry.endsWith(".incr.aof"))).toBe(true);
  });
});

import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IContainer } from "kubernetes-models/v1";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { renderCertificateReloader } from "../../components/k8s/render/coturn.js";
import { projectSecretFiles } from "../images/support/podRun.js";
import { runStack } from "../stacks/support/stackRun.js";
import { eventually, startProcess, type StartedProcess } from "./support/processes.js";

/*
 * The certificate reloader's script and probes on their own, in a PID namespace of their own (as in the pod, where
 * shareProcessNamespace puts the reloader next to turnserver and nothing else), with a stand-in `turnserver` that
 * starts as coturn does: a while without a SIGUSR2 handler, then one that reloads. coturn 4.6.3 installs it only once
 * its listeners are set up (src/apps/relay/mainrelay.c: main → setup_server → signal(SIGUSR2, reload_ssl_certs)), and
 * until then SIGUSR2's default action ends the process (signal(7)), which is what a signal sent too early does.
 */
const reloadsLog = "reloads";
let workDir: string;
let running: StartedProcess[] = [];

/** A `turnserver` that catches SIGUSR2 only after `startupSeconds` (never when undefined), logging each reload. */
async function standInTurnserver(startupSeconds: number | undefined): Promise<string> {
  const binary = join(workDir, "bin", "turnserver");
  const handler = startupSeconds === undefined ? "" : `sleep ${startupSeconds}\ntrap 'echo reloaded >> ${join(workDir, reloadsLog)}' USR2\n`;
  await writeFile(binary, `#!/bin/sh\n${handler}while :; do sleep 0.1; done\n`);
  await chmod(binary, 0o755);
  return binary;
}

/** The reloader and `turnserver` alone in a new PID namespace; gone, with both, when the test stops it. */
async function startReloaderBeside(turnserver: string, certDir: string): Promise<StartedProcess> {
  const script = renderCertificateReloader({ certDir, stateFile: join(workDir, "loaded"), intervalSeconds: 1 });
  const started = startProcess("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", `"$0" & exec sh -c "$1"`, turnserver, script]);
  running.push(started);
  await eventually(async () => expect(started.output()).toContain("watching"), 10_000);
  return started;
}

const reloads = async (): Promise<number> => (await readFile(join(workDir, reloadsLog), "utf8").catch(() => "")).split("\n").filter(Boolean).length;

describe("the coturn certificate reloader signals only a turnserver that catches SIGUSR2", () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "mediaplane-reloader-"));
    await mkdir(join(workDir, "bin"));
  });

  afterEach(async () => {
    // unshare --fork ignores SIGTERM while it waits; its death takes the namespace down (--kill-child).
    for (const started of running) {
      started.process.kill("SIGKILL");
      await started.stop();
    }
    running = [];
    await rm(join(workDir, "loaded"), { force: true });
    await rm(join(workDir, reloadsLog), { force: true });
  });

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it("holds a renewal that comes while turnserver starts until its handler is in place, then reloads it once", async () => {
    const certs = join(workDir, "starting-tls");
    await projectSecretFiles(certs, { "tls.crt": "first\n" });
    const reloader = await startReloaderBeside(await standInTurnserver(3), certs);
    await projectSecretFiles(certs, { "tls.crt": "renewed\n" });
    await eventually(async () => expect(reloader.output()).toMatch(/does not catch SIGUSR2 yet \(still starting\); retrying/), 5_000);
    await eventually(async () => expect(await reloads()).toBe(1), 15_000);
    expect(reloader.output().match(/sent SIGUSR2 to turnserver/g)).toHaveLength(1);
  }, 30_000);

  it("never sends SIGUSR2 to a turnserver that does not catch it, so it keeps running", async () => {
    const certs = join(workDir, "deaf-tls");
    await projectSecretFiles(certs, { "tls.crt": "first\n" });
    const reloader = await startReloaderBeside(await standInTurnserver(undefined), certs);
    await projectSecretFiles(certs, { "tls.crt": "renewed\n" });
    await eventually(async () => expect(reloader.output().match(/does not catch SIGUSR2 yet/g)?.length ?? 0).toBeGreaterThanOrEqual(3), 10_000);
    expect(reloader.output()).not.toContain("sent SIGUSR2");
    expect(reloader.output()).not.toContain("no turnserver process is visible");
  }, 30_000);
});

/*
 * The liveness probe exactly as the prod manifest renders it, run against /run/reloader in a mount namespace of its
 * own (a private tmpfs over /run), as the kubelet would exec it in the reloader's container.
 */
describe("the coturn certificate reloader's liveness probe", () => {
  let probe: string[];
  let stateFile: string;

  beforeAll(async () => {
    const stack = await runStack("prod");
    const deployment = stack.inputsOf(stack.get("kubernetes:apps/v1:Deployment", "mediaplane-turn-deployment")) as unknown as IDeployment;
    const reloader = deployment.spec?.template.spec?.containers.find((container) => container.name === "certificate-reloader") as IContainer;
    probe = reloader.livenessProbe?.exec?.command ?? [];
    stateFile = reloader.volumeMounts?.find((mount) => mount.name === "reloader-state")?.mountPath + "/loaded";
  }, 60_000);

  /** The probe's exit status with the state file `ageSeconds` old, or absent. */
  async function probeWith(ageSeconds: number | undefined): Promise<number | null> {
    const stateDir = stateFile.slice(0, stateFile.lastIndexOf("/"));
    const layout =
      ageSeconds === undefined ? `mkdir -p ${stateDir}` : `mkdir -p ${stateDir} && : > ${stateFile} && touch -d @$(( $(date +%s) - ${ageSeconds} )) ${stateFile}`;
    const run = startProcess("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs none /run && ${layout} && exec "$@"`, "sh", ...probe]);
    await new Promise((resolve) => run.process.once("exit", resolve));
    return run.process.exitCode;
  }

  it("reads the state file the reloader's loop rewrites every round", () => {
    expect(probe.join(" ")).toContain(stateFile);
  });

  it("passes while the loop rewrites its state file", async () => {
    expect(await probeWith(0)).toBe(0);
  });

  it("fails once the state file has not been rewritten for a minute: the loop hangs", async () => {
    expect(await probeWith(120)).not.toBe(0);
  });

  it("fails when there is no state file at all", async () => {
    expect(await probeWith(undefined)).not.toBe(0);
  });
});

import { execFile, spawn } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { IContainer, IPodSecurityContext } from "kubernetes-models/v1";

const run = promisify(execFile);

/** A rendered container to run in podman as its pod runs it. */
export interface PodContainerRun {
  readonly container: IContainer;
  readonly podSecurity: IPodSecurityContext | undefined;
  /** Host paths standing in for the pod's volumes, by volume name (a directory; `subPath` mounts pick a file in it). */
  readonly volumes: Readonly<Record<string, string>>;
  /** Values of `secretKeyRef` variables, by `<secret name>/<key>` (what the kubelet would read from the Secret). */
  readonly secretValues?: Readonly<Record<string, string>>;
  /** Files of the image that differ from this machine's (e.g. a binary with the image's file capability), by path. */
  readonly imageFiles?: Readonly<Record<string, string>>;
  /** Placement-only rewrites of command and args (loopback, free ports); everything else runs as rendered. */
  readonly rewrite?: (word: string) => string;
}

export interface RunningContainer {
  /** The container's main process as this machine sees it (for /proc/<pid>/...). */
  readonly hostPid: number;
  output(): string;
  /** Resolves with the exit code once the container has ended. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Why podman runs cannot happen here, or undefined when they can. */
export function podmanUnavailable(): string | undefined {
  return process.getuid?.() === 0 ? undefined : "podman runs with --user/--cap-drop need root here (rootful podman)";
}

/** Kubernetes' `$(VAR)` expansion of command and args from the container's environment (`$$` escapes). */
export function expandKubernetesReferences(word: string, env: Readonly<Record<string, string>>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? "$" : (env[name] ?? match),
  );
}

function resolvedEnv(run: PodContainerRun): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of run.container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (ref !== undefined) {
      const value = run.secretValues?.[`${ref.name}/${ref.key}`];
      if (value === undefined) throw new Error(`${run.container.name}: no value for secret ${ref.name}/${ref.key} of ${variable.name}`);
      env[variable.name] = value;
    } else throw new Error(`${run.container.name}: ${variable.name} reads a source the test cannot resolve`);
  }
  return env;
}

/**
 * The podman flags of a container's security context, pod level as the default: user and group, fsGroup as a
 * supplementary group, capabilities, no-new-privileges and the read-only root (without podman's extra tmpfs mounts,
 * which a pod does not get).
 */
function securityFlags(container: IContainer, pod: IPodSecurityContext | undefined): string[] {
  const security = container.securityContext ?? {};
  const uid = security.runAsUser ?? pod?.runAsUser;
  const gid = security.runAsGroup ?? pod?.runAsGroup;
  if (uid === undefined) throw new Error(`${container.name}: the manifest names no runAsUser`);
  return [
    `--user=${uid}:${gid ?? 0}`,
    ...(pod?.fsGroup === undefined ? [] : [`--group-add=${pod.fsGroup}`]),
    ...(security.capabilities?.drop ?? []).map((capability) => `--cap-drop=${capability}`),
    ...(security.capabilities?.add ?? []).map((capability) => `--cap-add=${capability}`),
    ...(security.allowPrivilegeEscalation === false ? ["--security-opt=no-new-privileges"] : []),
    ...(security.readOnlyRootFilesystem === true ? ["--read-only", "--read-only-tmpfs=false"] : []),
  ];
}

/** A stand-in root: this machine's /usr (merged-/usr symlinks), the loader cache, and the mount points. */
async function standInRoot(dir: string, mountPoints: readonly { path: string; file: boolean }[]): Promise<string> {
  const root = join(dir, "rootfs");
  for (const sub of ["usr", "etc", "tmp", "proc", "dev", "sys", "run"]) await mkdir(join(root, sub), { recursive: true });
  await chmod(join(root, "tmp"), 0o1777);
  for (const entry of ["bin", "sbin", "lib", "lib64"]) await run("ln", ["-s", `usr/${entry}`, join(root, entry)]);
  await copyFile("/etc/ld.so.cache", join(root, "etc/ld.so.cache"));
  await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  for (const point of mountPoints) {
    if (point.path.startsWith("/usr/")) continue;
    const target = join(root, point.path);
    await mkdir(point.file ? dirname(target) : target, { recursive: true });
    if (point.file) await writeFile(target, "");
  }
  return root;
}

/**
 * Starts one container of a rendered pod in Debian's podman (runc, cgroupfs, vfs, host network), with the manifest's
 * command and args ($(VAR) expanded as the kubelet does), env (Secret values resolved), volume mounts at their mount
 * paths (read-only where declared), user/group, capabilities, no-new-privileges and read-only root. The image is a
 * stand-in built from this machine's /usr; `imageFiles` overlay the files in which the real image differs.
 */
export async function startPodContainer(spec: PodContainerRun): Promise<RunningContainer> {
  const { container } = spec;
  const command = [...(container.command ?? []), ...(container.args ?? [])];
  if (container.command === undefined) throw new Error(`${container.name}: the manifest names no command (the image's entrypoint would run)`);
  const env = resolvedEnv(spec);
  const rewrite = spec.rewrite ?? ((word: string) => word);
  const argv = command.map((word) => rewrite(expandKubernetesReferences(word, env)));

  const dir = await mkdtemp(join(tmpdir(), `mediaplane-podman-${container.name}-`));
  const mounts = (container.volumeMounts ?? []).map((mount) => {
    const volume = spec.volumes[mount.name];
    if (volume === undefined) throw new Error(`${container.name}: no stand-in for volume ${mount.name}`);
    const source = mount.subPath === undefined ? volume : join(volume, mount.subPath);
    return { source, path: mount.mountPath, readOnly: mount.readOnly === true, file: mount.subPath !== undefined };
  });
  const root = await standInRoot(dir, mounts);
  await writeFile(join(dir, "containers.conf"), "[containers]\ndefault_ulimits = []\n");
  const name = `mediaplane-${container.name}-${process.pid}-${Date.now()}`;
  const podman = [
    "--root", join(dir, "storage"), "--runroot", join(dir, "run"), "--storage-driver=vfs",
    "--cgroup-manager=cgroupfs", "--runtime=runc", "--events-backend=none",
  ];
  const args = [
    ...podman, "run", "--rm", `--name=${name}`, "--network=host", "--pull=never",
    ...securityFlags(container, spec.podSecurity),
    "-v", "/usr:/usr:ro",
    ...Object.entries(spec.imageFiles ?? {}).flatMap(([path, source]) => ["-v", `${source}:${path}:ro`]),
    ...mounts.flatMap((mount) => ["-v", `${mount.source}:${mount.path}${mount.readOnly ? ":ro" : ""}`]),
    ...Object.entries(env).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
    "--rootfs", root, ...argv,
  ];
  const child = spawn("podman", args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CONTAINERS_CONF: join(dir, "containers.conf") },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const cleanUp = exited.then(() => rm(dir, { recursive: true, force: true }));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await cleanUp;
  };

  const hostPid = await waitForPid(name, podman, exited, () => output).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { hostPid, output: () => output, exited, stop };
}

async function waitForPid(name: string, podman: string[], exited: Promise<number | null>, output: () => string): Promise<number> {
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !ended) {
    const { stdout } = await run("podman", [...podman, "inspect", "--format", "{{.State.Pid}}", name]).catch(() => ({ stdout: "0" }));
    const pid = Number(stdout.trim());
    if (pid > 0) return pid;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`container ${name} did not start:\n${output()}`);
}

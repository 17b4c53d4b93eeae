import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IContainer, IPodSpec } from "kubernetes-models/v1";
import type { StartedProcess } from "./processes.js";

/**
 * Runs one container of a rendered pod spec on this machine's own binaries the way the kubelet would run it: its
 * command and plain env, as its user and group, with no capabilities beyond the ones it adds, no-new-privileges, a
 * read-only root when the manifest says so, and each volume mounted at its mount path (read-only where declared).
 * The root is a stand-in: the host's /usr and /etc read-only, plus the mount points. Networking is the host's
 * (the media pods use host networking). `unshare` gives the run its own mount namespace; `setpriv` sets the identity.
 * Needs root, as the kubelet does.
 */
export interface ContainerRun {
  pod: IPodSpec;
  container: IContainer;
  /** Host directories standing in for the pod's volumes, by volume name. */
  volumes: Readonly<Record<string, string>>;
  /** Placement-only rewrites of the command (loopback addresses, free ports); everything else runs as rendered. */
  rewrite?: (text: string) => string;
}

export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "running a container as its pod runs it needs root (mount namespace, setpriv)";
  return undefined;
}

function identityOf(run: ContainerRun): { uid: number; gid: number } {
  const uid = run.container.securityContext?.runAsUser ?? run.pod.securityContext?.runAsUser;
  const gid = run.container.securityContext?.runAsGroup ?? run.pod.securityContext?.runAsGroup;
  if (uid === undefined || gid === undefined) throw new Error(`${run.container.name}: the manifest names no runAsUser/runAsGroup`);
  return { uid, gid };
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The shell script, run as root in a fresh mount namespace, that builds the container's root and enters it. */
function enterScript(run: ContainerRun, root: string): string {
  const security = run.container.securityContext ?? {};
  const { uid, gid } = identityOf(run);
  const lines = [
    "set -eu",
    "mount --make-rprivate /",
    `root=${quote(root)}`,
    'mount -t tmpfs -o mode=0755 container-root "$root"',
    // Merged /usr: /bin, /lib, ... are symlinks into it on Debian.
    'for entry in bin sbin lib lib32 lib64 libx32; do [ -L "/$entry" ] && ln -s "$(readlink "/$entry")" "$root/$entry"; done',
    'for dir in usr etc; do mkdir "$root/$dir"; mount --rbind -o ro "/$dir" "$root/$dir"; mount -o remount,bind,ro "$root/$dir"; done',
    'mkdir "$root/dev" "$root/proc" "$root/tmp"',
    'mount --rbind /dev "$root/dev"',
    'mount -t proc proc "$root/proc"',
  ];
  for (const mount of run.container.volumeMounts ?? []) {
    const source = run.volumes[mount.name];
    if (source === undefined) throw new Error(`${run.container.name}: no stand-in for volume ${mount.name}`);
    const mounted = mount.subPath === undefined ? source : join(source, mount.subPath);
    if (mount.subPath !== undefined) {
      // The kubelet makes a missing subPath with the volume root's mode; on the recordings share the mount options
      // give every directory the root's owner too.
      lines.push(`[ -d ${quote(mounted)} ] || install -d -o "$(stat -c %u ${quote(source)})" -g "$(stat -c %g ${quote(source)})" -m "$(stat -c %a ${quote(source)})" ${quote(mounted)}`);
    }
    lines.push(`mkdir -p "$root"${quote(mount.mountPath)}`, `mount --bind ${quote(mounted)} "$root"${quote(mount.mountPath)}`);
    if (mount.readOnly === true) lines.push(`mount -o remount,bind,ro "$root"${quote(mount.mountPath)}`);
  }
  if (security.readOnlyRootFilesystem === true) lines.push('mount -o remount,ro "$root"');
  const dropsAll = security.capabilities?.drop?.includes("ALL") === true;
  const added = (security.capabilities?.add ?? []).map((capability) => `+${capability.toLowerCase()}`);
  const bounding = dropsAll ? ["-all", ...added].join(",") : undefined;
  const setpriv = [
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--clear-groups",
    ...(security.allowPrivilegeEscalation === false ? ["--no-new-privs"] : []),
    ...(bounding === undefined ? [] : [`--bounding-set=${bounding}`, "--inh-caps=-all"]),
  ];
  const env = (run.container.env ?? []).flatMap((variable) => (variable.value === undefined ? [] : [`${variable.name}=${variable.value}`]));
  const rewrite = run.rewrite ?? ((text: string) => text);
  const command = [...(run.container.command ?? []), ...(run.container.args ?? [])].map(rewrite);
  if (command.length === 0) throw new Error(`${run.container.name}: the manifest names no command (the image's would run)`);
  const argv = [
    "chroot",
    "$root",
    ...setpriv,
    "env",
    "-i",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ...env,
    ...command,
  ];
  lines.push(`exec ${argv.map((word) => (word === "$root" ? '"$root"' : quote(word))).join(" ")}`);
  return lines.join("\n");
}

/**
 * Starts the container; `stop` sends SIGTERM to the container's process (the unshare wrapper forks it) and waits.
 * The mount namespace, and with it the stand-in root, goes away with the process.
 */
export async function startContainer(run: ContainerRun): Promise<StartedProcess> {
  const root = await mkdtemp(join(tmpdir(), `mediaplane-${run.container.name}-root-`));
  const child = spawn("unshare", ["--mount", "--fork", "--", "sh", "-c", enterScript(run, root)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const removeRoot = exited.then(() => rm(root, { recursive: true, force: true }));
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const containerPid = await forkedChild(child.pid);
        if (containerPid === undefined) child.kill("SIGTERM");
        else process.kill(containerPid, "SIGTERM");
      }
      await exited;
      await removeRoot;
    },
  };
}

/** Runs a container to completion (an init container, a hook): its exit code and output. */
export async function runContainer(run: ContainerRun): Promise<{ code: number | null; output: string }> {
  const started = await startContainer(run);
  const code = await new Promise<number | null>((resolve) => {
    if (started.process.exitCode !== null) resolve(started.process.exitCode);
    else started.process.once("exit", (exitCode) => resolve(exitCode));
  });
  await started.stop();
  return { code, output: started.output() };
}

async function forkedChild(pid: number): Promise<number | undefined> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const first = children.trim().split(/\s+/)[0];
  return first === undefined || first === "" ? undefined : Number(first);
}

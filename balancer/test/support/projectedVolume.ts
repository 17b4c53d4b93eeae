import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A directory laid out and updated as the kubelet projects a Secret or ConfigMap volume (kubernetes
 * pkg/volume/util/atomic_writer.go): the data sits in a hidden `..<timestamp>` directory, `..data` is a symlink
 * to it, and each visible file is a symlink `<name> -> ..data/<name>`. An update writes a new timestamped
 * directory, points a fresh `..data_tmp` symlink at it, renames that onto `..data` (the one atomic step), then
 * removes the old directory. The visible file's own symlink never changes.
 */
export interface ProjectedVolume {
  readonly dir: string;
  /** The visible file's path, as the pod's CONFIG_FILE names it. */
  readonly file: string;
  /** One kubelet update: the file's new content, swapped in atomically. */
  update(content: string): Promise<void>;
  remove(): Promise<void>;
}

let updates = 0;

export async function projectedVolume(name: string, content: string): Promise<ProjectedVolume> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-volume-"));
  const update = async (text: string): Promise<void> => {
    const dataLink = join(dir, "..data");
    const previous = await readlink(dataLink).catch(() => undefined);
    updates += 1;
    const stamp = `..${new Date().toISOString().replace(/[-:T]/g, "_").replace(/\..*/, "")}.${process.pid}${String(updates).padStart(4, "0")}`;
    await mkdir(join(dir, stamp));
    await writeFile(join(dir, stamp, name), text);
    await symlink(join("..data", name), join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
    await symlink(stamp, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), dataLink);
    if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
  };
  await update(content);
  return { dir, file: join(dir, name), update, remove: () => rm(dir, { recursive: true, force: true }) };
}

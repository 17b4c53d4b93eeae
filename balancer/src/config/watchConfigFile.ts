import { watch, type FSWatcher } from "node:fs";
import { dirname } from "node:path";

export interface ConfigFileWatchOptions {
  /** Events closer together than this are one change: a copy or an editor's save fires several. */
  debounceMs?: number;
  /** Rereads the file this often whatever the events said, in case a file system delivers none. 0: never. */
  recheckMs?: number;
  /** A watch that could not start or broke; the rechecks go on. */
  onWatchError?: (error: Error) => void;
}

/**
 * Calls `changed` after the config file may have changed. The directory is watched, not the file: Kubernetes
 * updates a mounted Secret or ConfigMap by writing a new `..<timestamp>` directory and renaming the `..data`
 * symlink onto it, so the file's own path (a symlink through `..data`) never sees an event, while its directory
 * does. Editors that save by renaming, and plain overwrites, show there too. Whether the content really changed
 * is for `changed` to find out (`LiveConfig.reload` compares hashes).
 */
export function watchConfigFile(file: string, changed: () => void, options: ConfigFileWatchOptions = {}): { close(): void } {
  const { debounceMs = 200, recheckMs = 60_000, onWatchError } = options;
  let pending: NodeJS.Timeout | undefined;
  const soon = (): void => {
    clearTimeout(pending);
    pending = setTimeout(changed, debounceMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, soon);
    watcher.on("error", (error: Error) => onWatchError?.(error));
  } catch (error) {
    onWatchError?.(error as Error);
  }
  const recheck = recheckMs > 0 ? setInterval(changed, recheckMs) : undefined;
  recheck?.unref();
  return {
    close() {
      clearTimeout(pending);
      clearInterval(recheck);
      watcher?.close();
    },
  };
}

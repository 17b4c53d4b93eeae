import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Logger } from "../observability/logger.js";
import { metrics } from "../observability/metrics.js";
import { buildDirectory, type Directory } from "../tenancy/directory.js";
import { ConfigError, parseBalancerConfigText, type BalancerConfig } from "./schema.js";

/** One validated version of the config file, with what every module derives from it alike. */
export interface ConfigVersion {
  /** The first 12 hex digits of the file's sha256: names the version in logs, metrics and the admin API. */
  readonly id: string;
  readonly config: BalancerConfig;
  readonly directory: Directory;
  /** When this process took it into service (ISO). */
  readonly loadedAt: string;
}

/** What the admin API tells about the config (`GET /admin/config`). */
export interface ConfigReport {
  /** The file watched, when the config came from one. */
  readonly file?: string;
  /** The version this process serves. */
  readonly version: string;
  readonly loadedAt: string;
  /** The file's current content when it was refused: the old version keeps serving until a valid one arrives. */
  readonly refused?: { readonly version: string; readonly at: string; readonly problem: string };
}

/** Where modules get the config from: the version current now, and each new one as it comes into service. */
export interface ConfigSource {
  current(): ConfigVersion;
  report(): ConfigReport;
  /**
   * `listener` runs for every valid new version, before the version is reported in service; listeners run one
   * after another in the order they subscribed. The answer unsubscribes.
   */
  onChange(listener: (version: ConfigVersion) => Promise<void>): () => void;
}

export const versionId = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 12);

/**
 * Validates a config and derives its lookups. Building the directory is part of validating: parameter policies
 * are checked there (`tenancy/policies.ts`), and a file the schema accepts but a policy check refuses must not
 * come into service either.
 */
export function configVersion(config: BalancerConfig, id: string): ConfigVersion {
  return { id, config, directory: buildDirectory(config), loadedAt: new Date().toISOString() };
}

/** A config that never changes (tests, the sandbox, tools): a source with one version for life. */
export function fixedConfig(config: BalancerConfig): ConfigSource {
  const version = configVersion(config, versionId(JSON.stringify(config)));
  return { current: () => version, report: () => ({ version: version.id, loadedAt: version.loadedAt }), onChange: () => () => undefined };
}

/** Given a plain config, a source that keeps it; given a source, that source. */
export function asConfigSource(config: BalancerConfig | ConfigSource): ConfigSource {
  return "current" in config ? config : fixedConfig(config);
}

export type ReloadOutcome = "applied" | "refused" | "unchanged";

function readProblem(file: string, error: unknown): string {
  return `${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
}

/** What a new version changes in the lists an operator edits most, for the log line of the reload. */
function changes(before: BalancerConfig, after: BalancerConfig): Record<string, string[]> {
  const diff = (was: readonly string[], now: readonly string[]) => ({ added: now.filter((id) => !was.includes(id)), removed: was.filter((id) => !now.includes(id)) });
  const tenants = diff(before.tenants.map((tenant) => tenant.slug), after.tenants.map((tenant) => tenant.slug));
  const nodes = diff(before.nodes.map((node) => node.id), after.nodes.map((node) => node.id));
  const entries = { tenantsAdded: tenants.added, tenantsRemoved: tenants.removed, nodesAdded: nodes.added, nodesRemoved: nodes.removed };
  return Object.fromEntries(Object.entries(entries).filter(([, ids]) => ids.length > 0));
}

/**
 * The config file as it is now, reread on demand (`reload`, called by the file watcher): a changed file that
 * validates is taken into service at once, and every listener (API contexts, the poller, the admin server)
 * swaps to it; one that does not is refused and reported (log line, `mediaplane_config_*` metrics, `report()`),
 * and the version in service stays. Reloads run one at a time, in the order they were asked for.
 */
export class LiveConfig implements ConfigSource {
  private version: ConfigVersion;
  private refused: ConfigReport["refused"];
  private readonly listeners = new Set<(version: ConfigVersion) => Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    initial: ConfigVersion,
    private readonly logger: Logger,
  ) {
    this.version = initial;
    metrics.configLastReloadSuccessful.set(1);
    metrics.configInfo.reset();
    metrics.configInfo.set({ version: initial.id }, 1);
  }

  /** The file at start: a process does not start on a file it cannot read or that does not validate. */
  static async load(file: string, logger: Logger): Promise<LiveConfig> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new ConfigError(readProblem(file, error));
    }
    return new LiveConfig(file, configVersion(parseBalancerConfigText(text, file), versionId(text)), logger);
  }

  current(): ConfigVersion {
    return this.version;
  }

  report(): ConfigReport {
    return { file: this.file, version: this.version.id, loadedAt: this.version.loadedAt, ...(this.refused === undefined ? {} : { refused: this.refused }) };
  }

  onChange(listener: (version: ConfigVersion) => Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the file again and takes it into service if it changed and validates. */
  reload(): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      return this.refuse("unreadable", readProblem(this.file, error));
    }
    const id = versionId(text);
    if (id === this.version.id) {
      // Put back as it was: nothing is refused any more.
      if (this.refused !== undefined) this.logger.info({ version: id }, "config file is the version in service again");
      this.refused = undefined;
      metrics.configLastReloadSuccessful.set(1);
      return "unchanged";
    }
    if (id === this.refused?.version) return "unchanged";
    let version: ConfigVersion;
    try {
      version = configVersion(parseBalancerConfigText(text, this.file), id);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.refuse(id, error.message);
    }
    // The modules first, in the order they subscribed (Redis brought in step with the nodes before the API
    // places on them): the version is reported in service once every module serves it.
    for (const listener of this.listeners) {
      await listener(version).catch((error: unknown) => this.logger.error({ err: error, version: id }, "config reloaded, but a module did not complete its switch"));
    }
    const previous = this.version;
    this.version = version;
    this.refused = undefined;
    metrics.configReloads.inc({ outcome: "applied" });
    metrics.configLastReloadSuccessful.set(1);
    metrics.configInfo.reset();
    metrics.configInfo.set({ version: id }, 1);
    this.logger.info({ version: id, previous: previous.id, ...changes(previous.config, version.config) }, "config reloaded: new requests and polls use it");
    return "applied";
  }

  private refuse(id: string, problem: string): ReloadOutcome {
    if (this.refused?.version === id && this.refused.problem === problem) return "unchanged";
    this.refused = { version: id, at: new Date().toISOString(), problem };
    metrics.configReloads.inc({ outcome: "refused" });
    metrics.configLastReloadSuccessful.set(0);
    this.logger.error({ file: this.file, refused: id, serving: this.version.id, problem }, "config file refused: still serving the previous version");
    return "refused";
  }
}

import type { BalancerConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { connectRedis } from "../store/redisClient.js";
import { importShare, type ImportSettings } from "./importer.js";

export interface ImporterProcessOptions {
  readonly config: BalancerConfig;
  readonly redisUrl: string;
  readonly shareRoot: string;
  readonly intervalMs: number;
  readonly logger: Logger;
}

export function importSettingsOf(config: BalancerConfig): ImportSettings {
  const retention = new Map(config.tenants.map((tenant) => [tenant.slug, tenant.recordingRetentionDays]));
  return { tenants: new Set(retention.keys()), retentionDays: (tenant) => retention.get(tenant), now: Date.now };
}

/**
 * The `importer` mode: one pass over the share, then the next `intervalMs` after it ended (passes never overlap in
 * a process; replicas coordinate per recording). A failed pass is logged and the next one tries again.
 */
export async function startImporterProcess(options: ImporterProcessOptions): Promise<{ close(): Promise<void> }> {
  const redis = connectRedis(options.redisUrl);
  const context = { redis, shareRoot: options.shareRoot, logger: options.logger };
  const settings = importSettingsOf(options.config);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pass = async (): Promise<void> => {
    try {
      const report = await importShare(context, settings);
      options.logger.info(
        { indexed: report.indexed.length, removed: report.removed.length, expired: report.expired.length, failed: report.failed.length, skipped: report.skipped, unchangedFiles: report.unchangedFiles },
        "recordings import pass done",
      );
    } catch (error) {
      options.logger.error({ err: error }, "recordings import pass failed");
    }
    if (!stopped) timer = setTimeout(() => (running = pass()), options.intervalMs);
  };
  running = pass();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
      redis.disconnect();
    },
  };
}

/// <reference path="./cluster-key-slot.d.ts" />
import calculateSlot from "cluster-key-slot";
import type { RedisClient } from "./redisClient.js";

/** One command whose first argument is its key, e.g. `["hgetall", keys.node(cluster, id)]`. */
export type KeyedCommand = readonly [command: string, key: string, ...args: Array<string | number>];

/**
 * Runs commands in as few round trips as the server allows and answers their replies in the commands' order:
 * one pipeline on a single Redis; on a cluster one pipeline per hash slot, all in flight at once, because a
 * cluster pipeline must keep every command in one slot. The first failed command's error is thrown.
 */
export async function pipelineBySlot(redis: RedisClient, commands: readonly KeyedCommand[]): Promise<unknown[]> {
  const groups = new Map<number, number[]>();
  commands.forEach(([, key], index) => {
    const slot = redis.isCluster ? calculateSlot(key) : 0;
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [index]);
    else group.push(index);
  });
  const replies = new Array<unknown>(commands.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const answers = (await redis.pipeline(indexes.map((index) => [...(commands[index] ?? [])])).exec()) ?? [];
      indexes.forEach((commandIndex, i) => {
        const [error, value] = answers[i] ?? [new Error("the pipeline answered fewer replies than commands"), undefined];
        if (error) throw error;
        replies[commandIndex] = value;
      });
    }),
  );
  return replies;
}

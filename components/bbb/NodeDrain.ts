import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { adminTokenVariable, drainCommand, enableAfterReplacementCommand, type DrainSettings } from "./drainCommands.js";

export interface NodeDrainArgs {
  readonly drain: DrainSettings;
  /** Token of the balancer's admin API. */
  readonly adminToken: pulumi.Input<string>;
  /** The node's machine id: a new machine replaces this resource, so the old machine is drained first. */
  readonly instanceId: pulumi.Input<string>;
  /**
   * The node and the balancer: the drain is deleted (runs) before either of them, because Pulumi deletes a
   * resource before what it depends on. Passed to the command itself, which must not be deleted with anything.
   */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Drain-before-delete for one node: a command whose delete step drains the node through the balancer's admin
 * API (bounded wait, then panic only with the operator's consent) before the node's VM goes, on removal and on
 * replacement alike (deleted before its replacement is created). Its create step re-enables a node that comes
 * back on a new machine.
 */
export class NodeDrain extends pulumi.ComponentResource {
  constructor(name: string, args: NodeDrainArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:bbb:NodeDrain", name, {}, opts);
    const waitMinutes = Math.ceil(args.drain.timeoutSeconds / 60) + 5;
    new command.local.Command(
      `${name}-drain`,
      {
        create: enableAfterReplacementCommand(args.drain),
        delete: drainCommand(args.drain),
        interpreter: ["/bin/sh", "-c"],
        environment: { [adminTokenVariable]: pulumi.secret(args.adminToken) },
        triggers: [args.instanceId],
      },
      { parent: this, dependsOn: args.dependsOn, deleteBeforeReplace: true, customTimeouts: { delete: `${waitMinutes}m` } },
    );
    this.registerOutputs({});
  }
}

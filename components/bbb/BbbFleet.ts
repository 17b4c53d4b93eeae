import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as network from "@pulumi/azure-native/network/index.js";
import type { BbbNode as BalancerNode } from "@mediaplane/balancer/config";
import type { BbbFleetSettings, FleetNode } from "../../config/index.js";
import { azureResourceName } from "../azure/naming.js";
import type { DnsRecordArgs } from "../dns/DnsRecord.js";
import { BbbNode } from "./BbbNode.js";
import { adminTokenVariable, rosterCommand, type DrainTiming } from "./drainCommands.js";

/** The nodes' private network: they only talk to the internet, so it needs room for the nodes and nothing else. */
export const bbbNetworkAddressSpace = "10.60.0.0/22";

/** A node's entry in the balancer's config, its secret and load URL known once the node is installed. */
export type ManagedNodeEntry = Pick<BalancerNode, "id" | "url" | "cluster" | "secret"> & { loadUrl: string };

export interface BbbFleetArgs {
  readonly settings: BbbFleetSettings;
  readonly nodes: readonly FleetNode[];
  readonly namePrefix: string;
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly sshPrivateKey: pulumi.Input<string>;
  readonly sshAllowList: readonly string[];
  readonly acmeEmail: string;
  /** Each node's A record is written with these; undefined: records are managed elsewhere. */
  readonly dnsRecord: Omit<DnsRecordArgs, "name" | "address"> | undefined;
  /** Where the balancer's admin API answers, e.g. `https://api.example.org`. */
  readonly adminBaseUrl: string;
  readonly adminToken: pulumi.Input<string>;
}

/** The BBB nodes the stack creates, on their own network, and what the balancer needs to know of them. */
export class BbbFleet extends pulumi.ComponentResource {
  readonly nodes: readonly BbbNode[];
  /** How a node is drained: through the admin API, within the operator's bound and consent, a look every 15 s. */
  readonly drainTiming: DrainTiming;
  /** Secret: the nodes' balancer config entries. */
  readonly balancerNodes: pulumi.Output<ManagedNodeEntry[]>;

  constructor(name: string, args: BbbFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:bbb:BbbFleet", name, {}, opts);
    const placement = { resourceGroupName: args.resourceGroupName, location: args.location };
    const vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      { ...placement, virtualNetworkName: azureResourceName(args.namePrefix, "bbb-vnet"), addressSpace: { addressPrefixes: [bbbNetworkAddressSpace] } },
      { parent: this },
    );
    const subnet = new network.Subnet(
      `${name}-subnet`,
      { resourceGroupName: args.resourceGroupName, virtualNetworkName: vnet.name, subnetName: "bbb-nodes", addressPrefix: bbbNetworkAddressSpace },
      { parent: this },
    );
    this.nodes = args.nodes.map(
      (node) =>
        new BbbNode(
          node.id,
          {
            id: node.id,
            fqdn: node.fqdn,
            release: node.group.bbbVersion,
            vmSize: node.group.vmSize,
            zone: node.group.zone,
            osDiskSizeGb: node.group.osDiskSizeGb,
            namePrefix: args.namePrefix,
            ...placement,
            subnetId: subnet.id,
            adminUser: args.settings.adminUser,
            sshPublicKey: args.settings.sshPublicKey,
            sshPrivateKey: args.sshPrivateKey,
            sshAllowList: args.sshAllowList,
            acmeEmail: args.acmeEmail,
            dnsRecord: args.dnsRecord,
            platformUrl: args.adminBaseUrl,
          },
          { parent: this },
        ),
    );
    this.drainTiming = {
      adminBaseUrl: args.adminBaseUrl,
      timeoutSeconds: 60 * args.settings.drain.timeoutMinutes,
      panicOnTimeout: args.settings.drain.panicOnTimeout,
      pollSeconds: 15,
    };
    // Pulumi deletes a removed node only after updating the balancer's config, which would already have dropped
    // it (and the balancer released its meetings): the roster drains it first, and the config waits for the roster.
    const roster = new command.local.Command(
      `${name}-roster`,
      {
        create: rosterCommand(this.drainTiming, args.nodes.map((node) => node.id)),
        update: rosterCommand(this.drainTiming, args.nodes.map((node) => node.id)),
        interpreter: ["/bin/sh", "-c"],
        environment: { [adminTokenVariable]: pulumi.secret(args.adminToken) },
        addPreviousOutputInEnv: true,
      },
      { parent: this },
    );
    this.balancerNodes = pulumi.secret(
      pulumi.all(
        args.nodes.map((node, i) => {
          const installed = this.nodes[i];
          if (installed === undefined) throw new Error(`node ${node.id} was not declared`);
          return pulumi
            .all([installed.apiSecret, installed.loadUrl, roster.stdout])
            .apply(([secret, loadUrl]): ManagedNodeEntry => ({ id: node.id, url: installed.apiUrl, cluster: node.cluster, secret, loadUrl }));
        }),
      ),
    );
    this.registerOutputs({ nodes: this.nodes.map((node) => node.fqdn) });
  }
}

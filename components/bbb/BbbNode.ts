import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as compute from "@pulumi/azure-native/compute/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import * as random from "@pulumi/random";
import type * as azureInputs from "@pulumi/azure-native/types/input.js";
import { nodeApiUrl } from "../../config/bbbFleet.js";
import { azureResourceName } from "../azure/naming.js";
import { DnsRecord, type DnsRecordArgs } from "../dns/DnsRecord.js";
import { loadAgentUrl } from "./loadAgentFiles.js";
import {
  apiReadyCommand,
  apiSecretOf,
  bbbInstallCommand,
  loadAgentEnvironment,
  loadAgentInstallCommand,
  readApiSecretCommand,
  recordingHookEnvironment,
  recordingHookInstallCommand,
} from "./nodeCommands.js";
import { bbbReleases, type BbbRelease } from "./versions.js";

/** BigBlueButton's media ports (bbb-install's README, "External firewall"). */
export const bbbMediaPorts = { min: 16_384, max: 32_768 } as const;
/** bbb-install (without -c) runs coturn on the node: clients reach it on 3478 (UDP and TCP), TURNS via 443. */
export const bbbTurnPort = 3478;

type SecurityRule = azureInputs.network.SecurityRuleArgs;

/**
 * Inbound rules of a node: HTTP (Let's Encrypt, redirects) and HTTPS, WebRTC media and the node's TURN from
 * anywhere; SSH only from the operators' networks; everything else refused, other machines of the network included.
 */
export function bbbNodeSecurityRules(sshAllowList: readonly string[]): SecurityRule[] {
  const inbound = { direction: "Inbound", sourcePortRange: "*", destinationAddressPrefix: "*" } as const;
  return [
    { ...inbound, name: "web", priority: 100, access: "Allow", protocol: "Tcp", sourceAddressPrefix: "Internet", destinationPortRanges: ["80", "443"] },
    {
      ...inbound,
      name: "media",
      priority: 110,
      access: "Allow",
      protocol: "Udp",
      sourceAddressPrefix: "Internet",
      destinationPortRange: `${bbbMediaPorts.min}-${bbbMediaPorts.max}`,
    },
    { ...inbound, name: "turn", priority: 120, access: "Allow", protocol: "*", sourceAddressPrefix: "Internet", destinationPortRange: String(bbbTurnPort) },
    { ...inbound, name: "ssh-admin", priority: 130, access: "Allow", protocol: "Tcp", sourceAddressPrefixes: [...sshAllowList], destinationPortRange: "22" },
    { ...inbound, name: "deny-other", priority: 4000, access: "Deny", protocol: "*", sourceAddressPrefix: "*", destinationPortRange: "*" },
  ];
}

export interface BbbNodeArgs {
  /** Balancer node id; also the VM's host name. */
  readonly id: string;
  readonly fqdn: string;
  readonly release: BbbRelease;
  readonly vmSize: string;
  readonly zone: string | undefined;
  readonly osDiskSizeGb: number;
  /** Stem of the Azure names: `<namePrefix>-bbb-<id>[-role]`. */
  readonly namePrefix: string;
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  readonly adminUser: string;
  readonly sshPublicKey: string;
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Sources allowed to SSH in: where `pulumi up` and operators run. */
  readonly sshAllowList: readonly string[];
  /** ACME account of the node's Let's Encrypt certificate. */
  readonly acmeEmail: string;
  /** Writes the node's A record before the install (Let's Encrypt must resolve it); undefined: managed elsewhere. */
  readonly dnsRecord: Omit<DnsRecordArgs, "name" | "address"> | undefined;
  /** The balancer's public base URL: the node's post-publish hook sends recordings there. */
  readonly platformUrl: string;
}

/**
 * One BigBlueButton node: an Azure VM on the Ubuntu release its pinned BBB release supports, a static public IP, a
 * security group opening exactly what BBB needs, then bbb-install, the CPU-load agent, a wait for the API, and the
 * node's API secret read back as a secret output. The remote commands belong to the VM: a new VM (its `vmId`
 * changes) runs them all again.
 */
export class BbbNode extends pulumi.ComponentResource {
  readonly id: string;
  readonly fqdn: string;
  readonly apiUrl: string;
  readonly publicIp: pulumi.Output<string>;
  /** Secret: the node's API secret, as bbb-conf prints it. */
  readonly apiSecret: pulumi.Output<string>;
  /** Secret: the load agent's URL (its token is in the query). */
  readonly loadUrl: pulumi.Output<string>;
  /** Azure's id of this very machine: a replaced VM has a new one. */
  readonly instanceId: pulumi.Output<string>;

  constructor(name: string, args: BbbNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:bbb:BbbNode", name, {}, opts);
    const azureName = (role: string) => azureResourceName(args.namePrefix, `bbb-${args.id}${role === "" ? "" : `-${role}`}`);
    const placement = { resourceGroupName: args.resourceGroupName, location: args.location };
    const zones = args.zone === undefined ? {} : { zones: [args.zone] };

    const ip = new network.PublicIPAddress(
      `${name}-ip`,
      {
        ...placement,
        ...zones,
        publicIpAddressName: azureName("ip"),
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
      },
      { parent: this },
    );
    const nsg = new network.NetworkSecurityGroup(
      `${name}-nsg`,
      { ...placement, networkSecurityGroupName: azureName("nsg"), securityRules: bbbNodeSecurityRules(args.sshAllowList) },
      { parent: this },
    );
    const nic = new network.NetworkInterface(
      `${name}-nic`,
      {
        ...placement,
        networkInterfaceName: azureName("nic"),
        networkSecurityGroup: { id: nsg.id },
        ipConfigurations: [
          { name: "primary", primary: true, privateIPAllocationMethod: "Dynamic", subnet: { id: args.subnetId }, publicIPAddress: { id: ip.id } },
        ],
      },
      { parent: this },
    );
    const vm = new compute.VirtualMachine(
      `${name}-vm`,
      {
        ...placement,
        ...zones,
        vmName: azureName(""),
        hardwareProfile: { vmSize: args.vmSize },
        storageProfile: {
          imageReference: { ...bbbReleases[args.release].ubuntu.image },
          osDisk: { createOption: "FromImage", diskSizeGB: args.osDiskSizeGb, managedDisk: { storageAccountType: "Premium_LRS" }, deleteOption: "Delete" },
        },
        osProfile: {
          computerName: args.id,
          adminUsername: args.adminUser,
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            ssh: { publicKeys: [{ path: `/home/${args.adminUser}/.ssh/authorized_keys`, keyData: args.sshPublicKey }] },
          },
        },
        networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
      },
      // The VM's name is fixed: a replacement must delete the old machine before creating the new one.
      { parent: this, deleteBeforeReplace: true },
    );

    const record =
      args.dnsRecord === undefined
        ? undefined
        : new DnsRecord(`${name}-dns`, { ...args.dnsRecord, name: args.fqdn, address: ip.ipAddress.apply((address) => address ?? "") }, { parent: this });

    const connection = {
      host: ip.ipAddress.apply((address) => address ?? ""),
      user: args.adminUser,
      privateKey: args.sshPrivateKey,
      // A new VM takes a minute or two before sshd answers.
      dialErrorLimit: 40,
    };
    const onThisMachine = { triggers: [vm.vmId] };
    const machineCommand = { parent: this, deletedWith: vm };
    const install = new command.remote.Command(
      `${name}-bbb-install`,
      { ...onThisMachine, connection, create: bbbInstallCommand(args.release, args.fqdn, args.acmeEmail) },
      { ...machineCommand, dependsOn: record === undefined ? [vm] : [vm, record], customTimeouts: { create: "90m", update: "90m" } },
    );
    const agentToken = new random.RandomPassword(`${name}-load-agent-token`, { length: 40, special: false }, { parent: this }).result;
    const agent = new command.remote.Command(
      `${name}-load-agent`,
      { ...onThisMachine, connection, create: loadAgentInstallCommand(), stdin: pulumi.secret(agentToken.apply(loadAgentEnvironment)) },
      { ...machineCommand, dependsOn: [install] },
    );
    const ready = new command.local.Command(
      `${name}-api-ready`,
      { ...onThisMachine, create: apiReadyCommand(args.fqdn), interpreter: ["/bin/sh", "-c"] },
      { parent: this, dependsOn: [install, agent], customTimeouts: { create: "20m", update: "20m" } },
    );
    const secret = new command.remote.Command(
      `${name}-api-secret`,
      { ...onThisMachine, connection, create: readApiSecretCommand },
      { ...machineCommand, dependsOn: [ready], additionalSecretOutputs: ["stdout"] },
    );
    new command.remote.Command(
      `${name}-recording-hook`,
      {
        ...onThisMachine,
        connection,
        create: recordingHookInstallCommand(),
        stdin: pulumi.secret(secret.stdout.apply((stdout) => recordingHookEnvironment(args.platformUrl, args.id, apiSecretOf(stdout, args.fqdn)))),
      },
      { ...machineCommand, dependsOn: [secret] },
    );

    this.id = args.id;
    this.fqdn = args.fqdn;
    this.apiUrl = nodeApiUrl(args.fqdn);
    this.publicIp = ip.ipAddress.apply((address) => address ?? "");
    this.apiSecret = pulumi.secret(secret.stdout.apply((stdout) => apiSecretOf(stdout, args.fqdn)));
    this.loadUrl = pulumi.secret(agentToken.apply((token) => loadAgentUrl(args.fqdn, token)));
    this.instanceId = vm.vmId;
    this.registerOutputs({ apiUrl: this.apiUrl, publicIp: this.publicIp, apiSecret: this.apiSecret, loadUrl: this.loadUrl });
  }
}

import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network/index.js";
import { azureResourceName } from "./naming.js";

/** The public entry points that need an address fixed across Service and cluster re-creations. */
export const staticIpRoles = ["ingress", "jvb", "turn"] as const;
export type StaticIpRole = (typeof staticIpRoles)[number];

export interface StaticIpsArgs {
  /** Name stem of the stack; each address is `<namePrefix>-<role>`. */
  readonly namePrefix: string;
  readonly location: pulumi.Input<string>;
  /**
   * The stack's own resource group, not the node group AKS manages: re-creating the cluster deletes that group
   * and everything in it, and with it the addresses customers' DNS records and firewalls point at.
   */
  readonly resourceGroupName: pulumi.Input<string>;
  /**
   * The cluster identity's role on that group, without which the cloud provider cannot attach the addresses. A
   * Service pinned to an address depends on it and on the address, so Pulumi creates both before the Service and
   * deletes the Service (releasing the address from the load balancer) before either.
   */
  readonly clusterGrant: pulumi.CustomResource;
  /** Zones the addresses span (zone-redundant when several); empty: no zone pinning. */
  readonly zones: readonly string[];
}

/** A pinned address as a Service consumes it. */
export interface StaticIp {
  /** The address, known after creation. */
  readonly address: pulumi.Output<string>;
  /** The Azure resource name, referenced by the `azure-pip-name` annotation. */
  readonly name: string;
  /** Annotations that make a LoadBalancer Service take exactly this address; they carry the ordering above. */
  readonly serviceAnnotations: pulumi.Output<Record<string, string>>;
}

/** Annotations pinning a Service to a named public IP (`loadBalancerIP` is deprecated) in the group that holds it. */
export function pinnedIpAnnotations(ipName: string, resourceGroup: string): Record<string, string> {
  return {
    "service.beta.kubernetes.io/azure-pip-name": ipName,
    "service.beta.kubernetes.io/azure-load-balancer-resource-group": resourceGroup,
  };
}

/** A Standard, Static public IP in the stack's resource group. */
export function staticPublicIp(
  name: string,
  args: Pick<StaticIpsArgs, "location" | "resourceGroupName" | "zones"> & { readonly ipName: string },
  opts: pulumi.CustomResourceOptions,
): network.PublicIPAddress {
  return new network.PublicIPAddress(
    name,
    {
      publicIpAddressName: args.ipName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      sku: { name: "Standard", tier: "Regional" },
      publicIPAllocationMethod: "Static",
      publicIPAddressVersion: "IPv4",
      ...(args.zones.length > 0 ? { zones: [...args.zones] } : {}),
    },
    opts,
  );
}

/** Standard/Static public IPs for ingress, JVB and TURN, usable by the cluster's LoadBalancer Services. */
export class StaticIps extends pulumi.ComponentResource {
  readonly ips: Readonly<Record<StaticIpRole, StaticIp>>;

  constructor(name: string, args: StaticIpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:StaticIps", name, {}, opts);

    const entries = staticIpRoles.map((role): [StaticIpRole, StaticIp] => {
      const ipName = azureResourceName(args.namePrefix, role);
      const ip = staticPublicIp(`${name}-${role}`, { ...args, ipName }, { parent: this });
      return [
        role,
        {
          address: ip.ipAddress.apply((address) => address ?? ""),
          name: ipName,
          serviceAnnotations: pulumi
            .all([ip.name, args.clusterGrant.id, args.resourceGroupName])
            .apply(([pinnedName, , group]) => pinnedIpAnnotations(pinnedName, group)),
        },
      ];
    });
    this.ips = Object.fromEntries(entries) as Record<StaticIpRole, StaticIp>;

    this.registerOutputs({
      addresses: Object.fromEntries(entries.map(([role, ip]) => [role, ip.address])),
    });
  }
}

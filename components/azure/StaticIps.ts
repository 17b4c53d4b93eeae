import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network/index.js";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { azureResourceName, builtInRoles, roleDefinitionId } from "./naming.js";

/** The public entry points that need an address fixed across Service re-creations. */
export const staticIpRoles = ["ingress", "jvb", "turn"] as const;
export type StaticIpRole = (typeof staticIpRoles)[number];

/**
 * Where the addresses live. The cloud provider looks for a Service's pinned IP in the node resource group unless
 * the Service names another group, and then needs Network Contributor on that group.
 */
export type StaticIpPlacement =
  | { readonly kind: "nodeResourceGroup"; readonly resourceGroupName: pulumi.Input<string> }
  | {
      readonly kind: "stackResourceGroup";
      readonly resourceGroupName: pulumi.Input<string>;
      /** Id of that group, the scope of the role assignment. */
      readonly resourceGroupId: pulumi.Input<string>;
      /** Principal id of the cluster identity that attaches the IPs to its load balancer. */
      readonly clusterPrincipalId: pulumi.Input<string>;
    };

export interface StaticIpsArgs {
  /** Name stem of the stack; each address is `<namePrefix>-<role>`. */
  readonly namePrefix: string;
  readonly location: pulumi.Input<string>;
  readonly placement: StaticIpPlacement;
  /** Zones the addresses span (zone-redundant when several); empty: no zone pinning. */
  readonly zones: readonly string[];
}

/** A pinned address as a Service consumes it. */
export interface StaticIp {
  /** The address, known after creation. */
  readonly address: pulumi.Output<string>;
  /** The Azure resource name, referenced by the `azure-pip-name` annotation. */
  readonly name: string;
  /** Annotations that make a LoadBalancer Service take exactly this address. */
  readonly serviceAnnotations: pulumi.Output<Record<string, string>>;
}

/** Annotations pinning a Service to a named public IP (`loadBalancerIP` is deprecated), and its group when not the node group. */
export function pinnedIpAnnotations(ipName: string, resourceGroup: string | undefined): Record<string, string> {
  return {
    "service.beta.kubernetes.io/azure-pip-name": ipName,
    ...(resourceGroup === undefined ? {} : { "service.beta.kubernetes.io/azure-load-balancer-resource-group": resourceGroup }),
  };
}

/** Standard/Static public IPs for ingress, JVB and TURN, usable by the cluster's LoadBalancer Services. */
export class StaticIps extends pulumi.ComponentResource {
  readonly ips: Readonly<Record<StaticIpRole, StaticIp>>;

  constructor(name: string, args: StaticIpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:StaticIps", name, {}, opts);
    const { placement } = args;

    const roleAssignment =
      placement.kind === "stackResourceGroup"
        ? new authorization.RoleAssignment(
            `${name}-network-contributor`,
            {
              principalId: placement.clusterPrincipalId,
              principalType: "ServicePrincipal",
              roleDefinitionId: authorization
                .getClientConfigOutput({ parent: this })
                .subscriptionId.apply((subscription) => roleDefinitionId(subscription, builtInRoles.networkContributor)),
              scope: placement.resourceGroupId,
            },
            { parent: this },
          )
        : undefined;
    const annotationGroup: pulumi.Output<string | undefined> =
      placement.kind === "stackResourceGroup" ? pulumi.output(placement.resourceGroupName) : pulumi.output(undefined);

    const entries = staticIpRoles.map((role): [StaticIpRole, StaticIp] => {
      const ipName = azureResourceName(args.namePrefix, role);
      const ip = new network.PublicIPAddress(
        `${name}-${role}`,
        {
          publicIpAddressName: ipName,
          resourceGroupName: placement.resourceGroupName,
          location: args.location,
          sku: { name: "Standard", tier: "Regional" },
          publicIPAllocationMethod: "Static",
          publicIPAddressVersion: "IPv4",
          ...(args.zones.length > 0 ? { zones: [...args.zones] } : {}),
        },
        { parent: this, dependsOn: roleAssignment ? [roleAssignment] : [] },
      );
      return [
        role,
        {
          address: ip.ipAddress.apply((address) => address ?? ""),
          name: ipName,
          serviceAnnotations: annotationGroup.apply((group) => pinnedIpAnnotations(ipName, group)),
        },
      ];
    });
    this.ips = Object.fromEntries(entries) as Record<StaticIpRole, StaticIp>;

    this.registerOutputs({
      addresses: Object.fromEntries(entries.map(([role, ip]) => [role, ip.address])),
    });
  }
}

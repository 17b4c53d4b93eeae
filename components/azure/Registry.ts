import * as pulumi from "@pulumi/pulumi";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { builtInRoles, roleDefinitionId } from "./naming.js";

export interface RegistryArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Globally unique: 5..50 letters and digits. */
  readonly registryName: string;
  readonly sku: "Basic" | "Standard" | "Premium";
  /** Object id of the AKS kubelet identity, granted AcrPull so nodes pull without image pull secrets. */
  readonly kubeletObjectId: pulumi.Input<string>;
}

/** The container registry for the images this repository builds (balancer, Janus). */
export class Registry extends pulumi.ComponentResource {
  /** `<name>.azurecr.io`, the prefix of the images the cluster pulls. */
  readonly loginServer: pulumi.Output<string>;
  readonly registryName: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:Registry", name, {}, opts);

    const registry = new containerregistry.Registry(
      name,
      {
        registryName: args.registryName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: args.sku },
        // Pulls go through the kubelet identity; no shared admin password exists.
        adminUserEnabled: false,
      },
      { parent: this },
    );
    new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        principalId: args.kubeletObjectId,
        principalType: "ServicePrincipal",
        roleDefinitionId: authorization
          .getClientConfigOutput({ parent: this })
          .subscriptionId.apply((subscription) => roleDefinitionId(subscription, builtInRoles.acrPull)),
        scope: registry.id,
      },
      { parent: this },
    );

    this.loginServer = registry.loginServer;
    this.registryName = registry.name;
    this.registerOutputs({ loginServer: this.loginServer, registryName: this.registryName });
  }
}

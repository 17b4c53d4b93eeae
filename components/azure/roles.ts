import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import { builtInRoles, roleDefinitionId } from "./naming.js";

export interface RoleGrant {
  /** Object id of the identity granted the role. */
  readonly principalId: pulumi.Input<string>;
  /** Set for identities Azure creates in the same run: the assignment then waits for Entra ID replication. */
  readonly principalType?: "ServicePrincipal";
  readonly role: keyof typeof builtInRoles;
  /** Resource id the role applies to. */
  readonly scope: pulumi.Input<string>;
}

/** A built-in role on a scope, in the subscription the stack deploys to. */
export function grantRole(name: string, grant: RoleGrant, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      principalId: grant.principalId,
      ...(grant.principalType === undefined ? {} : { principalType: grant.principalType }),
      roleDefinitionId: authorization
        .getClientConfigOutput(opts.parent === undefined ? {} : { parent: opts.parent })
        .subscriptionId.apply((subscription) => roleDefinitionId(subscription, builtInRoles[grant.role])),
      scope: grant.scope,
    },
    opts,
  );
}

/** Object id of the identity running `pulumi up` (a person through `az login`, or a CI service principal). */
export function deployerObjectId(parent: pulumi.Resource): pulumi.Output<string> {
  return authorization.getClientConfigOutput({ parent }).objectId;
}

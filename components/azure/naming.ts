/**
 * Names of Azure resources whose names are visible to other systems (Service annotations, globally unique
 * DNS labels), so they are fixed up front rather than left to auto-naming.
 */

/** `<prefix>-<role>`: names such as the public IP a Service pins with `azure-pip-name`. */
export function azureResourceName(prefix: string, role: string): string {
  return `${prefix}-${role}`;
}

/**
 * Storage account and registry names: lower-case letters and digits only, globally unique, at most `maxLength`.
 * The prefix is the stack's unique stem, so dropping its dashes keeps it unique enough per stack.
 */
export function alphanumericName(prefix: string, role: string, maxLength: number): string {
  const name = `${prefix}${role}`.toLowerCase().replace(/[^a-z0-9]/g, "");
  return name.slice(0, maxLength);
}

/** Azure built-in role definition ids (the same in every tenant). */
export const builtInRoles = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
} as const;

/** The subscription-scoped id of a built-in role, as a role assignment names it. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

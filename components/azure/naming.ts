/**
 * Names of Azure resources whose names are visible to other systems (Service annotations, globally unique
 * DNS labels), so they are derived from the stack's prefix rather than left to auto-naming.
 */

/** `<prefix>-<role>`: names such as the public IP a Service pins with `azure-pip-name`. */
export function azureResourceName(prefix: string, role: string): string {
  return `${prefix}-${role}`;
}

/** Length of the random per-stack suffix of globally unique names (lower-case letters and digits). */
export const uniqueSuffixLength = 6;

/**
 * Storage account and registry names: lower-case letters and digits only, at most `maxLength`, ending in the
 * stack's random suffix. Azure makes these names global (they are DNS labels), so the prefix alone would collide
 * between two subscriptions using the same prefix, or with a deleted resource whose name Azure still holds.
 */
export function alphanumericName(prefix: string, role: string, suffix: string, maxLength: number): string {
  const stem = `${prefix}${role}`.toLowerCase().replace(/[^a-z0-9]/g, "");
  return `${stem.slice(0, maxLength - uniqueSuffixLength)}${suffix}`;
}

/** `<prefix>-<role>-<suffix>`: a globally unique name that may contain dashes (Redis cache DNS labels). */
export function uniqueResourceName(prefix: string, role: string, suffix: string): string {
  return `${prefix}-${role}-${suffix}`;
}

/** Azure built-in role definition ids (the same in every tenant). */
export const builtInRoles = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
  aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
} as const;

/** The subscription-scoped id of a built-in role, as a role assignment names it. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

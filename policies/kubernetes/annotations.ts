/**
 * Annotation a workload (or its pod template) carries when its software cannot run non-root or without privilege
 * escalation; the value says why (e.g. "coturn binds 443 before dropping privileges"). Components import this
 * constant so the policy and the workloads cannot drift apart.
 */
export const privilegedReasonAnnotation = "mediaplane.io/privileged-reason";

/** The static public IP a Service of type LoadBalancer is pinned to on AKS (`loadBalancerIP` is deprecated). */
export const azurePublicIpNameAnnotation = "service.beta.kubernetes.io/azure-pip-name";

/** The static public IP a Service of type LoadBalancer is pinned to on AKS (`loadBalancerIP` is deprecated). */
export const azurePublicIpNameAnnotation = "service.beta.kubernetes.io/azure-pip-name";

import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { azurePublicIpNameAnnotation } from "./annotations.js";
import { selectorMatches, type LabelSelectorView } from "./labelSelector.js";
import { describeWorkload, podWorkloadOf, podWorkloadTypes, type ObjectMetaView, type PodWorkload } from "./podWorkloads.js";

const types = {
  service: "kubernetes:core/v1:Service",
  podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  horizontalPodAutoscaler: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  aksCluster: "azure-native:containerservice:ManagedCluster",
} as const;

interface NamespacedObject {
  metadata?: ObjectMetaView;
}

function namespaceOf(resource: PolicyResource): string {
  const object: NamespacedObject = resource.props;
  return object.metadata?.namespace ?? "default";
}

function ofType(resources: PolicyResource[], type: string): PolicyResource[] {
  return resources.filter((resource) => resource.type === type);
}

interface WorkloadResource {
  resource: PolicyResource;
  workload: PodWorkload;
}

function podWorkloads(resources: PolicyResource[]): WorkloadResource[] {
  return resources.flatMap((resource) => {
    const workload = podWorkloadOf(resource.type, resource.props);
    return workload === undefined ? [] : [{ resource, workload }];
  });
}

/** The workloads a NetworkPolicy can confine: host-network pods are outside its reach. */
function policeableWorkloads(resources: PolicyResource[]): WorkloadResource[] {
  return podWorkloads(resources).filter(({ workload }) => workload.spec.hostNetwork !== true);
}

interface ServiceProps extends NamespacedObject {
  spec?: { type?: string; externalTrafficPolicy?: string };
}

export const azureLoadBalancerPinned: StackValidationPolicy = {
  name: "k8s-azure-load-balancer-pinned-ip",
  description:
    `On AKS stacks every Service of type LoadBalancer is pinned to a static public IP (${azurePublicIpNameAnnotation}) ` +
    "so DNS records and the addresses media servers advertise survive re-creation, and sets externalTrafficPolicy: Local so pods " +
    "see the client's address (IP allow-lists, logs, ICE) instead of a node's.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (ofType(args.resources, types.aksCluster).length === 0) args.notApplicable("the stack runs on no AKS cluster");
    for (const resource of ofType(args.resources, types.service)) {
      const service: ServiceProps = resource.props;
      if (service.spec?.type !== "LoadBalancer") continue;
      const where = `Service ${namespaceOf(resource)}/${service.metadata?.name ?? resource.name}`;
      if ((service.metadata?.annotations?.[azurePublicIpNameAnnotation] ?? "") === "") {
        reportViolation(`${where} is not pinned to a static public IP (annotation ${azurePublicIpNameAnnotation})`, resource.urn);
      }
      if (service.spec.externalTrafficPolicy !== "Local") {
        reportViolation(`${where} does not set externalTrafficPolicy: Local`, resource.urn);
      }
    }
  },
};

interface HorizontalPodAutoscalerProps extends NamespacedObject {
  spec?: { minReplicas?: number; scaleTargetRef?: { kind?: string; name?: string } };
}

/** The replicas a workload keeps at least: its own count, or the floor an autoscaler targeting it holds. */
function minimumReplicas(target: WorkloadResource, autoscalers: PolicyResource[]): number {
  const kind = target.workload.type.slice(target.workload.type.lastIndexOf(":") + 1);
  const floors = autoscalers.flatMap((resource) => {
    const autoscaler: HorizontalPodAutoscalerProps = resource.props;
    const ref = autoscaler.spec?.scaleTargetRef;
    const targetsWorkload =
      namespaceOf(resource) === target.workload.namespace && ref?.kind === kind && ref.name === target.workload.metadata.name;
    return targetsWorkload ? [autoscaler.spec?.minReplicas ?? 1] : [];
  });
  return Math.max(target.workload.replicas, ...floors);
}

interface SelectorProps extends NamespacedObject {
  spec?: { selector?: LabelSelectorView };
}

export const disruptionBudgets: StackValidationPolicy = {
  name: "k8s-pod-disruption-budgets",
  description:
    "A Deployment or StatefulSet that runs more than one replica has a PodDisruptionBudget selecting its pods, so " +
    "node drains and cluster upgrades never take all replicas down at once.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const budgets = ofType(args.resources, types.podDisruptionBudget);
    const autoscalers = ofType(args.resources, types.horizontalPodAutoscaler);
    const replicated = podWorkloads(args.resources).filter(
      (target) =>
        (target.workload.type === podWorkloadTypes.deployment || target.workload.type === podWorkloadTypes.statefulSet) &&
        minimumReplicas(target, autoscalers) > 1,
    );
    for (const target of replicated) {
      const covered = budgets.some((resource) => {
        const budget: SelectorProps = resource.props;
        return (
          namespaceOf(resource) === target.workload.namespace &&
          selectorMatches(budget.spec?.selector ?? {}, target.workload.podLabels)
        );
      });
      if (!covered) {
        const name = describeWorkload(target.workload, target.resource.name);
        reportViolation(`${name} runs ${minimumReplicas(target, autoscalers)} replicas but no PodDisruptionBudget selects its pods`, target.resource.urn);
      }
    }
  },
};

interface NetworkPolicyProps extends NamespacedObject {
  spec?: { podSelector?: LabelSelectorView; policyTypes?: string[]; egress?: unknown[] };
}

/** The NetworkPolicies of the workload's namespace that select its pods. */
function policiesSelecting(workload: PodWorkload, networkPolicies: PolicyResource[]): NetworkPolicyProps[] {
  return networkPolicies.flatMap((policyResource) => {
    const networkPolicy: NetworkPolicyProps = policyResource.props;
    const selects =
      namespaceOf(policyResource) === workload.namespace && selectorMatches(networkPolicy.spec?.podSelector ?? {}, workload.podLabels);
    return selects ? [networkPolicy] : [];
  });
}

/** Kubernetes' own default: without `policyTypes`, a policy restricts egress exactly when it has egress rules. */
function restrictsEgress(networkPolicy: NetworkPolicyProps): boolean {
  const types = networkPolicy.spec?.policyTypes;
  return types === undefined ? networkPolicy.spec?.egress !== undefined : types.includes("Egress");
}

export const networkPolicyCoverage: StackValidationPolicy = {
  name: "k8s-network-policy-coverage",
  description:
    "Every namespace that runs pods has NetworkPolicies, and every pod they can confine is selected by one: an " +
    "unselected pod accepts traffic from anywhere in the cluster (Redis, admin APIs, XMPP), so 'only what must " +
    "talk can talk' would not hold. Host-network pods are outside NetworkPolicy's reach and are not counted.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const networkPolicies = ofType(args.resources, types.networkPolicy);
    const guardedNamespaces = new Set(networkPolicies.map(namespaceOf));
    const reportedNamespaces = new Set<string>();
    for (const { resource, workload } of policeableWorkloads(args.resources)) {
      if (!guardedNamespaces.has(workload.namespace)) {
        if (!reportedNamespaces.has(workload.namespace)) {
          reportViolation(`namespace ${workload.namespace} runs pods (e.g. ${resource.name}) but has no NetworkPolicy`, resource.urn);
        }
        reportedNamespaces.add(workload.namespace);
        continue;
      }
      const selected = policiesSelecting(workload, networkPolicies).length > 0;
      if (!selected) reportViolation(`${describeWorkload(workload, resource.name)}: no NetworkPolicy selects its pods`, resource.urn);
    }
  },
};

export const networkPolicyEgress: StackValidationPolicy = {
  name: "k8s-network-policy-egress",
  description:
    "Every pod a NetworkPolicy confines has its egress confined too (some policy selecting it declares Egress): with " +
    "open egress a compromised pod reaches every other pod, the nodes and the cloud's metadata service. Pods no policy " +
    "selects are k8s-network-policy-coverage's to report; host-network pods are outside NetworkPolicy's reach.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const networkPolicies = ofType(args.resources, types.networkPolicy);
    for (const { resource, workload } of policeableWorkloads(args.resources)) {
      const selecting = policiesSelecting(workload, networkPolicies);
      if (selecting.length > 0 && !selecting.some(restrictsEgress)) {
        reportViolation(`${describeWorkload(workload, resource.name)}: no NetworkPolicy selecting its pods restricts egress`, resource.urn);
      }
    }
  },
};

export const stackPolicies = [azureLoadBalancerPinned, disruptionBudgets, networkPolicyCoverage, networkPolicyEgress];

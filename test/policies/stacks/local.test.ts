import { describeStackUnderPolicies } from "../support/stackPolicyChecks.js";

// A laptop cluster (kind, k3d): no Azure resources, so only the Kubernetes policies apply.
describeStackUnderPolicies("local", { azure: false, replicated: false });

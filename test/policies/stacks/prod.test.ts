import { describeStackUnderPolicies } from "../support/stackPolicyChecks.js";

describeStackUnderPolicies("prod", { azure: true, replicated: true });

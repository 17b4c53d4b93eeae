import { describeStackUnderPolicies } from "../support/stackPolicyChecks.js";

describeStackUnderPolicies("dev", { azure: true, replicated: false });

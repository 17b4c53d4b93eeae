export { Balancer, balancerPods, balancerPorts, type BalancerArgs, type BalancerAutoscaling } from "./Balancer.js";
export { Coturn, type CoturnArgs } from "./Coturn.js";
export { Janus, type JanusArgs, type JanusPublicAddress } from "./Janus.js";
export { JitsiMeet, type JitsiMeetArgs, type JitsiTurnArgs, type JvbExposure } from "./JitsiMeet.js";
export { Redis, type RedisArgs } from "./Redis.js";
export { TraefikIngress, type AcmeDns01Args, type TraefikIngressArgs } from "./TraefikIngress.js";
export { assertPinnedImage, defaultImages } from "./versions.js";
export type { IngressBinding, MediaNodePlacement, PinnedPublicIp, PodPeer, RecordingStorage, ResourceSizing } from "./workload.js";

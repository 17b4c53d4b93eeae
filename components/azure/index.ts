export * from "./AksCluster.js";
export * from "./StaticIps.js";
export * from "./RecordingShare.js";
export * from "./Registry.js";
export * from "./ManagedRedis.js";
export * from "./naming.js";
export * from "./foundation.js";

export * from "./MediaPlatform.js";
export * from "./Tenants.js";
export * from "./azure/index.js";

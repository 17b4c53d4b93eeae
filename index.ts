import { MediaPlatform } from "./components/index.js";
import { loadStackConfig } from "./config/index.js";

// The whole stack: config parsed once, one component composing the platform, and what operators need from it.
const platform = new MediaPlatform("mediaplane", loadStackConfig());

export const endpoints = platform.endpoints;
export const publicIps = platform.publicIps;
export const kubeconfig = platform.kubeconfig;
export const tenants = platform.tenants;

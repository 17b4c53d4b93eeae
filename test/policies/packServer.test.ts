import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb.js";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Empty } from "google-protobuf/google/protobuf/empty_pb.js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mediaplanePolicies } from "../../policies/policies.js";
import { deployment, hardenedContainer } from "./support/resources.js";

// The pack as the Pulumi engine runs it (`pulumi preview --policy-pack policies`): the analyzer host loads
// policies/ with require(), the pack serves gRPC on a loopback port and prints it. The test plays the engine.

const packDirectory = fileURLToPath(new URL("../../policies/", import.meta.url));
const runPolicyPack = createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/run-policy-pack/index.js");

let pack: ChildProcess;
let analyzer: analyzerGrpc.AnalyzerClient;

function getAnalyzerInfo(): Promise<analyzerProto.AnalyzerInfo> {
  return new Promise((resolve, reject) =>
    analyzer.getAnalyzerInfo(new Empty(), (error, info) => (error === null ? resolve(info) : reject(error))),
  );
}

function analyze(request: analyzerProto.AnalyzeRequest): Promise<analyzerProto.AnalyzeResponse> {
  return new Promise((resolve, reject) =>
    analyzer.analyze(request, (error, response) => (error === null ? resolve(response) : reject(error))),
  );
}

beforeAll(async () => {
  // The engine address is only used for logging; nothing listens on port 1 and the pack does not need it to.
  pack = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], { cwd: packDirectory, stdio: ["ignore", "pipe", "inherit"] });
  const [firstOutput] = (await once(pack.stdout!, "data")) as [Buffer];
  const port = Number(firstOutput.toString().trim());
  expect(port).toBeGreaterThan(0);
  analyzer = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  analyzer?.close();
  pack?.kill();
});

describe("the policy pack served to the Pulumi engine", () => {
  it("announces every mediaplane policy with its enforcement level", async () => {
    const info = await getAnalyzerInfo();
    expect(info.getName()).toBe("mediaplane");
    const served = info.getPoliciesList().map((policy) => [policy.getName(), policy.getEnforcementlevel()]);
    const level = { advisory: analyzerProto.EnforcementLevel.ADVISORY, mandatory: analyzerProto.EnforcementLevel.MANDATORY };
    expect(served).toEqual(
      mediaplanePolicies.map((policy) => [policy.name, level[policy.enforcementLevel as keyof typeof level]]),
    );
  });

  it("rejects an unpinned image the way the offline evaluator does", async () => {
    const unpinned = deployment({ containers: [hardenedContainer({ image: "jitsi/jvb:latest" })] });
    const request = new analyzerProto.AnalyzeRequest();
    request.setType(unpinned.type);
    request.setName(unpinned.name);
    request.setUrn(unpinned.urn);
    request.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(unpinned.inputs))));
    request.setOptions(new analyzerProto.AnalyzerResourceOptions());
    const response = await analyze(request);
    const diagnostics = response.getDiagnosticsList().map((diagnostic) => [diagnostic.getPolicyname(), diagnostic.getMessage()]);
    expect(diagnostics).toEqual([["k8s-pinned-images", expect.stringContaining('"jitsi/jvb:latest" is not pinned')]]);
  });
});

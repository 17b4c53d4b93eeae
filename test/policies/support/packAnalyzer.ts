import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb.js";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Empty } from "google-protobuf/google/protobuf/empty_pb.js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb.js";
import type { PlannedResource } from "../../../scripts/policyEvaluation.js";

/** The pack as the Pulumi engine runs it: the analyzer host loads the pack's folder, which serves gRPC on a port it prints. */
export interface RunningPack {
  info(): Promise<analyzerProto.AnalyzerInfo>;
  /** [policy, message] of every diagnostic the pack reports on the resource. */
  analyze(resource: PlannedResource): Promise<[string, string][]>;
  stop(): void;
}

/** Starts the pack in `packDirectory` with the analyzer host of `pulumiDirectory` (its `@pulumi/pulumi` package). */
export async function startPack(packDirectory: string, pulumiDirectory: string): Promise<RunningPack> {
  const runPolicyPack = join(pulumiDirectory, "cmd", "run-policy-pack", "index.js");
  // The engine address is only used for logging; nothing listens on port 1 and the pack does not need it to.
  const pack: ChildProcess = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], { cwd: packDirectory, stdio: ["ignore", "pipe", "inherit"] });
  const [firstOutput] = (await once(pack.stdout!, "data")) as [Buffer];
  const port = Number(firstOutput.toString().trim());
  if (!(port > 0)) throw new Error(`the pack printed no port: ${firstOutput.toString()}`);
  const analyzer = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    info: () =>
      new Promise((resolve, reject) => analyzer.getAnalyzerInfo(new Empty(), (error, info) => (error === null ? resolve(info) : reject(error)))),
    analyze: (resource) => {
      const request = new analyzerProto.AnalyzeRequest();
      request.setType(resource.type);
      request.setName(resource.name);
      request.setUrn(resource.urn);
      request.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(resource.inputs))));
      request.setOptions(new analyzerProto.AnalyzerResourceOptions());
      return new Promise((resolve, reject) =>
        analyzer.analyze(request, (error, response) =>
          error === null
            ? resolve(response.getDiagnosticsList().map((diagnostic) => [diagnostic.getPolicyname(), diagnostic.getMessage()]))
            : reject(error),
        ),
      );
    },
    stop: () => {
      analyzer.close();
      pack.kill();
    },
  };
}

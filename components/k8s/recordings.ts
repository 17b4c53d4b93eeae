import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { recordingMountOptions } from "./mediaUser.js";

/** Where the recordings share is mounted in the balancer's pods that use it (API, importer, upload, playback). */
export const recordingsMountPath = "/var/lib/mediaplane/recordings";

/**
 * Janus's folder on the recordings share. Janus mounts only this folder: the share's root holds the tenants' BBB
 * recordings, one directory per tenant slug, and a slug never starts with `_`, so no tenant can own this name.
 */
export const janusRecordingsFolder = "_janus";

/** Where recordings go: the Azure file share (CSI driver) on AKS, or an existing claim on a laptop cluster. */
export type RecordingStorage =
  | {
      kind: "azureFile";
      /** Secret with `azurestorageaccountname` / `azurestorageaccountkey` that the file CSI driver reads. */
      secretName: pulumi.Input<string>;
      /** Name of the file share. */
      shareName: pulumi.Input<string>;
    }
  | {
      kind: "persistentVolumeClaim";
      /** An existing ReadWriteMany (or, single node, ReadWriteOnce) claim. */
      claimName: pulumi.Input<string>;
    };

export function recordingVolume(name: string, storage: RecordingStorage): k8s.types.input.core.v1.Volume {
  if (storage.kind === "persistentVolumeClaim") {
    return { name, persistentVolumeClaim: { claimName: storage.claimName } };
  }
  return {
    name,
    csi: {
      driver: "file.csi.azure.com",
      volumeAttributes: {
        secretName: storage.secretName,
        shareName: storage.shareName,
        // SMB has no POSIX owners: the mount options decide who may write the recordings.
        mountOptions: recordingMountOptions.join(","),
      },
    },
  };
}

import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage/index.js";
import * as k8s from "@pulumi/kubernetes";
import { recordingMountOptions } from "../k8s/mediaUser.js";

export interface RecordingShareArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Globally unique storage account name: 3..24 lower-case letters and digits. */
  readonly storageAccountName: pulumi.Input<string>;
  /** The subnet of the cluster's nodes, the only network the account accepts data traffic from. */
  readonly nodeSubnetId: pulumi.Input<string>;
  /** Replication of the account. */
  readonly sku: "Standard_LRS" | "Standard_ZRS" | "Standard_GRS";
  /** File share name. */
  readonly shareName: string;
  /** Share quota, GiB; also the size the PersistentVolume announces. */
  readonly quotaGi: number;
  /** Namespace of the Secret and the claim. */
  readonly namespace: pulumi.Input<string>;
  readonly provider: k8s.Provider;
}

/**
 * An Azure file share for recordings, exposed to the cluster as a ReadWriteMany claim through the
 * `file.csi.azure.com` driver with a static PersistentVolume and the account key in a Secret.
 */
export class RecordingShare extends pulumi.ComponentResource {
  readonly storageAccountName: pulumi.Output<string>;
  readonly shareName: pulumi.Output<string>;
  /** Secret with `azurestorageaccountname` / `azurestorageaccountkey`, for the CSI driver. */
  readonly secretName: pulumi.Output<string>;
  /** The claim workloads mount. */
  readonly claimName: pulumi.Output<string>;

  constructor(name: string, args: RecordingShareArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:RecordingShare", name, {}, opts);

    const account = new storage.StorageAccount(
      name,
      {
        accountName: args.storageAccountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "StorageV2",
        sku: { name: args.sku },
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        // The CSI driver mounts the share over SMB with the account key: Entra ID auth for SMB needs domain-joined
        // (Kerberos) clients, which nodes are not. The key lives only in the CSI driver's Secret below.
        allowSharedKeyAccess: true,
        publicNetworkAccess: "Enabled",
        // Same-region traffic bypasses IP rules, so the nodes are admitted by their subnet (service endpoint).
        networkRuleSet: {
          defaultAction: "Deny",
          bypass: "None",
          virtualNetworkRules: [{ virtualNetworkResourceId: args.nodeSubnetId, action: "Allow" }],
        },
      },
      { parent: this, protect: true },
    );
    const share = new storage.FileShare(
      name,
      {
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        shareName: args.shareName,
        shareQuota: args.quotaGi,
        enabledProtocols: "SMB",
      },
      { parent: this, protect: true },
    );
    const accountKey = pulumi.secret(
      storage
        .listStorageAccountKeysOutput({ accountName: account.name, resourceGroupName: args.resourceGroupName }, { parent: this })
        .keys.apply((keys) => {
          const key = keys[0]?.value;
          if (key === undefined) throw new Error("the recordings storage account returned no key");
          return key;
        }),
    );

    const k8sOpts = { parent: this, provider: args.provider };
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: "recordings-azure-files", namespace: args.namespace },
        type: "Opaque",
        stringData: { azurestorageaccountname: account.name, azurestorageaccountkey: accountKey },
      },
      k8sOpts,
    );
    const volume = new k8s.core.v1.PersistentVolume(
      name,
      {
        metadata: { name: pulumi.interpolate`recordings-${account.name}` },
        spec: {
          capacity: { storage: `${args.quotaGi}Gi` },
          accessModes: ["ReadWriteMany"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "",
          // Owned by the media user that Janus runs as (see `mediaUser`).
          mountOptions: [...recordingMountOptions],
          csi: {
            driver: "file.csi.azure.com",
            // Unique per cluster: <resource group>#<account>#<share>.
            volumeHandle: pulumi.interpolate`${args.resourceGroupName}#${account.name}#${share.name}`,
            volumeAttributes: { shareName: share.name },
            nodeStageSecretRef: { name: secret.metadata.name, namespace: secret.metadata.namespace },
          },
        },
      },
      k8sOpts,
    );
    const claim = new k8s.core.v1.PersistentVolumeClaim(
      name,
      {
        metadata: { name: "recordings", namespace: args.namespace },
        spec: {
          accessModes: ["ReadWriteMany"],
          storageClassName: "",
          volumeName: volume.metadata.name,
          resources: { requests: { storage: `${args.quotaGi}Gi` } },
        },
      },
      k8sOpts,
    );

    this.storageAccountName = account.name;
    this.shareName = share.name;
    this.secretName = secret.metadata.name;
    this.claimName = claim.metadata.name;
    this.registerOutputs({
      storageAccountName: this.storageAccountName,
      shareName: this.shareName,
      secretName: this.secretName,
      claimName: this.claimName,
    });
  }
}

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
  /** Namespace of the account key's Secret and of the claim the platform's pods mount. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Further namespaces whose pods mount the share, by a key that names their volume: each gets a PersistentVolume of
   * its own (a volume binds one claim) and a claim on it. The account key stays in `namespace`.
   */
  readonly alsoClaimedIn?: Readonly<Record<string, pulumi.Input<string>>>;
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
  /** The claim the platform's workloads mount, in `namespace`. */
  readonly claimName: pulumi.Output<string>;
  /** The claims in `alsoClaimedIn`'s namespaces, by the same keys. */
  readonly otherClaimNames: Readonly<Record<string, pulumi.Output<string>>>;

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
    const claimOn = (resourceName: string, namespace: pulumi.Input<string>, volumeKey: string | undefined): pulumi.Output<string> => {
      const volume = new k8s.core.v1.PersistentVolume(
        resourceName,
        {
          metadata: { name: pulumi.interpolate`recordings-${account.name}${volumeKey === undefined ? "" : `-${volumeKey}`}` },
          spec: {
            capacity: { storage: `${args.quotaGi}Gi` },
            accessModes: ["ReadWriteMany"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "",
            // Owned by the media user that Janus runs as (see `mediaUser`).
            mountOptions: [...recordingMountOptions],
            csi: {
              driver: "file.csi.azure.com",
              volumeHandle: recordingVolumeHandle(args.resourceGroupName, account.name, share.name, volumeKey),
              volumeAttributes: { shareName: share.name },
              // A PersistentVolume may name a Secret in any namespace: pods elsewhere mount the share without the key.
              nodeStageSecretRef: { name: secret.metadata.name, namespace: secret.metadata.namespace },
            },
          },
        },
        k8sOpts,
      );
      return new k8s.core.v1.PersistentVolumeClaim(
        resourceName,
        {
          metadata: { name: "recordings", namespace },
          spec: {
            accessModes: ["ReadWriteMany"],
            storageClassName: "",
            volumeName: volume.metadata.name,
            resources: { requests: { storage: `${args.quotaGi}Gi` } },
          },
        },
        k8sOpts,
      ).metadata.name;
    };

    this.storageAccountName = account.name;
    this.shareName = share.name;
    this.secretName = secret.metadata.name;
    this.claimName = claimOn(name, args.namespace, undefined);
    this.otherClaimNames = Object.fromEntries(
      Object.entries(args.alsoClaimedIn ?? {}).map(([key, namespace]) => [key, claimOn(`${name}-${key}`, namespace, key)]),
    );
    this.registerOutputs({
      storageAccountName: this.storageAccountName,
      shareName: this.shareName,
      secretName: this.secretName,
      claimName: this.claimName,
    });
  }
}

/**
 * The file CSI driver's volume ID, `{resource-group}#{account}#{share}#{placeholder}#{uuid}` (azurefile-csi-driver
 * docs/driver-parameters.md; parsed by pkg/azurefile/azurefile.go `GetFileShareInfo`, which ignores the uuid). The
 * kubelet stages a CSI volume once per node under a path derived from its ID, so two volumes of the share with one ID
 * would share a mount that unstaging either one removes. A further volume's key goes into the uuid field; the
 * placeholder stays empty (a value there means a VHD disk on the share).
 */
export function recordingVolumeHandle(
  resourceGroupName: pulumi.Input<string>,
  accountName: pulumi.Input<string>,
  shareName: pulumi.Input<string>,
  volumeKey: string | undefined,
): pulumi.Output<string> {
  return pulumi.interpolate`${resourceGroupName}#${accountName}#${shareName}${volumeKey === undefined ? "" : `##${volumeKey}`}`;
}

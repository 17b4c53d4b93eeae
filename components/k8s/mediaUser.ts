/**
 * The one identity of the media workloads that write recordings: the user the Janus image creates, the user and
 * group its pod runs as, and the owner the recordings share is mounted with. SMB has no POSIX owners, so the Azure
 * Files mount options alone decide who may write there (the CSI driver skips `fsGroup` once they name a gid): if
 * these three ever disagree, recording fails with EACCES. Change the numbers here and nowhere else.
 */
export const mediaUser = { uid: 10001, gid: 10001 } as const;

/** Build arguments of `images/janus/Dockerfile` that create the media user. */
export const mediaUserBuildArgs = { MEDIA_UID: String(mediaUser.uid), MEDIA_GID: String(mediaUser.gid) } as const;

/**
 * Mount options of the recordings share: owned by the media user, group-writable for pods that share its group,
 * nothing for anyone else; symlinks as SMB reparse points, no byte-range locks (recordings are append-only).
 */
export const recordingMountOptions: readonly string[] = [
  "dir_mode=0770",
  "file_mode=0660",
  `uid=${mediaUser.uid}`,
  `gid=${mediaUser.gid}`,
  "mfsymlinks",
  "nobrl",
];

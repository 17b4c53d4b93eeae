/**
 * The BigBlueButton releases a stack may pin, each with the one Ubuntu release its packages are built for and the
 * bbb-install branch and version line that install it (bbb-install's README: `-v jammy-300` from the
 * `v3.0.x-release` branch on Ubuntu 22.04). Re-running the same line upgrades within it; moving to another
 * release is a new entry here and a deliberate config change.
 */
export const bbbReleases = {
  "3.0": {
    installerBranch: "v3.0.x-release",
    versionLine: "jammy-300",
    ubuntu: {
      release: "22.04 (jammy)",
      /** Canonical's Azure Marketplace image of that release (Gen2 VMs). */
      image: { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2", version: "latest" },
    },
  },
} as const;

export type BbbRelease = keyof typeof bbbReleases;
export const bbbReleaseNames = Object.keys(bbbReleases) as [BbbRelease, ...BbbRelease[]];

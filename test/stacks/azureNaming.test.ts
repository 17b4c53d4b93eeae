import { describe, expect, it } from "vitest";
import { alphanumericName, azureCliKubeconfig, pinnedIpAnnotations, uniqueResourceName } from "../../components/azure/index.js";

describe("globally unique Azure names", () => {
  it("drops what storage accounts and registries do not allow, and ends in the stack's suffix", () => {
    expect(alphanumericName("mp-prod", "rec", "k3x9q2", 24)).toBe("mpprodreck3x9q2");
  });

  it("shortens the stem, never the suffix, to keep within the length Azure allows", () => {
    const name = alphanumericName("a-very-long-prefix", "recordings", "k3x9q2", 24);
    expect(name).toHaveLength(24);
    expect(name.endsWith("k3x9q2")).toBe(true);
  });

  it("keeps dashes where the name allows them (Redis cache DNS labels)", () => {
    expect(uniqueResourceName("mpprod", "redis", "k3x9q2")).toBe("mpprod-redis-k3x9q2");
  });
});

describe("Service annotations for a pinned public IP", () => {
  it("name the IP and the stack's resource group that holds it", () => {
    expect(pinnedIpAnnotations("mpprod-jvb", "mpprod-rg")).toEqual({
      "service.beta.kubernetes.io/azure-pip-name": "mpprod-jvb",
      "service.beta.kubernetes.io/azure-load-balancer-resource-group": "mpprod-rg",
    });
  });
});

describe("the kubeconfig Pulumi deploys with", () => {
  // The shape `az aks get-credentials --format exec` returns for an Entra ID cluster (kubelogin's device code login).
  const userKubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{ name: mpdev-aks, cluster: { server: 'https://mpdev-aks.hcp.westeurope.azmk8s.io:443' } }]",
    "users:",
    "  - name: clusterUser_mpdev-rg_mpdev-aks",
    "    user:",
    "      exec:",
    "        apiVersion: client.authentication.k8s.io/v1beta1",
    "        command: kubelogin",
    "        args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, 72f988bf-86f1-41af-91ab-2d7cd011db47, --login, devicecode]",
    "contexts: [{ name: mpdev-aks, context: { cluster: mpdev-aks, user: clusterUser_mpdev-rg_mpdev-aks } }]",
    "current-context: mpdev-aks",
  ].join("\n");

  it("signs in with the Azure CLI login of the machine running Pulumi, never a device code prompt", () => {
    expect(azureCliKubeconfig(userKubeconfig)).toContain(
      "args:\n          - get-token\n          - --login\n          - azurecli\n          - --server-id\n          - 6dae42f8-4368-4678-94ff-3960e28e3630",
    );
    expect(azureCliKubeconfig(userKubeconfig)).not.toContain("devicecode");
  });

  it("refuses a kubelogin kubeconfig that names no server id", () => {
    expect(() => azureCliKubeconfig(userKubeconfig.replace("--server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, ", ""))).toThrow(
      "the AKS user kubeconfig names no --server-id for kubelogin",
    );
  });
});

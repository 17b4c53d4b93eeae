import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecretValue, revealSecrets, runProgramWithMocks, type ProgramRun, type RecordedResource } from "../../scripts/mockRuntime.js";
import { stackSettings } from "../../scripts/stackFile.js";

/**
 * The whole program under the mock engine on the prod stack with a fleet of its own BBB nodes and managed DNS
 * records: the Azure resources of a node, its remote commands, the wiring of its secret into the balancer, the
 * order its drain and its deletion run in, and a record for every host.
 */

const secrets = {
  acmeTsigSecret: "dGhlLXRzaWctc2VjcmV0LW9mLXRoZS1tb2NrLXN0YWNr",
  bbbSshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-key-material\n-----END OPENSSH PRIVATE KEY-----",
  bbbNodeSecrets: JSON.stringify({ "bbb-1": "referenced-secret-bbb-1-000", "bbb-2": "referenced-secret-bbb-2-000", "bbb-large-1": "referenced-secret-large-000" }),
};
const fleet = {
  domain: "bbb.mediaplane.example.org",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3v0Z1tVd9Kq8xXhS4hHk2xP2lq6t9yq8wzq1m5Jv0k ops@example.org",
  drain: { timeoutMinutes: 45, panicOnTimeout: false },
  groups: [
    { name: "bbb-a", count: 2, vmSize: "Standard_F16s_v2", zone: "2", bbbVersion: "3.0" },
    { name: "large", cluster: "large", count: 1, vmSize: "Standard_F32s_v2", bbbVersion: "3.0" },
  ],
};

let run: ProgramRun;

beforeAll(async () => {
  const settings = stackSettings("prod");
  const config: Record<string, string> = Object.fromEntries(
    Object.entries({ ...settings, bbb: { ...(settings["bbb"] as object), fleet }, dns: { zone: "mediaplane.example.org" } }).map(([key, value]) => [
      `mediaplane:${key}`,
      JSON.stringify(value),
    ]),
  );
  for (const [key, value] of Object.entries(secrets)) config[`mediaplane:${key}`] = value;
  run = await runProgramWithMocks({
    project: "mediaplane",
    stack: "fleet",
    config,
    secretKeys: Object.keys(secrets).map((key) => `mediaplane:${key}`),
    loadProgram: () => import("../../index.js"),
  });
}, 120_000);

const byName = (name: string): RecordedResource => {
  const found = run.resources.find((resource) => resource.name === name);
  if (found === undefined) throw new Error(`no resource ${name}; have ${run.resources.map((r) => r.name).filter((n) => n.includes("bbb")).join(", ")}`);
  return found;
};
const ofType = (type: string): RecordedResource[] => run.resources.filter((resource) => resource.type === type);
const commandText = (resource: RecordedResource): string =>
  ["create", "update", "delete"].map((step) => String(revealSecrets(resource.inputs[step]) ?? "")).join("\n");

describe("a BBB node of the stack", () => {
  it("is a VM on Ubuntu 22.04 (jammy), the release BBB 3.0 supports, in its zone, with SSH keys only", () => {
    const vm = byName("bbb-a-1-vm");
    expect(vm.type).toBe("azure-native:compute:VirtualMachine");
    expect(vm.inputs).toMatchObject({
      vmName: "mpprod-bbb-bbb-a-1",
      zones: ["2"],
      hardwareProfile: { vmSize: "Standard_F16s_v2" },
      storageProfile: { imageReference: { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2" } },
      osProfile: {
        computerName: "bbb-a-1",
        adminUsername: "mediaplane",
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: { publicKeys: [{ path: "/home/mediaplane/.ssh/authorized_keys", keyData: fleet.sshPublicKey }] },
        },
      },
    });
    expect(vm.engine.deleteBeforeReplace).toBe(true);
  });

  it("has its own static public IP in its zone", () => {
    expect(byName("bbb-a-1-ip").inputs).toMatchObject({
      publicIpAddressName: "mpprod-bbb-bbb-a-1-ip",
      publicIPAllocationMethod: "Static",
      sku: { name: "Standard" },
      zones: ["2"],
    });
    expect(byName("large-1-ip").inputs["zones"]).toBeUndefined();
  });

  it("opens exactly web, media and the node's TURN to all, SSH only to the admin allow-list, and refuses the rest", () => {
    const rules = (byName("bbb-a-1-nsg").inputs["securityRules"] as Record<string, unknown>[]).map((rule) => ({
      name: rule["name"],
      access: rule["access"],
      protocol: rule["protocol"],
      ports: rule["destinationPortRanges"] ?? rule["destinationPortRange"],
      from: rule["sourceAddressPrefixes"] ?? rule["sourceAddressPrefix"],
    }));
    expect(rules).toEqual([
      { name: "web", access: "Allow", protocol: "Tcp", ports: ["80", "443"], from: "Internet" },
      { name: "media", access: "Allow", protocol: "Udp", ports: "16384-32768", from: "Internet" },
      { name: "turn", access: "Allow", protocol: "*", ports: "3478", from: "Internet" },
      { name: "ssh-admin", access: "Allow", protocol: "Tcp", ports: "22", from: ["198.51.100.0/24", "203.0.113.10/32"] },
      { name: "deny-other", access: "Deny", protocol: "*", ports: "*", from: "*" },
    ]);
    expect(byName("bbb-a-1-nic").engine.dependencies).toContain(byName("bbb-a-1-nsg").urn);
  });

  it("runs bbb-install from the pinned release branch with its version line, the node's FQDN and the ACME e-mail", () => {
    const install = byName("bbb-a-1-bbb-install");
    expect(install.type).toBe("command:remote:Command");
    expect(String(install.inputs["create"])).toContain(
      "curl -fsSL -o /tmp/bbb-install.sh https://raw.githubusercontent.com/bigbluebutton/bbb-install/v3.0.x-release/bbb-install.sh",
    );
    expect(String(install.inputs["create"])).toContain("sudo bash /tmp/bbb-install.sh -v jammy-300 -s bbb-a-1.bbb.mediaplane.example.org -e ops@mediaplane.example.org -w");
    expect(revealSecrets(install.inputs["connection"])).toMatchObject({ user: "mediaplane", privateKey: secrets.bbbSshPrivateKey });
  });

  it("installs the load agent with its token on stdin (a secret), and no secret is in any command's text", () => {
    const agent = byName("bbb-a-1-load-agent");
    expect(isSecretValue(agent.inputs["stdin"])).toBe(true);
    const stdin = String(revealSecrets(agent.inputs["stdin"]));
    expect(stdin).toMatch(/^LOAD_AGENT_TOKEN=.+\n$/);
    const token = stdin.slice("LOAD_AGENT_TOKEN=".length).trim();
    const commands = [...ofType("command:remote:Command"), ...ofType("command:local:Command")];
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      const text = commandText(command);
      for (const secret of [token, secrets.acmeTsigSecret, secrets.bbbSshPrivateKey, "referenced-secret-bbb-1-000"]) expect(text).not.toContain(secret);
    }
  });

  it("waits for its API over HTTPS after the install and the agent, then reads bbb-conf --secret as a secret output", () => {
    const ready = byName("bbb-a-1-api-ready");
    expect(String(ready.inputs["create"])).toContain("https://bbb-a-1.bbb.mediaplane.example.org/bigbluebutton/api");
    expect(ready.engine.dependencies).toEqual(expect.arrayContaining([byName("bbb-a-1-bbb-install").urn, byName("bbb-a-1-load-agent").urn]));
    const secret = byName("bbb-a-1-api-secret");
    expect(secret.inputs["create"]).toBe("sudo bbb-conf --secret | awk '$1 == \"Secret:\" { print $2 }'");
    expect(secret.engine.additionalSecretOutputs).toContain("stdout");
    expect(secret.engine.dependencies).toContain(ready.urn);
  });

  it("gets its DNS record before bbb-install runs (Let's Encrypt must resolve the name)", () => {
    const record = byName("bbb-a-1-dns-nsupdate");
    expect(String(record.inputs["create"])).toContain("update add bbb-a-1.bbb.mediaplane.example.org. 300 A <unknown until apply: address of mpprod-bbb-bbb-a-1-ip>");
    expect(byName("bbb-a-1-bbb-install").engine.dependencies).toContain(record.urn);
  });
});

describe("the balancer's config", () => {
  const balancerConfig = (): { nodes: Record<string, unknown>[] } => {
    const secret = ofType("kubernetes:core/v1:Secret").find((resource) => JSON.stringify(resource.inputs).includes("config.yaml"));
    if (secret === undefined) throw new Error("no balancer config Secret");
    const stringData = secret.inputs["stringData"] as Record<string, unknown>;
    expect(isSecretValue(stringData["config.yaml"]) || isSecretValue(secret.inputs["stringData"])).toBe(true);
    return parseYaml(String((revealSecrets(stringData) as Record<string, string>)["config.yaml"])) as { nodes: Record<string, unknown>[] };
  };

  it("lists each node of the stack with its URL, cluster, the secret read from the node and its load URL", () => {
    const node = balancerConfig().nodes.find((entry) => entry["id"] === "large-1");
    expect(node).toEqual({
      id: "large-1",
      url: "https://large-1.bbb.mediaplane.example.org/bigbluebutton/api/",
      cluster: "large",
      secret: "<unknown until apply: output of large-1-api-secret>",
      loadUrl: expect.stringMatching(/^https:\/\/large-1\.bbb\.mediaplane\.example\.org\/b3lb\/load\?token=.+/),
    });
  });

  it("keeps the referenced nodes, with the secrets from the one secret map", () => {
    const ids = balancerConfig().nodes.map((entry) => [entry["id"], entry["secret"]]);
    expect(ids).toEqual(
      expect.arrayContaining([
        ["bbb-1", "referenced-secret-bbb-1-000"],
        ["bbb-a-1", expect.stringContaining("bbb-a-1-api-secret")],
        ["bbb-a-2", expect.stringContaining("bbb-a-2-api-secret")],
      ]),
    );
  });
});

describe("removing or replacing a node", () => {
  it("drains it first: the drain depends on the node's machine and commands and on the balancer, so it is deleted before them", () => {
    const drain = byName("mediaplane-drain-bbb-a-1-drain");
    expect(drain.type).toBe("command:local:Command");
    const deployment = ofType("kubernetes:apps/v1:Deployment").find((resource) => resource.name.includes("balancer"));
    expect(deployment).toBeDefined();
    expect(drain.engine.dependencies).toEqual(
      expect.arrayContaining([byName("bbb-a-1-vm").urn, byName("bbb-a-1-bbb-install").urn, byName("bbb-a-1-api-secret").urn, deployment?.urn]),
    );
  });

  it("runs its own delete step (it is deleted with nothing), and on a new machine is replaced delete-first", () => {
    const drain = byName("mediaplane-drain-bbb-a-1-drain");
    expect(drain.engine.deletedWith).toBeUndefined();
    expect(drain.engine.deleteBeforeReplace).toBe(true);
    expect(drain.engine.dependencies).toContain(byName("bbb-a-1-vm").urn);
    expect(Object.keys(drain.inputs)).toContain("triggers");
  });

  it("drains through the admin API behind the API host, with the operator's bound and no panic without consent", () => {
    const text = String(byName("mediaplane-drain-bbb-a-1-drain").inputs["delete"]);
    expect(text).toContain('node_url="https://api.mediaplane.example.org/admin/nodes/$1"');
    expect(text).toContain('status=$(admin -X POST "$node_url/drain")');
    expect(text.split("\n").at(-1)).toBe("drain_node 'bbb-a-1' || exit 1");
    expect(text).toContain("deadline=$(( $(date +%s) + 2700 ))");
    expect(text).not.toContain("/panic");
    const environment = byName("mediaplane-drain-bbb-a-1-drain").inputs["environment"];
    expect(isSecretValue(environment)).toBe(true);
    expect(Object.keys(revealSecrets(environment) as object)).toEqual(["BALANCER_ADMIN_TOKEN"]);
  });

  it("drains a node removed from the fleet before the balancer's config drops it: the config waits for the roster", () => {
    const roster = byName("mediaplane-bbb-roster");
    expect(String(roster.inputs["create"])).toContain("current='bbb-a-1 bbb-a-2 large-1'");
    expect(roster.inputs["update"]).toBe(roster.inputs["create"]);
    expect(roster.inputs["addPreviousOutputInEnv"]).toBe(true);
    expect(isSecretValue(roster.inputs["environment"])).toBe(true);
    const configSecret = ofType("kubernetes:core/v1:Secret").find((resource) => JSON.stringify(resource.inputs).includes("config.yaml"));
    expect(configSecret?.engine.dependencies).toContain(roster.urn);
  });

  it("installs the recording hook after reading its secret: the node's identity and the platform's URL on stdin (a secret)", () => {
    const hook = byName("bbb-a-1-recording-hook");
    expect(hook.engine.dependencies).toContain(byName("bbb-a-1-api-secret").urn);
    expect(isSecretValue(hook.inputs["stdin"])).toBe(true);
    const stdin = String(revealSecrets(hook.inputs["stdin"]));
    expect(stdin).toMatch(/^MEDIAPLANE_UPLOAD_URL='https:\/\/[^']+'\nMEDIAPLANE_NODE_ID='bbb-a-1'\nMEDIAPLANE_NODE_SECRET='.+'\n$/);
  });

  it("installs the hook program exactly as the repository has it, and BBB's post-publish script that runs it", () => {
    const text = commandText(byName("bbb-a-1-recording-hook"));
    const program = readFileSync(new URL("../../components/bbb/recording/mediaplane-recording-upload", import.meta.url), "utf8").replace(/\n$/, "");
    expect(text).toContain(`sudo tee /usr/local/bin/mediaplane-recording-upload >/dev/null <<'MEDIAPLANE_RECORDING_HOOK'\n${program}\nMEDIAPLANE_RECORDING_HOOK`);
    expect(text).toContain("sudo tee /usr/local/bigbluebutton/core/scripts/post_publish/mediaplane_upload.rb >/dev/null <<'MEDIAPLANE_POST_PUBLISH'");
    expect(text).toContain("exec('/usr/local/bin/mediaplane-recording-upload', *ARGV)");
  });

  it("leaves the hook's settings readable by BBB's recording user, who runs post-publish scripts, and by no one else", () => {
    // record-and-playback/core/systemd/bbb-rap-resque-worker.service: User=bigbluebutton.
    const text = commandText(byName("bbb-a-1-recording-hook"));
    expect(text).toContain("sudo install -d -m 0711 /etc/mediaplane");
    expect(text).toContain("sudo sh -c 'umask 077 && cat > /etc/mediaplane/recording-upload.env'");
    expect(text).toContain("sudo chown bigbluebutton:bigbluebutton /etc/mediaplane/recording-upload.env");
    expect(commandText(byName("bbb-a-1-load-agent"))).toContain("sudo install -d -m 0711 /etc/mediaplane");
  });

  it("lets the node's commands go with its VM instead of connecting to a machine that is going away", () => {
    for (const step of ["bbb-install", "load-agent", "api-secret", "recording-hook"]) expect(byName(`bbb-a-1-${step}`).engine.deletedWith).toBe(byName("bbb-a-1-vm").urn);
  });
});

describe("DNS records of the stack", () => {
  const recordFor = (host: string): string => {
    const found = ofType("command:local:Command").find((resource) => String(resource.inputs["create"]).includes(`update add ${host}. `));
    if (found === undefined) throw new Error(`no record for ${host}`);
    return String(found.inputs["create"]);
  };

  it("has one for every host, each pointing at the static IP that serves it", () => {
    expect(recordFor("api.mediaplane.example.org")).toContain("A <unknown until apply: address of mpprod-ingress>");
    expect(recordFor("*.api.mediaplane.example.org")).toContain("A <unknown until apply: address of mpprod-ingress>");
    expect(recordFor("meet.mediaplane.example.org")).toContain("A <unknown until apply: address of mpprod-ingress>");
    expect(recordFor("janus.mediaplane.example.org")).toContain("A <unknown until apply: address of mpprod-ingress>");
    expect(recordFor("turn.mediaplane.example.org")).toContain("A <unknown until apply: address of mpprod-turn>");
    for (const node of ["bbb-a-1", "bbb-a-2", "large-1"]) expect(recordFor(`${node}.bbb.mediaplane.example.org`)).toContain(`address of mpprod-bbb-${node}-ip`);
  });

  it("are written to the ACME name server with the ACME key, the secret only in the environment", () => {
    const record = ofType("command:local:Command").find((resource) => String(resource.inputs["create"]).includes("update add api.mediaplane.example.org. "));
    expect(String(record?.inputs["create"])).toContain("server ns1.mediaplane.example.org 53\nzone mediaplane.example.org.");
    expect(String(record?.inputs["create"])).toContain(`printf 'key hmac-sha512:mediaplane-prod-acme %s\\n' "$TSIG_SECRET"`);
    expect(revealSecrets(record?.inputs["environment"])).toEqual({ TSIG_SECRET: secrets.acmeTsigSecret });
  });
});

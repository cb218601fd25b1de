import Foundation
import Logging
public import ProvisioApply

/// Terraform played by `Tests/fixtures/terraform-standin.py` (no maintained build installs here) and a real
/// `ansible-playbook` running `examples/ansible` against localhost, writing its settings into `output`.
public struct ProvisioningFixture: Sendable {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    public static let terraformStandIn = root + "/Tests/fixtures/terraform-standin.py"
    /// A Proxmox token no output may ever contain.
    public static let canary = "provisio@pve!sizing=canary-7d1e-4f9a"

    public let work: String
    public let output: String
    public let terraform: TerraformConfig
    public let ansible: AnsibleConfig
    public let runner = CommandRunner(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })

    public init() throws {
        func directory(_ name: String) throws -> String {
            let dir = NSTemporaryDirectory() + "provisio-\(name)-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return dir
        }
        work = try directory("tf-work")
        output = try directory("ansible-out")
        let module = try directory("tf-module")
        try "variable \"vms\" {}\n".write(toFile: module + "/variables.tf", atomically: true, encoding: .utf8)
        var t = TerraformConfig(workingDirectory: module)
        t.binary = Self.terraformStandIn
        t.attempts = 1
        t.environment = ["TF_STANDIN_LOG": work + "/calls.log", "TF_VAR_proxmox_api_token": Self.canary]
        terraform = t

        let project = try directory("ansible")
        for name in ["site.yml", "datastores.yml", "k3s-workers.yml"] {
            try FileManager.default.copyItem(atPath: "\(Self.root)/examples/ansible/\(name)", toPath: "\(project)/\(name)")
        }
        var a = AnsibleConfig(workingDirectory: project)
        let python =
            (try? Shell.run(["python3", "-c", "import sys; print(sys.executable)"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "python3"
        a.extraArguments = [
            "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=\(python)", "-e", "provisio_become=false",
            "-e", "provisio_manage_service=false", "-e", "provisio_postgresql_conf_dir=\(output)", "-e", "provisio_redis_conf_file=\(output)/redis.conf",
        ]
        a.timeout = 120
        ansible = a
    }

    public func provisioner() -> Provisioner { Provisioner(terraform: terraform, ansible: ansible, runner: runner, workRoot: work) }

    /// The policies folder with the catch-all path rule allowing automatic apply (and, if asked, destroys).
    public static func policies(autoApply: Bool, allowDestroy: Bool = false) throws -> String {
        let dir = NSTemporaryDirectory() + "provisio-policy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let original = try String(contentsOfFile: root + "/policies/default.yaml", encoding: .utf8)
        let text = original.replacingOccurrences(of: "autoApply: false", with: "autoApply: \(autoApply)").replacingOccurrences(
            of: "allowDestroy: false", with: "allowDestroy: \(allowDestroy)")
        guard text.contains("autoApply: \(autoApply)") else { throw GitFixtureError("policies/default.yaml has no autoApply key to set") }
        try text.write(toFile: dir + "/default.yaml", atomically: true, encoding: .utf8)
        return dir
    }
}

struct GitFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

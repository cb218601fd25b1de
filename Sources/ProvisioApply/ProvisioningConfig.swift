import Foundation
import ProvisioCore

/// The `terraform.*` and `ansible.*` configuration keys.
public enum ProvisioningConfig {
    public static let keys: [String: String] = [
        "terraform.workingDirectory":
            "root module that reads provisio's *.auto.tfvars.json (e.g. examples/terraform/proxmox); unset: VMs are planned by a person",
        "terraform.binary": "terraform or tofu, or a path (default terraform)",
        "terraform.timeout": "seconds one terraform command may take before its process group is stopped (default 900)",
        "ansible.workingDirectory": "Ansible project with the playbook (e.g. examples/ansible); provisio writes inventory/ and host_vars/ into it",
        "ansible.playbook": "playbook to run (default site.yml)",
        "ansible.timeout": "seconds one ansible-playbook run may take (default 1800)",
    ]

    /// Reads the keys; `proxmoxToken` (USER@REALM!TOKENID=SECRET) and `proxmoxURL` reach Terraform as
    /// `TF_VAR_proxmox_api_token` and `TF_VAR_proxmox_endpoint`, never through a file or a log; a Proxmox CA file as `SSL_CERT_FILE`.
    public static func load(values: [String: String], file: String, proxmoxURL: String?, proxmoxToken: String?, proxmoxCAFile: String? = nil) throws -> (
        TerraformConfig?, AnsibleConfig?
    ) {
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }
        func seconds(_ key: String) throws -> Double? {
            guard let v = values[key] else { return nil }
            guard let d = Double(v), d > 0, d <= 86_400 else { throw fail(key, "expected seconds between 0 and 86400, got '\(v)'") }
            return d
        }
        func directory(_ key: String) throws -> String? {
            guard let d = values[key] else { return nil }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else { throw fail(key, "\(d) is not a directory") }
            return d
        }
        var terraform: TerraformConfig?
        if let dir = try directory("terraform.workingDirectory") {
            var t = TerraformConfig(workingDirectory: dir)
            if let b = values["terraform.binary"] {
                guard !b.isEmpty, !b.hasPrefix("-") else { throw fail("terraform.binary", "expected terraform, tofu or a path") }
                t.binary = b
            }
            if let s = try seconds("terraform.timeout") { t.timeout = s }
            if let proxmoxToken { t.environment["TF_VAR_proxmox_api_token"] = proxmoxToken }
            if let proxmoxURL { t.environment["TF_VAR_proxmox_endpoint"] = proxmoxURL }
            // The provider is Go: SSL_CERT_FILE makes it trust the cluster's CA as provisio does.
            if let proxmoxCAFile { t.environment["SSL_CERT_FILE"] = proxmoxCAFile }
            terraform = t
        }
        var ansible: AnsibleConfig?
        if let dir = try directory("ansible.workingDirectory") {
            var a = AnsibleConfig(workingDirectory: dir)
            if let p = values["ansible.playbook"] {
                guard !p.hasPrefix("-"), !p.contains("..") else { throw fail("ansible.playbook", "expected a playbook file name in the project") }
                a.playbook = p
            }
            if let s = try seconds("ansible.timeout") { a.timeout = s }
            guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(a.playbook)) else {
                throw fail("ansible.playbook", "\(a.playbook) is not in \(dir)")
            }
            ansible = a
        }
        return (terraform, ansible)
    }
}

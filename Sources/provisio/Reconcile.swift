import ArgumentParser
import Foundation
import ProvisioApply
import ProvisioCore
import ProvisioDaemon
import ProvisioGitOps
import ProvisioHistory
import ProvisioPipeline

/// `provisio reconcile --once`: one pass over a GitOps repository.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Size the requests that changed in a GitOps repository, commit the generated files once, push.",
        discussion: "Needs --once; the long-running daemon is `provisio run`.")

    @Flag(help: "Do one pass and exit.") var once = false
    @Option(help: "The GitOps repository (https URL, ssh, or a local path).") var repo: String
    @Option(help: "Branch to reconcile.") var branch = "main"
    @Option(help: "Glob of request files.") var requests = "**/provision.yaml"
    @Flag(help: "Keep the generated files of deleted requests.") var noPrune = false
    @Option(help: "Terraform root module for the requests' VMs (runs terraform plan, and apply when allowed).") var terraformDir: String?
    @Option(help: "terraform or tofu, or a path.") var terraformBinary: String?
    @Option(help: "Ansible project (playbook site.yml) for the VMs' configuration.") var ansibleDir: String?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        guard once else { throw ValidationError("pass --once: provisio reconcile does one pass; `provisio run` is the daemon") }
        let code = await guarded {
            let pipeline = try Pipeline(config: try common.config(), logger: common.logger())
            var reconcile = ReconcileConfig(repo: repo, branch: branch, requestGlob: requests, prune: !noPrune)
            reconcile.credentials = try DaemonConfig.gitCredentials(values: [:], environment: ProcessInfo.processInfo.environment, file: "environment")
            let reconciler = try Reconciler(config: reconcile, pipeline: pipeline, logger: common.logger())
            if terraformDir != nil || ansibleDir != nil {
                var values: [String: String] = [:]
                values["terraform.workingDirectory"] = terraformDir
                values["terraform.binary"] = terraformBinary
                values["ansible.workingDirectory"] = ansibleDir
                let env = ProcessInfo.processInfo.environment
                let proxmox = try ProxmoxConfig.load(values: [:], environment: env, file: "environment")
                let (terraform, ansible) = try ProvisioningConfig.load(
                    values: values, file: "command line", proxmoxURL: proxmox?.url, proxmoxToken: proxmox.map { "\($0.tokenId)=\($0.tokenSecret)" },
                    proxmoxCAFile: proxmox?.tls.caFile)
                reconciler.provisioner = Provisioner(
                    terraform: terraform, ansible: ansible, runner: CommandRunner(logger: common.logger()),
                    workRoot: (pipeline.config.stateDirectory as NSString).appendingPathComponent("terraform"))
            }
            let result = try await reconciler.reconcileOnce()
            for r in result.requests { print("\(r.status.padding(toLength: 12, withPad: " ", startingAt: 0)) \(r.path): \(r.message)") }
            print(
                String(
                    format: "pass %.3f s (sizing %.3f s, git and the rest %.3f s)", result.seconds, result.sizingSeconds, result.seconds - result.sizingSeconds)
            )
            if let commit = result.commit {
                print("pushed \(commit) (from \(result.source ?? "-"), \(result.pushRetries) retries)")
            } else {
                print("nothing to commit\(result.source.map { " at \($0)" } ?? "")")
            }
            return result.requests.contains { $0.status == "error" } ? 1 : 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}

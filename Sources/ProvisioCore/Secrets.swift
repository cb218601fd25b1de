import Foundation

/// Where secrets come from: a file named in the configuration, else a systemd credential
/// (`$CREDENTIALS_DIRECTORY/<name>`, from `LoadCredential=`), else an environment variable — never the
/// configuration file itself.
public enum Secrets {
    /// The secret, trimmed; nil when none of the three sources has one. A configured file that is
    /// missing or unreadable is an error naming `key`.
    public static func read(key: String, credential: String, env: String, values: [String: String], environment: [String: String], file: String) throws
        -> String?
    {
        let fromCredentials = environment["CREDENTIALS_DIRECTORY"].map { "\($0)/\(credential)" }
        if let path = values[key] ?? fromCredentials, FileManager.default.fileExists(atPath: path) {
            guard let s = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ProvisioError(.configuration, file: file, field: key, "cannot read \(path)")
            }
            return s.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let path = values[key] {
            throw ProvisioError(.configuration, file: file, field: key, "\(path) does not exist")
        }
        return environment[env].flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension Redactor {
    /// An error's message for a warning or log line, credentials removed.
    public static func message(of error: any Error) -> String {
        scrub((error as? ProvisioError)?.message ?? String(describing: error))
    }
}

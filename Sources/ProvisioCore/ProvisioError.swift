import Foundation

/// An error a person can act on: it names the file, the line and the field, and says what to do.
///
/// Errors are compared on their code only; the message carries the context. Nothing secret is
/// ever put into one (URLs are passed through ``Redactor`` first).
public struct ProvisioError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, stable for tests and exit codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidRequest, invalidPolicy, invalidKnowledge, io, database, git, configuration, unsafePath, metrics, llm
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The request file does not follow the standard.
        public static let invalidRequest = Code(.invalidRequest)
        /// A policy file is malformed.
        public static let invalidPolicy = Code(.invalidPolicy)
        /// A knowledge document is malformed.
        public static let invalidKnowledge = Code(.invalidKnowledge)
        /// Reading or writing a file failed.
        public static let io = Code(.io)
        /// The SQLite database failed.
        public static let database = Code(.database)
        /// A git operation failed.
        public static let git = Code(.git)
        /// Configuration or a command-line option is wrong.
        public static let configuration = Code(.configuration)
        /// A write would leave the folder it belongs to.
        public static let unsafePath = Code(.unsafePath)
        /// A metrics source (Prometheus, the Proxmox API) could not be read or answered something unexpected.
        public static let metrics = Code(.metrics)
        /// The language model server could not be reached or answered something unusable.
        public static let llm = Code(.llm)
        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// The file the error is about, when there is one.
    public let file: String?
    /// The 1-based line in `file`, when known.
    public let line: Int?
    /// The dotted field path (`spec.workload.peakQps`), when the error is about one field.
    public let field: String?
    /// What went wrong and what to do about it.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, file: String? = nil, line: Int? = nil, field: String? = nil, _ message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.field = field
        self.message = Redactor.scrub(message)
    }

    /// `file:line: field: message`, the form editors and pre-commit hooks understand.
    public var description: String {
        var prefix = ""
        if let file {
            prefix = file
            if let line { prefix += ":\(line)" }
            prefix += ": "
        }
        if let field, !field.isEmpty { prefix += "\(field): " }
        return prefix + message
    }

    public static func == (a: ProvisioError, b: ProvisioError) -> Bool { a.code == b.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// Several errors found in one file, reported together so a person fixes them in one go.
public struct ProvisioErrors: Error, Sendable, CustomStringConvertible {
    /// The errors, in the order they were found.
    public let errors: [ProvisioError]
    /// Wraps a list of errors.
    public init(_ errors: [ProvisioError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Removes credentials from text before it reaches a log line, an error or the repository.
public enum Redactor {
    /// Replaces `user:password@` in URLs and bearer/token values with `***`.
    public static func scrub(_ text: String) -> String {
        var out = text
        // URL credentials: scheme://user:secret@host → scheme://***@host
        out = out.replacingOccurrences(
            of: #"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@"#, with: "$1***@", options: .regularExpression)
        out = out.replacingOccurrences(
            of: #"(?i)\b(token|apikey|api_key|password|passwd|secret)(=|:[ \t]*)[^\s&"']+"#, with: "$1$2***", options: .regularExpression)
        out = out.replacingOccurrences(of: #"(?i)\b(bearer|basic)[ \t]+[A-Za-z0-9._~+/-]+=*"#, with: "$1 ***", options: .regularExpression)
        // Proxmox API tokens: PVEAPIToken=USER@REALM!TOKENID=SECRET keeps the id, hides the secret.
        out = out.replacingOccurrences(of: #"(PVEAPIToken=[^\s!]+![^\s=]+=)[^\s"']+"#, with: "$1***", options: .regularExpression)
        return out
    }
}

extension ProvisioError {
    /// Turns a `DecodingError` from reading `file` into an error that names the field.
    public static func decoding(_ error: any Error, code: Code, file: String, what: String) -> ProvisioError {
        func path(_ p: [any CodingKey]) -> String { p.map(\.stringValue).joined(separator: ".") }
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return ProvisioError(code, file: file, field: path(ctx.codingPath + [key]), "required field is missing")
        case DecodingError.dataCorrupted(let ctx): return ProvisioError(code, file: file, field: path(ctx.codingPath), ctx.debugDescription)
        case DecodingError.typeMismatch(_, let ctx): return ProvisioError(code, file: file, field: path(ctx.codingPath), "wrong type: \(ctx.debugDescription)")
        case DecodingError.valueNotFound(_, let ctx): return ProvisioError(code, file: file, field: path(ctx.codingPath), "value is missing")
        default: return ProvisioError(code, file: file, "not \(what): \(error)")
        }
    }
}

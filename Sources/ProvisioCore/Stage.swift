/// One step of the flow: a value that turns its input into its output.
///
/// The three agents and the renderer share this shape so the pipeline can run them in order
/// and write one status summary.
public protocol Stage: Sendable {
    /// What the stage reads.
    associatedtype Input: Sendable
    /// What the stage returns.
    associatedtype Output: Sendable
    /// Runs the stage once.
    func run(_ input: Input) async throws -> Output
}

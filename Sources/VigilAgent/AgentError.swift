/// A reason the agent cannot start or must stop, worded for the operator who reads it.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

import Hummingbird
import NIOCore
import VigilCore

/// A JSON object from a request body, or the 4xx that says why not (spec §1.1).
enum RequestBody {
    static let limit = 64 * 1024

    enum Failure: Error {
        case response(Int, String)
    }

    /// nil when the body is absent or empty and `required` is false.
    static func object(_ request: Request, required: Bool) async throws(Failure) -> JSONValue? {
        guard let length = request.headers[.contentLength].flatMap({ Int($0) }) else {
            if required { throw .response(411, "Content-Length required") }
            return nil
        }
        if length > limit { throw .response(413, "request body larger than \(limit) bytes") }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw .response(413, "request body larger than \(limit) bytes")
        }
        let text = String(buffer: buffer)
        if text.isEmpty {
            if required { throw .response(400, "the request body must be a JSON object") }
            return nil
        }
        guard let json = try? JSONValue.parse(text), json.objectValue != nil else {
            throw .response(400, "the request body is not a JSON object")
        }
        if required, json.objectValue?.isEmpty == true { throw .response(400, "the request body must not be empty") }
        return json
    }
}

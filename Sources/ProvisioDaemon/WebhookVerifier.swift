import Crypto
import Foundation

/// Checks that a push notification really comes from the forge: GitHub and Gitea sign the body
/// with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`, `X-Gitea-Signature: <hex>`); GitLab
/// sends the shared token (`X-Gitlab-Token`). Comparisons take constant time.
public struct WebhookVerifier: Sendable {
    let secret: String?

    public init(secret: String?) { self.secret = secret }

    /// Whether the request is authentic. No secret configured means nothing is.
    public func verify(body: [UInt8], headers: [String: String]) -> Bool {
        guard let secret, !secret.isEmpty else { return false }
        let h = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        if let token = h["x-gitlab-token"] { return Self.constantTimeEqual(Array(token.utf8), Array(secret.utf8)) }
        let expected = Self.hmacHex(body: body, secret: secret)
        if let sig = h["x-hub-signature-256"] {
            guard sig.hasPrefix("sha256=") else { return false }
            return Self.constantTimeEqual(Array(sig.dropFirst(7).lowercased().utf8), Array(expected.utf8))
        }
        if let sig = h["x-gitea-signature"] ?? h["x-gogs-signature"] {
            return Self.constantTimeEqual(Array(sig.lowercased().utf8), Array(expected.utf8))
        }
        return false
    }

    /// Hex HMAC-SHA256 of `body` with `secret`.
    public static func hmacHex(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }

    /// The branch a push payload names (`"ref": "refs/heads/main"`), if any.
    public static func pushedBranch(body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let ref = object["ref"] as? String else { return nil }
        return ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : nil
    }
}

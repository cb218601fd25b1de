import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Between passes the daemon has nothing to do for `interval` seconds, yet most of its resident memory is
/// code: the pages of its own binary, the Swift runtime, Foundation and the C libraries that the last pass
/// ran. `release()` hands them back — the freed heap (`malloc_trim`) and the read-only file-backed pages
/// (`MADV_PAGEOUT`, Linux 5.4 and later); the next pass reads back the pages it needs. Nothing writable is
/// touched, so no state can be lost. The kernel chooses what it takes: pages another process maps stay, and
/// where this was measured the binary's own code went while the shared Swift runtime's and Foundation's
/// stayed resident — which is why the installed binary links them statically (`--static-swift-stdlib`).
public enum IdleMemory {
    /// Releases what the process does not need while it waits; returns how many mappings were advised,
    /// nil where the platform cannot.
    ///
    /// The ranges are gathered first and then advised in a loop that runs no Swift runtime or Foundation
    /// code: anything that ran between two advices would read its pages straight back in.
    @discardableResult
    public static func release() -> Int? {
        #if os(Linux)
            _ = mallocTrim(0)
            guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
            let ranges = ContiguousArray(readOnlyFileMappings(maps))
            return ranges.withUnsafeBufferPointer { ranges in
                var advised = 0
                for range in ranges where madvise(UnsafeMutableRawPointer(bitPattern: range.start), range.length, 21) == 0 {
                    advised += 1  // 21 is MADV_PAGEOUT; an older kernel answers EINVAL and nothing changes
                }
                return advised
            }
        #else
            return nil
        #endif
    }

    /// The read-only, file-backed mappings of a `/proc/PID/maps` text: executable code and constant data.
    /// Writable or anonymous mappings, and the kernel's own (`[vdso]`), are not returned.
    static func readOnlyFileMappings(_ maps: String) -> [(start: UInt, length: Int)] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/"), fields[1].count == 4, !fields[1].contains("w") else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start else { return nil }
            return (start, Int(end - start))
        }
    }

    #if os(Linux)
        /// glibc's `malloc_trim` (malloc.h is not part of the Glibc module).
        @_silgen_name("malloc_trim") private static func mallocTrim(_ pad: Int) -> Int32
    #endif

    /// VmRSS of this process, in kilobytes.
    public static func residentKilobytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}

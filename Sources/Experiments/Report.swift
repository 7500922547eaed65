import Foundation
import RunLog
import SafeFiles

/// A markdown report assembled section by section.
struct Report {
    private(set) var lines: [String] = []

    mutating func heading(_ text: String, level: Int = 1) {
        lines += [String(repeating: "#", count: level) + " " + text, ""]
    }

    mutating func paragraph(_ text: String) { lines += [text, ""] }

    mutating func bullets(_ items: [String]) { lines += items.map { "- " + $0 } + [""] }

    /// A markdown table; the first column is left-aligned, the others right-aligned.
    mutating func table(_ headers: [String], _ rows: [[String]]) {
        lines.append("| " + headers.joined(separator: " | ") + " |")
        lines.append("|" + headers.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined())
        for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
        lines.append("")
    }

    mutating func figure(_ caption: String, _ file: String) { lines += ["![\(caption)](\(file))", ""] }

    var text: String { lines.joined(separator: "\n") }

    /// Replaces the file at `path` durably, never through a link (`replaceFile`).
    func write(to path: String) throws {
        try replaceFile(at: path, with: Array(text.utf8))
    }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int = 4) -> String {
    value.isFinite ? String(format: "%.\(digits)f", value) : "n/a"
}

/// A fraction as a percentage with one decimal.
func percent(_ value: Double) -> String { value.isFinite ? String(format: "%.1f%%", value * 100) : "n/a" }

/// The table patronictl prints (PrettyTable with its custom title in the top border):
/// one space of padding, `|` and `+`, columns left-aligned unless told otherwise, and a rule
/// between rows only when some cell spans several lines.
struct PrettyTable {
    var columns: [String]
    var rows: [[String]]
    var rightAligned: Set<String> = []
    /// Text embedded at the start of the top border (` Cluster: name (sysid) `).
    var title = ""

    func render() -> String {
        let widths = columns.indices.map { i in
            ([columns[i]] + rows.map { $0[i] }).flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
                .map(\.count).max() ?? 0
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+"
        var top = rule
        if !title.isEmpty {
            let header = String(title.prefix(rule.count - 2))
            top = "+" + header + String(rule.dropFirst(1 + header.count))
        }
        func line(_ cells: [String]) -> [String] {
            let split = cells.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let height = split.map(\.count).max() ?? 1
            return (0..<height).map { row in
                "|" + columns.indices.map { i in
                    let text = row < split[i].count ? split[i][row] : ""
                    let pad = String(repeating: " ", count: widths[i] - text.count)
                    return " " + (rightAligned.contains(columns[i]) ? pad + text : text + pad) + " "
                }.joined(separator: "|") + "|"
            }
        }
        let multiline = rows.contains { $0.contains { $0.contains("\n") } }
        var out = [top] + line(columns) + [rule]
        for (index, row) in rows.enumerated() {
            out += line(row)
            if multiline && index < rows.count - 1 { out.append(rule) }
        }
        out.append(rule)
        return out.joined(separator: "\n")
    }
}

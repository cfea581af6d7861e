/// A command line split into words as a POSIX shell would split it, without running a shell:
/// blanks separate words, single quotes keep everything, double quotes keep everything but
/// `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes keeps the next character. As
/// Patroni's `shlex.split` reads `postgresql.callbacks`; nothing is expanded.
public enum ShellWords {
    /// nil when a quote is left open.
    public static func split(_ text: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(word); word = ""; inWord = false }
            case "'":
                inWord = true
                while true {
                    guard let q = iterator.next() else { return nil }
                    if q == "'" { break }
                    word.append(q)
                }
            case "\"":
                inWord = true
                while true {
                    guard let q = iterator.next() else { return nil }
                    if q == "\"" { break }
                    if q == "\\" {
                        guard let escaped = iterator.next() else { return nil }
                        if !["\"", "\\", "$", "`"].contains(escaped) { word.append("\\") }
                        word.append(escaped)
                    } else {
                        word.append(q)
                    }
                }
            case "\\":
                inWord = true
                if let escaped = iterator.next() { word.append(escaped) }
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

import Testing
import VigilSystem

/// Callback command lines are split as Python's shlex.split splits them for Patroni.
@Suite struct ShellWordsTests {
    @Test(arguments: [
        ("/usr/local/bin/move-vip", ["/usr/local/bin/move-vip"]),
        ("  script  --flag   value ", ["script", "--flag", "value"]),
        ("script 'two words' \"and $HOME\"", ["script", "two words", "and $HOME"]),
        (#"script "a \"quoted\" word" back\ slash"#, ["script", #"a "quoted" word"#, "back slash"]),
        (#"script "keep \n as is""#, ["script", #"keep \n as is"#]),
        ("script ''", ["script", ""]),
        ("", []),
    ] as [(String, [String])])
    func commandLinesSplitAsAShellWould(_ c: (String, [String])) {
        #expect(ShellWords.split(c.0) == c.1, "\(c.0)")
    }

    @Test func anUnclosedQuoteIsRefused() {
        #expect(ShellWords.split("script 'open") == nil)
        #expect(ShellWords.split(#"script "open"#) == nil)
    }
}

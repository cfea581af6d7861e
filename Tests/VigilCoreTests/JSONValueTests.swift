import Testing
import VigilCore

/// Vigil writes etcd values byte for byte as Python's json.dumps(separators=(',', ':')).
@Suite struct JSONValueTests {
    @Test func compactTextMatchesPythonsJsonDumps() {
        let value: JSONValue = ["b": 1, "a": [true, false, nil], "s": "x/y \"q\" \\ \n\t", "d": .double(1.5), "e": .double(2)]
        // Python: json.dumps({"b":1,"a":[True,False,None],"s":"x/y \"q\" \\ \n\t","d":1.5,"e":2.0},separators=(',',':'))
        #expect(value.compactText == #"{"b":1,"a":[true,false,null],"s":"x/y \"q\" \\ \n\t","d":1.5,"e":2.0}"#)
    }

    @Test func nonASCIIIsEscapedLikePython() {
        // json.dumps("é€😀\u0001\u007f") == '"\\u00e9\\u20ac\\ud83d\\ude00\\u0001\\u007f"'
        #expect(JSONValue.string("é€😀\u{01}\u{7f}").compactText == #""\u00e9\u20ac\ud83d\ude00\u0001\u007f""#)
    }

    /// A number no double holds would be written back as `inf`, which nothing can read.
    @Test func numbersBeyondADoubleAreRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"ttl":1e400}"#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("-1e400") }
        #expect((try? JSONValue.parse("99999999999999999999")) == .double(1e20), "beyond Int64, still a finite number")
    }

    @Test func parseKeepsKeyOrderAndTypes() throws {
        let value = try JSONValue.parse(#" {"z": 1, "a": {"x": [1, 2.5, "s", null, true]}, "big": 9007199254740993} "#)
        #expect(value.objectValue?.map(\.key) == ["z", "a", "big"])
        #expect(value["big"] == .int(9_007_199_254_740_993))
        #expect(value["a"]?["x"] == [1, .double(2.5), "s", nil, true])
    }

    @Test func parseDecodesEscapesAndSurrogates() throws {
        #expect(try JSONValue.parse(#""a\/b\u00e9\ud83d\ude00\n""#) == .string("a/bé😀\n"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"open", "{\"a\":1}x", "01x", "\"\u{01}\""])
    func malformedInputIsAnErrorNotACrash(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func roundTripsThroughText() throws {
        let samples: [JSONValue] = [
            ["conn_url": "postgres://127.0.0.1:5432/postgres", "tags": ["nofailover": false], "xlog_location": 50_331_800],
            [[1, 2, "reason", "2026-11-27T12:00:00+00:00", "n2"]],
            ["nested": [["deep": [[], [:], ""]]]],
        ]
        for sample in samples {
            #expect(try JSONValue.parse(sample.compactText) == sample)
        }
    }
}

@Suite struct LSNTests {
    @Test func parsesAndPrintsPostgresForm() {
        #expect(LSN("0/3000060")?.value == 0x3000060)
        #expect(LSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        #expect(LSN("nope") == nil && LSN("1/2/3") == nil && LSN("FFFFFFFFF/0") == nil)
        #expect(LSN("0/10")! < LSN("1/0")!)
    }
}

extension JSONValueTests {
    /// Strings without escapes take a shorter path than those with: both must read the same.
    @Test func plainAndEscapedStringsReadAlike() throws {
        #expect(try JSONValue.parse(Array(#""postgres104""#.utf8)) == .string("postgres104"))
        #expect(try JSONValue.parse(Array(#""Grüße, 日本""#.utf8)) == .string("Grüße, 日本"))
        #expect(try JSONValue.parse(Array(#""Gr\u00fc\u00dfe, \u65e5\u672c""#.utf8)) == .string("Grüße, 日本"))
        #expect(try JSONValue.parse(Array(#""a\"b\\c\/d\n""#.utf8)) == .string("a\"b\\c/d\n"))
        #expect(try JSONValue.parse(Array(#""plain then \t escaped""#.utf8)) == .string("plain then \t escaped"))
        #expect(try JSONValue.parse(Array(#""""#.utf8)) == .string(""))
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array("\"a\u{01}b\"".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array("\"unterminated".utf8)) }
        // Bytes that are not UTF-8 are replaced, never trusted.
        #expect(try JSONValue.parse([0x22, 0x61, 0xFF, 0x62, 0x22]) == .string("a\u{FFFD}b"))
    }
}

extension JSONValueTests {
    @Test func stringsAreWrittenAsPythonWritesThem() {
        #expect(JSONValue.string("postgres104").compactText == #""postgres104""#)
        #expect(JSONValue.string("a\"b\\c").compactText == #""a\"b\\c""#)
        #expect(JSONValue.string("Grüße\n").compactText == #""Gr\u00fc\u00dfe\n""#)
    }

    /// History timestamps as Python's isoformat() writes them, across day, leap-year and
    /// pre-1970 boundaries.
    @Test(arguments: [
        (1_800_000_000.5, "2027-01-15T08:00:00.500+00:00"),
        (0, "1970-01-01T00:00:00.000+00:00"),
        (951_782_400, "2000-02-29T00:00:00.000+00:00"),
        (-1.25, "1969-12-31T23:59:58.750+00:00"),
        (1_764_633_599.75, "2025-12-01T23:59:59.750+00:00"),
    ] as [(Double, String)])
    func historyTimestamps(_ c: (Double, String)) {
        #expect(ISOTime.pythonUTC(c.0) == c.1)
    }
}

/// The physical replication slot a member streams through, named as Patroni names it, so a
/// cluster moved between Patroni and Vigil keeps its slots: the member name lower-cased,
/// `-` and `.` as `_`, any other character outside `[a-z0-9_]` as `u` and its code, cut to 63.
public enum SlotName {
    public static func forMember(_ name: String) -> String {
        var slot = ""
        for scalar in name.lowercased().unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9", "_": slot.unicodeScalars.append(scalar)
            case "-", ".": slot += "_"
            default:
                let code = String(scalar.value)
                slot += "u" + String(repeating: "0", count: max(0, 4 - code.count)) + code
            }
        }
        return String(slot.prefix(63))
    }
}

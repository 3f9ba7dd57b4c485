//! A generated Windows event JSON log with bad lines among its records, for the tests of
//! reading in parts.

/// A Windows event log of `n` records in the three JSON shapes, with bad lines among them:
/// broken JSON, JSON that is no event, blank lines, invalid UTF-8, a byte-order mark in the
/// middle (text there, not a mark) and CRLF line ends.
pub fn windows_log(n: usize, bom_first: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom_first {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    for i in 0..n {
        let line = match i % 3 {
            0 => format!(
                "{{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":\"WS{}\",\"EventRecordID\":{i},\"UtcTime\":\"2024-05-01 10:{:02}:{:02}.000\",\"Image\":\"C:\\\\Windows\\\\System32\\\\svchost.exe\",\"SourceIp\":\"10.0.0.{}\",\"DestinationIp\":\"203.0.113.9\",\"DestinationPort\":443}}",
                i % 4,
                (i / 60) % 60,
                i % 60,
                i % 250
            ),
            1 => format!(
                "{{\"Event\":{{\"System\":{{\"EventID\":4698,\"Channel\":\"Security\",\"Computer\":\"WS{}\",\"EventRecordID\":{i}}},\"EventData\":{{\"TaskName\":\"\\\\Task{i}\"}}}}}}",
                i % 4
            ),
            _ => format!(
                "{{\"winlog\":{{\"event_id\":4688,\"channel\":\"Security\",\"computer_name\":\"WS{}\",\"record_id\":{i},\"event_data\":{{\"NewProcessName\":\"C:\\\\x{i}.exe\"}}}}}}",
                i % 4
            ),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(if i % 11 == 0 { b"\r\n" } else { b"\n" });
        match i % 97 {
            5 => out.extend_from_slice(b"{\"EventID\": 4688, \"broken\n"),
            17 => out.extend_from_slice(b"{\"no_event_id\": true}\n"),
            29 => out.extend_from_slice(b"\n   \n"),
            41 => out.extend_from_slice(b"{\"EventID\":1,\"Image\":\"\xff\xfe\"}\n"),
            53 => out.extend_from_slice(b"\xEF\xBB\xBF{\"EventID\":4699,\"Hostname\":\"WS1\"}\n"),
            _ => {}
        }
    }
    out
}

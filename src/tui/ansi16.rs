//! The terminal writer: crossterm writes every colour, even the 16 named ANSI
//! ones, as a 256-colour code (`ESC[38;5;6m`), which basic terminals (the
//! linux console, old xterms) ignore. This writer buffers a frame and, at
//! flush, rewrites those into the classic codes (`ESC[36m`) that every
//! terminal knows. No maintained crate does this rewrite; crossterm has no
//! option for it.

use std::io::{self, Write};

/// Buffers writes until `flush`, then rewrites SGR colour codes 0–15.
pub struct Ansi16<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Ansi16<W> {
    pub fn new(inner: W) -> Self {
        Ansi16 {
            inner,
            buf: Vec::with_capacity(1 << 14),
        }
    }
}

impl<W: Write> Ansi16<W> {
    /// What has been flushed so far.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for Ansi16<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let out = rewrite(&self.buf);
        self.buf.clear();
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Ansi16<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `bytes` with every `38;5;N` / `48;5;N` (N < 16) inside an SGR sequence
/// replaced by the classic `30+N`, `90+N-8`, `40+N` or `100+N-8`.
pub fn rewrite(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            let start = i + 2;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b';') {
                end += 1;
            }
            if bytes.get(end) == Some(&b'm') {
                out.extend_from_slice(b"\x1b[");
                out.extend_from_slice(&sgr_params(&bytes[start..end]));
                out.push(b'm');
                i = end + 1;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn sgr_params(params: &[u8]) -> Vec<u8> {
    let parts: Vec<&[u8]> = params.split(|&b| b == b';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let num = |p: &[u8]| {
        std::str::from_utf8(p)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
    };
    let mut k = 0;
    while k < parts.len() {
        let p = num(parts[k]);
        match (p, parts.get(k + 1).and_then(|p| num(p))) {
            (Some(base @ (38 | 48)), Some(5)) => {
                if let Some(n) = parts.get(k + 2).and_then(|p| num(p))
                    && n < 16
                {
                    let offset = if base == 38 { 30 } else { 40 };
                    let code = if n < 8 {
                        offset + n
                    } else {
                        offset + 60 + n - 8
                    };
                    out.push(code.to_string());
                    k += 3;
                    continue;
                }
                // A true 256-colour index: keep all three parts.
                for part in parts.iter().skip(k).take(3) {
                    out.push(String::from_utf8_lossy(part).into_owned());
                }
                k += 3;
            }
            (Some(38 | 48), Some(2)) => {
                for part in parts.iter().skip(k).take(5) {
                    out.push(String::from_utf8_lossy(part).into_owned());
                }
                k += 5;
            }
            _ => {
                out.push(String::from_utf8_lossy(parts[k]).into_owned());
                k += 1;
            }
        }
    }
    out.join(";").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        String::from_utf8(rewrite(s.as_bytes())).unwrap()
    }

    #[test]
    fn named_colours_become_classic_codes() {
        assert_eq!(r("\x1b[38;5;6mx"), "\x1b[36mx");
        assert_eq!(r("\x1b[48;5;1m"), "\x1b[41m");
        assert_eq!(r("\x1b[38;5;9m"), "\x1b[91m");
        assert_eq!(r("\x1b[48;5;15m"), "\x1b[107m");
        assert_eq!(r("\x1b[38;5;6;48;5;4m"), "\x1b[36;44m");
    }

    #[test]
    fn other_sequences_pass_unchanged() {
        for s in [
            "\x1b[38;5;110m",
            "\x1b[38;2;1;2;3m",
            "\x1b[1m",
            "\x1b[0m",
            "\x1b[2J\x1b[1;1H",
            "plain ⠿ text",
            "\x1b[38;5;",
        ] {
            assert_eq!(r(s), s);
        }
        assert_eq!(r("\x1b[38;2;1;2;3;48;5;2m"), "\x1b[38;2;1;2;3;42m");
    }

    #[test]
    fn split_writes_are_joined_before_rewriting() {
        let mut w = Ansi16::new(Vec::new());
        for piece in ["\x1b[", "38;", "5;6", "m", "hi"] {
            w.write_all(piece.as_bytes()).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(w.inner, b"\x1b[36mhi");
    }
}

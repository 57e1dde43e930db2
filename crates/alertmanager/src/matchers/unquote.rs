//! Go's `strconv.Unquote` for double-quoted string literals, as the UTF-8 parser applies it.

/// Unquotes a `"…"` literal with Go escapes (`\a \b \f \n \r \t \v \\ \"`, `\xHH`, `\ooo`,
/// `\uHHHH`, `\UHHHHHHHH`); `None` if the literal is invalid or yields invalid UTF-8.
pub(crate) fn go_unquote(lit: &str) -> Option<String> {
    let body = lit.strip_prefix('"')?.strip_suffix('"')?;
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => {}
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
        }
        let byte = match chars.next()? {
            'a' => 0x07,
            'b' => 0x08,
            'f' => 0x0C,
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            'v' => 0x0B,
            '\\' => b'\\',
            '"' => b'"',
            'x' => u8::try_from(hex(&mut chars, 2)?).ok()?,
            d @ '0'..='7' => {
                let mut v = d.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + chars.next()?.to_digit(8)?;
                }
                u8::try_from(v).ok()?
            }
            e @ ('u' | 'U') => {
                let rune = char::from_u32(hex(&mut chars, if e == 'u' { 4 } else { 8 })?)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(rune.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.push(byte);
    }
    String::from_utf8(out).ok()
}

fn hex(chars: &mut std::str::Chars<'_>, n: usize) -> Option<u32> {
    (0..n).try_fold(0u32, |v, _| Some(v * 16 + chars.next()?.to_digit(16)?))
}

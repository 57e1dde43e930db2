//! An INI parser that reads files the way go-ini (`ini.Load` with default options) does, which is
//! how Grafana reads `defaults.ini` and `custom.ini`. Our own code; the rules it follows:
//!
//! - `[name]` starts a section; the name is everything up to the **last** `]`, not trimmed.
//!   Keys before the first section belong to [`DEFAULT_SECTION`]. A repeated section is merged.
//! - Lines whose first non-blank character is `#` or `;` are comments.
//! - `key = value` or `key: value` (the first `=` or `:` separates); keys and values are trimmed.
//!   A repeated key keeps its first position and takes the last value.
//! - A value starting with `"""` or `` ` `` runs to the **last** matching quote on the line, or
//!   over several lines up to the next line containing the quote; its text is kept verbatim.
//! - Otherwise a value ending in `\` continues on the following lines (trimmed, joined without
//!   separator, until a line not ending in `\` or an empty line); such a value keeps `#`, `;`
//!   and quotes as they are.
//! - Otherwise `#` or `;` anywhere starts a comment (`abc#123` is `abc`), and then one pair of
//!   surrounding `"` or `'` is removed if the quote does not occur anywhere else in the value.
//! - A UTF-8 byte-order mark is skipped; `\r\n` line ends are accepted.

use std::fmt;

use crate::source::redact_value;

/// Name of the section that holds keys written before the first `[section]` header.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// A parsed INI file: sections in order of first appearance, the default section first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniFile {
    /// All sections, including the (possibly empty) default section.
    pub sections: Vec<IniSection>,
}

/// One section of an INI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSection {
    /// The section name as written between the brackets.
    pub name: String,
    /// 1-based line of the first header naming this section (0 for the default section).
    pub line: usize,
    /// The keys, in order of first appearance.
    pub entries: Vec<IniEntry>,
}

/// One `key = value` pair.
#[derive(Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// The key name.
    pub key: String,
    /// The value after quote, comment and continuation processing.
    pub value: String,
    /// 1-based line where the key that supplied the value was written.
    pub line: usize,
}

/// A syntax error at a line of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IniError {
    /// 1-based line of the error.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Debug for IniEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IniEntry")
            .field("key", &self.key)
            .field("value", &redact_value(&self.key, &self.value))
            .field("line", &self.line)
            .finish()
    }
}

impl IniFile {
    /// The section called `name`, if present.
    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The entry for `key` in `section`, if present.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        self.section(section)?.entries.iter().find(|e| e.key == key)
    }

    fn section_index(&mut self, name: &str, line: usize) -> usize {
        if let Some(index) = self.sections.iter().position(|s| s.name == name) {
            return index;
        }
        self.sections.push(IniSection {
            name: name.to_string(),
            line,
            entries: Vec::new(),
        });
        self.sections.len() - 1
    }
}

impl IniSection {
    fn set(&mut self, key: String, value: String, line: usize) {
        match self.entries.iter_mut().find(|e| e.key == key) {
            Some(entry) => {
                entry.value = value;
                entry.line = line;
            }
            None => self.entries.push(IniEntry { key, value, line }),
        }
    }
}

/// The input split into lines that keep their `\n`, numbered from 1.
struct Lines<'a> {
    rest: &'a str,
    next_line: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        self.next_line += 1;
        Some((self.next_line, line))
    }
}

/// Parses INI text. Keeps going after a syntax error so that every error is reported; the
/// returned file holds everything that could be read.
pub fn parse(text: &str) -> (IniFile, Vec<IniError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = IniFile {
        sections: vec![IniSection {
            name: DEFAULT_SECTION.to_string(),
            line: 0,
            entries: Vec::new(),
        }],
    };
    let mut errors = Vec::new();
    let mut current = 0;
    let mut auto_increment = 1;
    let mut lines = Lines {
        rest: text,
        next_line: 0,
    };
    let error = |line: usize, message: String| IniError { line, message };

    while let Some((number, raw)) = lines.next() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            match line.rfind(']') {
                None => errors.push(error(
                    number,
                    format!("unclosed section: {}", line.trim_end()),
                )),
                Some(1) => errors.push(error(number, "empty section name".to_string())),
                Some(close) => {
                    current = file.section_index(&line[1..close], number);
                    auto_increment = 1;
                }
            }
            continue;
        }
        let (key, rest) = match read_key(line) {
            Ok(parts) => parts,
            Err(message) => {
                errors.push(error(number, message));
                continue;
            }
        };
        let key = if key == "-" {
            auto_increment += 1;
            format!("#{}", auto_increment - 1)
        } else {
            key
        };
        match read_value(rest, &mut lines) {
            Ok(value) => file.sections[current].set(key, value, number),
            Err(message) => errors.push(error(number, message)),
        }
    }
    (file, errors)
}

/// Splits a key line into the key name and the text after the delimiter.
fn read_key(line: &str) -> Result<(String, &str), String> {
    const DELIMITERS: [char; 2] = ['=', ':'];
    let not_found = || format!("key-value delimiter not found: {}", line.trim_end());
    let quote = if line.len() > 6 && line.starts_with("\"\"\"") {
        "\"\"\""
    } else if line.starts_with('"') {
        "\""
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    let (key, after_delimiter) = if quote.is_empty() {
        let i = line.find(DELIMITERS).ok_or_else(not_found)?;
        (&line[..i], i + 1)
    } else {
        let start = quote.len();
        let close = line[start..]
            .find(quote)
            .ok_or_else(|| format!("missing closing key quote: {}", line.trim_end()))?
            + start;
        let after_quote = close + quote.len();
        let i = line[after_quote..].find(DELIMITERS).ok_or_else(not_found)?;
        (&line[start..close], after_quote + i + 1)
    };
    let key = key.trim();
    if key.is_empty() {
        return Err("empty key name".to_string());
    }
    Ok((key.to_string(), &line[after_delimiter..]))
}

/// Reads a value that starts in `input` and may continue on the following lines.
fn read_value(input: &str, lines: &mut Lines<'_>) -> Result<String, String> {
    let line = input.trim_start();
    if line.is_empty() {
        return Ok(String::new());
    }
    let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
        Some("\"\"\"")
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(quote) = quote {
        return read_quoted(&line[quote.len()..], quote, lines);
    }

    let line = line.trim();
    if let Some(first) = line.strip_suffix('\\') {
        return Ok(read_continuation(first, lines));
    }
    let line = match line.find(['#', ';']) {
        Some(i) => line[..i].trim(),
        None => line,
    };
    let unquoted = ['"', '\'']
        .into_iter()
        .find(|&q| has_surrounding_quote(line, q))
        .map_or(line, |_| &line[1..line.len() - 1]);
    Ok(unquoted.to_string())
}

/// A `"""` or backtick value: up to the last quote on this line, or on a later line.
fn read_quoted(body: &str, quote: &str, lines: &mut Lines<'_>) -> Result<String, String> {
    if let Some(end) = body.rfind(quote) {
        return Ok(body[..end].to_string());
    }
    let mut value = body.to_string();
    for (_, next) in lines.by_ref() {
        if let Some(end) = next.rfind(quote) {
            value.push_str(&next[..end]);
            return Ok(value);
        }
        value.push_str(next);
    }
    Err(format!(
        "missing closing {quote} for the value that starts here"
    ))
}

/// Joins the lines of a value continued with a trailing `\`.
fn read_continuation(first: &str, lines: &mut Lines<'_>) -> String {
    let mut value = first.to_string();
    for (_, next) in lines.by_ref() {
        let next = next.trim();
        if next.is_empty() {
            break;
        }
        value.push_str(next);
        if !value.ends_with('\\') {
            break;
        }
        value.pop();
    }
    value
}

/// True if `text` starts and ends with `quote` and has no other `quote` inside.
fn has_surrounding_quote(text: &str, quote: char) -> bool {
    text.len() >= 2
        && text.starts_with(quote)
        && text.ends_with(quote)
        && text[1..].find(quote) == Some(text.len() - 2)
}

#[cfg(test)]
mod tests;

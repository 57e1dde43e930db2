//! The label header `[244][len:u8 1..=255][label]` that prefixes every packet and the dialer's
//! side of every stream (the answering side of a stream writes none), and the inbound check.

use crate::error::Error;
use crate::messages::MessageType;

/// Longest label memberlist accepts.
pub const LABEL_MAX_SIZE: usize = 255;

/// The label this node uses and how it checks inbound traffic (`Config.Label`,
/// `Config.SkipInboundLabelCheck`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelPolicy {
    label: String,
    skip_inbound_check: bool,
}

impl LabelPolicy {
    /// A policy with `label` ("" for none); labels longer than 255 bytes are rejected.
    pub fn new(label: impl Into<String>, skip_inbound_check: bool) -> Result<Self, Error> {
        let label = label.into();
        if label.len() > LABEL_MAX_SIZE {
            return Err(Error::LabelTooLong(label));
        }
        Ok(Self {
            label,
            skip_inbound_check,
        })
    }

    /// Our label ("" for none).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Prefixes `buf` with our label header (nothing when the label is empty).
    pub fn add_header(&self, buf: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.overhead() + buf.len());
        if !self.label.is_empty() {
            out.push(MessageType::HasLabel as u8);
            out.push(self.label.len() as u8);
            out.extend_from_slice(self.label.as_bytes());
        }
        out.extend_from_slice(buf);
        out
    }

    /// Bytes the label header adds.
    pub fn overhead(&self) -> usize {
        if self.label.is_empty() {
            0
        } else {
            2 + self.label.len()
        }
    }

    /// Strips the label header from inbound bytes and checks it, returning the rest.
    ///
    /// A packet must carry exactly our label (no header when ours is empty); with
    /// `skip_inbound_check` no header is allowed at all and ours is assumed.
    pub fn check<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8], Error> {
        let (found, rest) = remove_label_header(buf)?;
        if self.skip_inbound_check {
            if let Some(found) = found {
                return Err(Error::UnexpectedLabel(
                    String::from_utf8_lossy(found).into_owned(),
                ));
            }
            return Ok(rest);
        }
        let found = found.unwrap_or_default();
        if found != self.label.as_bytes() {
            return Err(Error::LabelMismatch {
                expected: self.label.clone(),
                found: String::from_utf8_lossy(found).into_owned(),
            });
        }
        Ok(rest)
    }
}

/// Splits a label header off `buf`: `(Some(label), rest)` or `(None, buf)` when there is none.
pub fn remove_label_header(buf: &[u8]) -> Result<(Option<&[u8]>, &[u8]), Error> {
    match buf.first() {
        Some(&t) if t == MessageType::HasLabel as u8 => {}
        _ => return Ok((None, buf)),
    }
    let size = usize::from(*buf.get(1).ok_or(Error::LabelHeader(
        "cannot decode label; packet has been truncated",
    ))?);
    if size < 1 {
        return Err(Error::LabelHeader(
            "label header cannot be empty when present",
        ));
    }
    let label = buf.get(2..2 + size).ok_or(Error::LabelHeader(
        "cannot decode label; packet has been truncated",
    ))?;
    Ok((Some(label), &buf[2 + size..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_and_limits() {
        let p = LabelPolicy::new("prod", false).unwrap();
        assert_eq!(p.add_header(b"\x00x"), b"\xf4\x04prod\x00x");
        assert_eq!(p.overhead(), 6);
        assert_eq!(LabelPolicy::default().add_header(b"x"), b"x");
        assert!(LabelPolicy::new("a".repeat(255), false).is_ok());
        assert!(matches!(
            LabelPolicy::new("a".repeat(256), false),
            Err(Error::LabelTooLong(_))
        ));
    }

    #[test]
    fn inbound_rules() {
        let prod = LabelPolicy::new("prod", false).unwrap();
        let none = LabelPolicy::default();
        let skip = LabelPolicy::new("prod", true).unwrap();
        let labelled = prod.add_header(b"\x00x");
        assert_eq!(prod.check(&labelled).unwrap(), b"\x00x");
        // A labelled packet is rejected by an unlabelled node, and the reverse.
        assert!(matches!(
            none.check(&labelled),
            Err(Error::LabelMismatch { .. })
        ));
        assert!(matches!(
            prod.check(b"\x00x"),
            Err(Error::LabelMismatch { .. })
        ));
        let other = LabelPolicy::new("test", false)
            .unwrap()
            .add_header(b"\x00x");
        assert_eq!(
            prod.check(&other).unwrap_err().to_string(),
            "unacceptable label \"test\" (expected \"prod\")"
        );
        // Skipping accepts unlabelled traffic and refuses a (double) label.
        assert_eq!(skip.check(b"\x00x").unwrap(), b"\x00x");
        assert!(matches!(
            skip.check(&labelled),
            Err(Error::UnexpectedLabel(_))
        ));
        assert!(matches!(prod.check(b"\xf4"), Err(Error::LabelHeader(_))));
        assert!(matches!(
            prod.check(b"\xf4\x00"),
            Err(Error::LabelHeader(_))
        ));
        assert!(matches!(
            prod.check(b"\xf4\x05ab"),
            Err(Error::LabelHeader(_))
        ));
    }
}

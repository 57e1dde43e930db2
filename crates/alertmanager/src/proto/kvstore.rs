//! Grafana's kvstore persistence of Alertmanager state: the `silences`, `notifications` and
//! `flushes` keys (namespace `alertmanager`) hold standard, padded base64 of the snapshot bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::ProtoError;

/// Encodes snapshot bytes as Grafana stores them in its kvstore (standard base64, padded).
pub fn to_kvstore_base64(snapshot: &[u8]) -> String {
    STANDARD.encode(snapshot)
}

/// Decodes a kvstore value back into snapshot bytes; an empty value is an empty snapshot.
///
/// Like Go's `base64.StdEncoding`, carriage returns and line feeds are ignored.
pub fn from_kvstore_base64(value: &str) -> Result<Vec<u8>, ProtoError> {
    if value.contains(['\r', '\n']) {
        let compact: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        return Ok(STANDARD.decode(compact)?);
    }
    Ok(STANDARD.decode(value)?)
}

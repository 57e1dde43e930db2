//! Reading and writing the session cookie.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::{ApiOptions, SameSite};

/// The value of cookie `name` in the request, if present.
pub(crate) fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value that stores a session token.
pub(crate) fn session(opts: &ApiOptions, token: &str) -> Option<HeaderValue> {
    build(opts, token, opts.cookie_max_age.as_secs())
}

/// A `Set-Cookie` value that deletes the session cookie.
pub(crate) fn clear(opts: &ApiOptions) -> Option<HeaderValue> {
    build(opts, "", 0)
}

fn build(opts: &ApiOptions, value: &str, max_age: u64) -> Option<HeaderValue> {
    let mut c = format!(
        "{}={}; Path=/; Max-Age={}; HttpOnly",
        opts.cookie_name, value, max_age
    );
    if opts.cookie_secure {
        c.push_str("; Secure");
    }
    match opts.cookie_samesite {
        SameSite::Lax => c.push_str("; SameSite=Lax"),
        SameSite::Strict => c.push_str("; SameSite=Strict"),
        SameSite::None => c.push_str("; SameSite=None"),
        SameSite::Disabled => {}
    }
    HeaderValue::from_str(&c).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; wk=tok; b=2"));
        assert_eq!(read(&h, "wk").as_deref(), Some("tok"));
        assert_eq!(read(&h, "c"), None);
    }

    #[test]
    fn builds_attributes() {
        let opts = ApiOptions {
            cookie_name: "s".into(),
            cookie_secure: true,
            cookie_samesite: SameSite::Strict,
            ..ApiOptions::default()
        };
        let v = session(&opts, "t").expect("header");
        let s = v.to_str().expect("ascii");
        assert!(s.starts_with("s=t; Path=/; Max-Age="), "{s}");
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.ends_with("SameSite=Strict"));
        assert!(
            clear(&opts)
                .expect("header")
                .to_str()
                .expect("ascii")
                .contains("Max-Age=0")
        );
    }
}

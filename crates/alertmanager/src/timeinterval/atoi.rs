//! Integer parsing with the exact acceptance rules of Go's `strconv.Atoi` on 64-bit targets.

use super::TimeIntervalError;

/// Parses an optionally signed decimal integer, rejecting spaces, underscores and other bases.
pub(crate) fn atoi(input: &str) -> Result<i64, TimeIntervalError> {
    let fail = |out_of_range| TimeIntervalError::Integer {
        input: input.to_owned(),
        out_of_range,
    };
    let (negative, digits) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if digits.is_empty() {
        return Err(fail(false));
    }
    let mut magnitude: u64 = 0;
    for byte in digits.bytes() {
        if !byte.is_ascii_digit() {
            return Err(fail(false));
        }
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| fail(true))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
            .ok_or_else(|| fail(true))
    } else {
        i64::try_from(magnitude).map_err(|_| fail(true))
    }
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn accepts_like_go() {
        assert_eq!(atoi("05"), Ok(5));
        assert_eq!(atoi("+7"), Ok(7));
        assert_eq!(atoi("-0"), Ok(0));
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(atoi("9223372036854775807"), Ok(i64::MAX));
    }

    #[test]
    fn rejects_like_go() {
        let msg = |s: &str| atoi(s).err().map(|e| e.to_string());
        for bad in ["", "+", "-", " 1", "1 ", "0x10", "1_0", "1.0", "1e1", "--1"] {
            assert_eq!(
                msg(bad),
                Some(format!("strconv.Atoi: parsing {bad:?}: invalid syntax"))
            );
        }
        for big in [
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
        ] {
            assert_eq!(
                msg(big),
                Some(format!("strconv.Atoi: parsing {big:?}: value out of range"))
            );
        }
    }
}

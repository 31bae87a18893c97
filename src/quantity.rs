//! Validate stage: Kubernetes resource quantities (`250m`, `0.5`, `256Mi`, `1e3`), parsed exactly.
//!
//! The grammar is the one of `k8s.io/apimachinery/pkg/api/resource`: a signed decimal number
//! followed by a binary SI suffix (`Ki`..`Ei`), a decimal SI suffix (`n`, `u`, `m`, `k`, `M`..`E`)
//! or a decimal exponent (`e3`, `E-2`). Values are kept in nano-units, rounded up as Kubernetes
//! does, so `1Gi` and `1073741824` compare equal and `0.5` equals `500m`.

use std::cmp::Ordering;
use std::fmt;

/// A parsed quantity: the text as written (copied to manifests untouched) and its exact value.
#[derive(Debug, Clone)]
pub struct Quantity {
    text: String,
    nanos: i128,
}

impl Quantity {
    /// The quantity exactly as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in units of 10^-9 (for CPU: nano-cores; for memory: nano-bytes).
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// True when the suffix is `m` (milli). For memory that means millibytes: almost always a
    /// typo for `M` or `Mi`.
    pub fn is_milli(&self) -> bool {
        self.text.ends_with('m')
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.nanos.cmp(&other.nanos))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a text is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// Not of the quantity grammar at all.
    Syntax,
    /// A suffix Kubernetes does not know, such as `MB` or `GB`.
    UnknownSuffix(String),
    /// Negative quantities make no sense for requests and limits.
    Negative,
    /// Larger than any machine offers.
    TooLarge,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantityError::Syntax => f.write_str("not a Kubernetes quantity"),
            QuantityError::UnknownSuffix(s) => write!(f, "`{s}` is not a Kubernetes unit"),
            QuantityError::Negative => f.write_str("a resource quantity cannot be negative"),
            QuantityError::TooLarge => f.write_str("the quantity is too large"),
        }
    }
}

const NANOS: i128 = 1_000_000_000;

impl std::str::FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(QuantityError::Syntax);
        }
        // Kubernetes keeps nano precision and rounds up what is finer; digits past that cannot
        // change the value by more than one nano-unit, so reading 40 of them is plenty.
        if int_part.len() > 30 {
            return Err(QuantityError::TooLarge);
        }
        let frac_part = &frac_part[..frac_part.len().min(40)];
        let (decimal_exp, binary_exp): (i32, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            s if s.starts_with(['e', 'E']) => {
                let exp = &s[1..];
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(QuantityError::UnknownSuffix(s.to_string()));
                }
                let exp: i32 = exp.parse().map_err(|_| QuantityError::TooLarge)?;
                if exp.abs() > 30 {
                    return Err(QuantityError::TooLarge);
                }
                (exp, 0)
            }
            s => return Err(QuantityError::UnknownSuffix(s.to_string())),
        };
        // value = digits × 10^(decimal_exp - frac_len) × 2^binary_exp, in nano-units (+9).
        let digits: String = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let mantissa: i128 = if digits.is_empty() {
            0
        } else if digits.len() > 36 {
            return Err(QuantityError::TooLarge);
        } else {
            digits.parse().map_err(|_| QuantityError::Syntax)?
        };
        let exp10 = decimal_exp + 9 - frac_part.len() as i32;
        let mut value = mantissa;
        if exp10 >= 0 {
            for _ in 0..exp10 {
                value = value.checked_mul(10).ok_or(QuantityError::TooLarge)?;
            }
            value = value
                .checked_mul(1i128 << binary_exp)
                .ok_or(QuantityError::TooLarge)?;
        } else {
            value = value
                .checked_mul(1i128 << binary_exp)
                .ok_or(QuantityError::TooLarge)?;
            let divisor = 10i128
                .checked_pow(exp10.unsigned_abs())
                .ok_or(QuantityError::TooLarge)?;
            value = value / divisor + i128::from(value % divisor != 0);
        }
        // Kubernetes refuses anything above 2^63-1 of the base unit; so do we.
        if value > i128::from(i64::MAX) * NANOS {
            return Err(QuantityError::TooLarge);
        }
        if negative && value != 0 {
            return Err(QuantityError::Negative);
        }
        Ok(Quantity {
            text: text.to_string(),
            nanos: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    #[test]
    fn equal_values_in_different_notations() {
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("1k"), q("1e3"));
        assert_eq!(q("1E3"), q("1000"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q(".5"), q("500m"));
        assert_eq!(q("1e-3"), q("1m"));
        assert_eq!(q("+2"), q("2"));
        assert_eq!(q("-0"), q("0"));
    }

    #[test]
    fn ordering_is_exact() {
        assert!(q("250m") < q("0.5"));
        assert!(q("512Mi") > q("256Mi"));
        assert!(q("1G") < q("1Gi"));
        assert!(q("999999999n") < q("1"));
    }

    #[test]
    fn finer_than_nano_rounds_up() {
        assert_eq!(q("0.1n").nanos(), 1);
        assert_eq!(q("1.0000000001").nanos(), NANOS + 1);
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(
            "256MB".parse::<Quantity>(),
            Err(QuantityError::UnknownSuffix("MB".into()))
        );
        assert_eq!(
            "1gi".parse::<Quantity>(),
            Err(QuantityError::UnknownSuffix("gi".into()))
        );
        assert_eq!("".parse::<Quantity>(), Err(QuantityError::Syntax));
        assert_eq!("m".parse::<Quantity>(), Err(QuantityError::Syntax));
        assert_eq!("1.2.3".parse::<Quantity>(), Err(QuantityError::Syntax));
        assert_eq!("-1".parse::<Quantity>(), Err(QuantityError::Negative));
        assert_eq!(
            "1e".parse::<Quantity>(),
            Err(QuantityError::UnknownSuffix("e".into()))
        );
        assert_eq!(
            "1 Gi".parse::<Quantity>(),
            Err(QuantityError::UnknownSuffix(" Gi".into()))
        );
        assert_eq!(
            "9999999999999Ei".parse::<Quantity>(),
            Err(QuantityError::TooLarge)
        );
        assert_eq!(
            "1".repeat(200).parse::<Quantity>(),
            Err(QuantityError::TooLarge)
        );
    }

    #[test]
    fn milli_suffix_is_visible() {
        assert!(q("256m").is_milli());
        assert!(!q("256Mi").is_milli());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Quantity>();
        }

        #[test]
        fn milli_equals_decimal(n in 0u32..10_000_000) {
            let milli: Quantity = format!("{n}m").parse().unwrap();
            let decimal: Quantity = format!("{}.{:03}", n / 1000, n % 1000).parse().unwrap();
            proptest::prop_assert_eq!(milli, decimal);
        }
    }
}

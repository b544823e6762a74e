//! Phone numbers: what people type, parsed with Google's libphonenumber metadata into
//! E.164 for storage and the international format for display.
//!
//! Server only: the metadata would add hundreds of KB to the WASM bundle.

use rlibphonenumber::enums::Region;
use rlibphonenumber::{PHONE_NUMBER_UTIL, ParseError, PhoneNumberFormat, ValidationError};

/// A number that parsed and is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msisdn {
    /// `+6581234567`: what is stored and compared.
    pub e164: String,
    /// `81234567`: the number without its country code, for search by local digits.
    pub national: String,
}

/// Why a number was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PhoneError(pub String);

/// Parses `input` as typed (spaces, dashes, brackets, `+` or the country's own dialling
/// prefixes) into E.164; numbers without a country code are read as `default_country`'s.
pub fn normalize_msisdn(input: &str, default_country: &str) -> Result<Msisdn, PhoneError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(PhoneError("Enter a mobile number.".into()));
    }
    if looks_like_scientific_notation(input) {
        return Err(PhoneError(format!(
            "\"{input}\" is a number a spreadsheet turned into scientific notation, so its \
             last digits are lost. Format the column as text and export it again."
        )));
    }
    let region: Option<Region> = default_country.trim().to_ascii_uppercase().parse().ok();
    let place = place_name(input, default_country);
    let number = PHONE_NUMBER_UTIL
        .parse(input, region)
        .map_err(|e| PhoneError(parse_error_message(&e, &place)))?;
    if !number.is_valid() {
        let why = match number.is_possible_with_reason() {
            Err(ValidationError::TooShort) => format!("Number too short for {place}."),
            Err(ValidationError::TooLong) => format!("Number too long for {place}."),
            Err(ValidationError::InvalidCountryCode) => "Unknown country code.".to_string(),
            _ => format!("Not a valid number for {place}."),
        };
        return Err(PhoneError(why));
    }
    Ok(Msisdn {
        e164: number.format_as(PhoneNumberFormat::E164).into_owned(),
        national: number.get_national_significant_number(),
    })
}

/// `+65 8123 4567` for a stored `+6581234567` (the E.164 text itself if it cannot parse).
pub fn format_international(e164: &str) -> String {
    PHONE_NUMBER_UTIL
        .parse(e164, None)
        .map(|n| n.format_as(PhoneNumberFormat::International).into_owned())
        .unwrap_or_else(|_| e164.to_string())
}

/// Whether the text is a number like `6.58123E+09`, which is what spreadsheets make of
/// long digit strings; its digits cannot be recovered.
fn looks_like_scientific_notation(input: &str) -> bool {
    let Some((mantissa, exponent)) = input.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

/// Which country a message should name: the default one unless the number has its own
/// country code.
fn place_name(input: &str, default_country: &str) -> String {
    if input.starts_with('+') {
        "its country code".to_string()
    } else {
        default_country.trim().to_ascii_uppercase()
    }
}

fn parse_error_message(error: &ParseError, place: &str) -> String {
    match error {
        ParseError::InvalidCountryCode => {
            "Unknown country code. Write the number with + and its country code, or choose its country."
                .to_string()
        }
        ParseError::NotANumber(_) => "This is not a phone number.".to_string(),
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => {
            format!("Number too short for {place}.")
        }
        ParseError::TooLongNsn => format!("Number too long for {place}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str, country: &str) -> String {
        match normalize_msisdn(input, country) {
            Ok(n) => n.e164,
            Err(e) => panic!("{input:?} ({country}) was refused: {e}"),
        }
    }

    fn refused(input: &str, country: &str) -> String {
        match normalize_msisdn(input, country) {
            Ok(n) => panic!("{input:?} ({country}) was accepted as {}", n.e164),
            Err(e) => e.0,
        }
    }

    #[test]
    fn numbers_as_people_write_them() {
        let cases = [
            ("+65 8123 4567", "SG", "+6581234567"),
            ("8123 4567", "SG", "+6581234567"),
            ("+65-8123-4567", "SG", "+6581234567"),
            ("(+65) 81234567", "US", "+6581234567"),
            ("001 65 8123 4567", "SG", "+6581234567"),
            ("0044 7911 123456", "GB", "+447911123456"),
            ("07911 123456", "GB", "+447911123456"),
            ("+44 (0) 7911 123456", "SG", "+447911123456"),
            ("(415) 555-0132", "US", "+14155550132"),
            ("415.555.0132", "US", "+14155550132"),
            ("+1 415 555 0132", "GB", "+14155550132"),
            ("011 44 7911 123456", "US", "+447911123456"),
            ("0151 23456789", "DE", "+4915123456789"),
            ("+49 151 23456789", "SG", "+4915123456789"),
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("+33 6 12 34 56 78", "DE", "+33612345678"),
            ("98765 43210", "IN", "+919876543210"),
            ("+91 98765 43210", "SG", "+919876543210"),
            ("0412 345 678", "AU", "+61412345678"),
            ("+61 412 345 678", "SG", "+61412345678"),
            ("11 91234-5678", "BR", "+5511912345678"),
            ("090-1234-5678", "JP", "+819012345678"),
            ("+81 90 1234 5678", "SG", "+819012345678"),
            ("0812-3456-789", "ID", "+628123456789"),
            ("012-345 6789", "MY", "+60123456789"),
            ("0917 123 4567", "PH", "+639171234567"),
            ("+234 802 123 4567", "GB", "+2348021234567"),
            ("050 123 4567", "AE", "+971501234567"),
            ("  8123\u{a0}4567 ", "SG", "+6581234567"),
        ];
        for (input, country, expected) in cases {
            assert_eq!(e164(input, country), expected, "{input} with {country}");
        }
    }

    #[test]
    fn the_national_number_drops_country_code_and_trunk_prefix() {
        assert_eq!(
            normalize_msisdn("07911 123456", "GB").unwrap().national,
            "7911123456"
        );
        assert_eq!(
            normalize_msisdn("+65 8123 4567", "US").unwrap().national,
            "81234567"
        );
    }

    #[test]
    fn double_zero_is_not_singapore_s_international_prefix() {
        // Singapore dials abroad with 001/002/…, not 00, so this is not +65.
        assert_ne!(
            normalize_msisdn("0065 8123 4567", "SG").map(|n| n.e164),
            Ok("+6581234567".to_string())
        );
    }

    #[test]
    fn invalid_numbers_say_why() {
        assert_eq!(refused("", "SG"), "Enter a mobile number.");
        assert_eq!(refused("812", "SG"), "Number too short for SG.");
        assert!(refused("+999 1234 5678", "SG").starts_with("Unknown country code"));
        assert_eq!(refused("hello", "SG"), "This is not a phone number.");
        assert!(refused("8123 4567 8901 2345 6789", "SG").contains("too long"));
        assert!(refused("1234 5678", "SG").starts_with("Not a valid number for SG"));
        assert!(refused("+1 415 555", "SG").contains("too short"));
    }

    #[test]
    fn spreadsheet_damage_is_named_never_converted() {
        for damaged in [
            "6.58123E+09",
            "6.58E+09",
            "6,58123E+10",
            "6E9",
            "4.47911E+11",
        ] {
            assert!(
                refused(damaged, "SG").contains("scientific notation"),
                "{damaged}"
            );
        }
        assert!(!looks_like_scientific_notation("+65 8123 4567"));
    }

    #[test]
    fn stored_numbers_are_shown_in_international_format() {
        assert_eq!(format_international("+6581234567"), "+65 8123 4567");
        assert_eq!(format_international("+14155550132"), "+1 415-555-0132");
        assert_eq!(format_international("+447911123456"), "+44 7911 123456");
    }
}

#[cfg(test)]
mod every_region {
    use super::*;
    use crate::model::country::normalize_country;

    /// Every region libphonenumber has a numbering plan for can be a contact's or a
    /// workspace's country, and its example number reads with it as the default country.
    #[test]
    fn every_region_libphonenumber_knows_is_a_country() {
        let mut regions = 0;
        for region in PHONE_NUMBER_UTIL.get_supported_regions() {
            let code = region.to_string();
            assert!(normalize_country(&code).is_some(), "{code} is no country");
            let example = PHONE_NUMBER_UTIL
                .get_example_number(region)
                .expect("an example number");
            let national = example.get_national_significant_number();
            let read = normalize_msisdn(&national, &code)
                .unwrap_or_else(|e| panic!("{code}'s example {national}: {e}"));
            assert_eq!(
                read.e164,
                example.format_as(PhoneNumberFormat::E164).into_owned(),
                "{code}"
            );
            regions += 1;
        }
        assert!(regions > 240, "{regions}");
    }
}

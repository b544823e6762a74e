//! Validation of the account forms (create workspace, sign in, add user), shared so the
//! browser and the server give the same messages.

use crate::error::{AppError, FieldError};
use crate::model::country::normalize_country;

/// Passwords shorter than this are refused (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longer passwords are refused so hashing stays cheap for the server.
pub const MAX_PASSWORD_LEN: usize = 256;
/// Longest workspace name.
pub const MAX_WORKSPACE_NAME_LEN: usize = 100;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// The "Create workspace" form after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkspace {
    /// The workspace's name, trimmed.
    pub name: String,
    /// Its default country, an upper-case alpha-2 code.
    pub default_country: String,
    /// The first admin's email, trimmed and lower-cased.
    pub email: String,
    /// The first admin's password, as typed.
    pub password: String,
}

/// Collects field errors so a form reports all its problems at once.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn into_result<T>(self, value: T) -> Result<T, AppError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

/// Trims and lower-cases an email, or says what is wrong with it.
pub fn normalize_email(input: &str) -> Result<String, String> {
    let email = input.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter an email address.".into());
    }
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(format!(
            "An email address has at most {MAX_EMAIL_LEN} characters."
        ));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err("Enter an email address like name@example.com.".into())
    }
}

/// Says what is wrong with a new password, if anything.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        Err(format!(
            "Use at least {MIN_PASSWORD_LEN} characters for the password."
        ))
    } else if len > MAX_PASSWORD_LEN {
        Err(format!(
            "A password has at most {MAX_PASSWORD_LEN} characters."
        ))
    } else {
        Ok(())
    }
}

/// Validates the "Create workspace" form, reporting every invalid field.
pub fn validate_new_workspace(
    name: &str,
    default_country: &str,
    email: &str,
    password: &str,
) -> Result<NewWorkspace, AppError> {
    let mut problems = Problems::default();
    let name = name.trim().to_string();
    if name.is_empty() {
        problems.add("workspace_name", "Enter a name for the workspace.");
    } else if name.chars().count() > MAX_WORKSPACE_NAME_LEN {
        problems.add(
            "workspace_name",
            format!("A workspace name has at most {MAX_WORKSPACE_NAME_LEN} characters."),
        );
    }
    let country = normalize_country(default_country);
    if country.is_none() {
        problems.add("default_country", "Choose a country.");
    }
    let email = normalize_email(email).unwrap_or_else(|message| {
        problems.add("email", message);
        String::new()
    });
    if let Err(message) = check_new_password(password) {
        problems.add("password", message);
    }
    problems.into_result(NewWorkspace {
        name,
        default_country: country.unwrap_or_default().to_string(),
        email,
        password: password.to_string(),
    })
}

/// Validates the admin's "Add user" form; returns the normalised email.
pub fn validate_new_user(email: &str, password: &str) -> Result<String, AppError> {
    let mut problems = Problems::default();
    let email = normalize_email(email).unwrap_or_else(|message| {
        problems.add("email", message);
        String::new()
    });
    if let Err(message) = check_new_password(password) {
        problems.add("password", message);
    }
    problems.into_result(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ana@Example.COM "),
            Ok("ana@example.com".into())
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
            "ana@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough pass").is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }

    #[test]
    fn the_workspace_form_reports_every_bad_field() {
        let Err(AppError::Invalid(errors)) = validate_new_workspace(" ", "XX", "nope", "123")
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["workspace_name", "default_country", "email", "password"]
        );
    }

    #[test]
    fn a_good_workspace_form_is_normalised() {
        let ws = validate_new_workspace(" Acme ", "sg", "Boss@Acme.io", "correct horse").unwrap();
        assert_eq!(ws.name, "Acme");
        assert_eq!(ws.default_country, "SG");
        assert_eq!(ws.email, "boss@acme.io");
    }
}

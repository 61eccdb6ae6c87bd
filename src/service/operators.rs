//! What every change an operator makes at runtime must carry (who and why), and the MVPD ids
//! such changes name: checked the same way for provider states, limits and degradation rules.

use super::ServiceError;

/// Longest operator name, reason or notice, in characters.
pub(super) const MOST_CHARS: usize = 500;

/// Refuses a change without the operator's name or a reason, or with either too long.
pub(super) fn check_who_and_why(changed_by: &str, reason: &str) -> Result<(), ServiceError> {
    for (field, text) in [("changedBy", changed_by), ("reason", reason)] {
        if text.trim().is_empty() || text.chars().count() > MOST_CHARS {
            return Err(ServiceError::invalid(
                field,
                format!("required, at most {MOST_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// Refuses what cannot be an MVPD id: 1 to 128 letters, digits, `_`, `-` or `.`.
pub(super) fn check_mvpd(mvpd: &str) -> Result<(), ServiceError> {
    let id_chars = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    if mvpd.is_empty() || mvpd.len() > 128 || !mvpd.chars().all(id_chars) {
        return Err(ServiceError::invalid(
            "mvpd",
            "an MVPD id: 1 to 128 letters, digits, '_', '-' or '.'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mvpd_ids_and_who_and_why_are_checked() {
        assert!(check_mvpd("Spectrum").is_ok());
        assert!(check_mvpd("").is_err());
        assert!(check_mvpd("a/b").is_err());
        assert!(check_who_and_why("ana", "ticket 1").is_ok());
        assert!(check_who_and_why(" ", "ticket 1").is_err());
        assert!(check_who_and_why("ana", "").is_err());
    }
}

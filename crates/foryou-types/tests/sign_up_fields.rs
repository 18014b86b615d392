//! What sign-up accepts and refuses, field by field, as an attacker and a new user would try it.

use foryou_types::{parse_date, validate_handle, validate_password, RegionMap};

fn password_ok(p: &str) -> bool {
    validate_password(p).is_ok()
}

#[test]
fn weak_passwords_are_refused_with_a_reason() {
    for p in [
        "password",
        "12345678",
        "        ",
        "          ",
        "aaaaaaaaaaaa",
        "1234567890",
        "Password1234",
        "qwertyuiop",
        "abababababab",
    ] {
        let e = validate_password(p).expect_err(p);
        assert_eq!(e.field, "password");
        assert!(!e.message.is_empty());
    }
    for p in ["a long password", "correct horse battery", "Tr0ub4dor&3x"] {
        assert!(password_ok(p), "{p}");
    }
}

#[test]
fn reserved_and_id_like_handles_are_refused() {
    for h in [
        "admin",
        "Admin",
        "ROOT",
        "support",
        "foryou",
        "moderator",
        "1234567",
        "9lena",
    ] {
        assert!(validate_handle(h).is_err(), "{h}");
    }
    for h in ["lena", "lena.k", "dj_9000"] {
        assert!(validate_handle(h).is_ok(), "{h}");
    }
}

#[test]
fn only_assigned_country_codes_are_accepted() {
    let m = RegionMap::default();
    for c in ["XX", "ZZ", "AA", "QQ", "D", "DEU", "1A", ""] {
        assert!(m.home_of(c).is_err(), "{c}");
    }
    assert_eq!(m.home_of("de").map(|r| r.to_string()), Ok("eu".to_string()));
    assert_eq!(m.home_of("US").map(|r| r.to_string()), Ok("us".to_string()));
    assert_eq!(
        m.home_of("JP").map(|r| r.to_string()),
        Ok("row".to_string())
    );
}

#[test]
fn dates_are_strict() {
    for d in [
        "2000-+1-+1",
        "+200-01-01",
        "2000-1-01",
        "2000-01-1 ",
        " 2000-01-01",
        "2000/01/01",
        "2000-02-30",
        "2001-02-29",
    ] {
        assert!(parse_date(d).is_err(), "{d}");
    }
    assert!(parse_date("2000-02-29").is_ok());
}

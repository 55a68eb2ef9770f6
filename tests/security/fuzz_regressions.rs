//! Inputs that the fuzz targets must keep handling: edge cases found while
//! writing the targets, and any crash the fuzzer finds (add it here, as a
//! literal, with the date and the target it came from).

use crate::common::fuzz_checks as checks;
use http_session::{Headers, SessionId};

#[test]
fn cookie_parse_edge_cases() {
    for header in [
        "",
        ";",
        "=",
        "==",
        "\"",
        "a=\"",
        "a=\"\"",
        "a=\"\"\"",
        " \t a \t = \t \"b\" \t ;",
        "a=b;;;;c=d",
        "=a; =b; c",
        "ñ=€; €=ñ",
        "a=b\0c; \r\nd=e",
        "\u{feff}a=b",
        "a\t=\t\"\t\"",
    ] {
        checks::check_cookie_parse(header);
    }
}

#[test]
fn cookie_serialize_edge_cases() {
    let default = checks::OptionsInput {
        secure: true,
        http_only: true,
        ..Default::default()
    };
    let with = |f: &dyn Fn(&mut checks::OptionsInput)| {
        let mut o = default.clone();
        f(&mut o);
        o
    };
    let cases = [
        ("a", "", default.clone()),
        ("a", "=", default.clone()),
        ("a", "b=c", default.clone()),
        ("a", "\"b\"", default.clone()),
        ("a", "b\r\nSet-Cookie: x=y", default.clone()),
        ("a\r\n", "b", default.clone()),
        ("a", "b", with(&|o| o.path = Some("/\r\nx".into()))),
        ("a", "b", with(&|o| o.path = Some("/; Domain=evil".into()))),
        ("a", "b", with(&|o| o.domain = Some(".".into()))),
        ("a", "b", with(&|o| o.domain = Some("..".into()))),
        ("a", "b", with(&|o| o.domain = Some("a b".into()))),
        ("a", "b", with(&|o| o.expires_secs = Some(-1))),
        ("a", "b", with(&|o| o.expires_secs = Some(253_402_300_799))),
        ("a", "b", with(&|o| o.expires_secs = Some(253_402_300_800))),
        ("a", "b", with(&|o| o.expires_secs = Some(i64::MAX))),
        ("a", "b", with(&|o| o.max_age_secs = Some(u64::MAX))),
        ("a", "b", with(&|o| o.same_site = 3)),
        ("a", "b", with(&|o| (o.same_site, o.secure) = (3, false))),
        ("__Host-a", "b", with(&|o| o.domain = Some("x".into()))),
        ("__HoSt-a", "b", with(&|o| o.path = Some("/x".into()))),
        ("__Host-Http-a", "b", with(&|o| o.http_only = false)),
        ("__secure-a", "b", with(&|o| o.secure = false)),
        (
            "a",
            "b",
            with(&|o| (o.partitioned, o.secure) = (true, false)),
        ),
    ];
    for (name, value, options) in &cases {
        checks::check_cookie_serialize(name, value, options);
    }
}

#[test]
fn session_id_edge_cases() {
    let max = SessionId::from_bytes([0xFF; 32]).to_string();
    for text in [
        String::new(),
        "A".repeat(43),
        "A".repeat(42) + "B", // unused low bits set
        "A".repeat(42) + "E", // canonical
        max.clone(),
        max[..42].to_owned() + "9",
        "A".repeat(44),
        "A".repeat(41) + "é",
        "A".repeat(42) + "=",
        "+".repeat(43),
    ] {
        checks::check_session_id(&text);
    }
    checks::check_id_bytes([0; 32]);
    checks::check_id_bytes([0xFF; 32]);
}

#[test]
fn from_request_edge_cases() {
    let fixture = checks::RequestFixture::new();
    let live = format!("session_id={}", fixture.known);
    let quoted = format!("session_id=\"{}\"", fixture.known);
    let unknown = format!("session_id={}", SessionId::generate());
    let headers = [
        Headers::new(),
        Headers::new().with("Cookie", ""),
        Headers::new().with("Cookie", &live),
        Headers::new().with("cOOkie", &quoted),
        Headers::new().with("X-Cookie", &live),
        Headers::new().with("Cookie", "a=1").with("Cookie", &live),
        Headers::new().with("Cookie", &format!("session_id =  {}  ", fixture.known)),
        Headers::new().with("Cookie", &format!("SESSION_ID={}", fixture.known)),
        Headers::new()
            .with("Cookie", &[unknown.as_str(); 4].join(";"))
            .with("Cookie", &live),
        Headers::new()
            .with("Cookie", &[unknown.as_str(); 3].join(";"))
            .with("Cookie", &live),
        Headers::new().with("Cookie", &format!("{live}x")),
        Headers::new().with("Cookie", &format!("x{live}")),
    ];
    for h in &headers {
        checks::check_from_request(&fixture, h);
    }
}

#[test]
fn file_store_edge_cases() {
    let fixture = checks::FileFixture::new();
    let deep = format!(
        "{{\"data\":{{\"k\":{}{}}}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"{\"data\":{}}".to_vec(),
        b"{\"data\":{},\"expires_at\":0}".to_vec(),
        b"{\"data\":{},\"expires_at\":18446744073709551615}".to_vec(),
        b"{\"data\":{},\"expires_at\":18446744073709551616}".to_vec(),
        b"{\"data\":{},\"deadline\":1,\"expires_at\":99999999999999}".to_vec(),
        b"{\"data\":{\"n\":1e400}}".to_vec(),
        b"{\"data\":{},\"data\":{}}".to_vec(),
        b"\xEF\xBB\xBF{\"data\":{}}".to_vec(),
        b"{\"data\":{\"\xFF\":1}}".to_vec(),
        deep.into_bytes(),
    ];
    for contents in &cases {
        checks::check_file_store_contents(&fixture, contents);
    }
}

//! Proptest mirrors of the fuzz targets in `fuzz/fuzz_targets/`: the same
//! properties (`tests/common/fuzz_checks.rs`), on generated inputs, in every `cargo test`.
//! The fuzzer explores deeper when it can run; these always run.

use crate::common::fuzz_checks as checks;
use http_session::{Headers, Response, SessionId};
use proptest::prelude::*;

/// Text rich in the bytes cookie code cares about, plus any Unicode.
fn cookie_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t;=\"a-z0-9_\\-]{0,48}",
        "[ -~\t\r\n]{0,64}",
        any::<String>(),
        // Pieces of real headers, glued in any order.
        prop::collection::vec(
            prop_oneof![
                Just("session_id=".to_owned()),
                Just("; ".to_owned()),
                Just(";".to_owned()),
                Just("\"".to_owned()),
                Just("=".to_owned()),
                Just(" \t".to_owned()),
                Just(SessionId::from_bytes([7; 32]).to_string()),
                "[a-zA-Z0-9_\\-]{0,43}",
            ],
            0..12
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn options_input() -> impl Strategy<Value = checks::OptionsInput> {
    (
        (
            prop::option::of(cookie_text()),
            prop::option::of(prop_oneof![cookie_text(), "\\.?[a-z.\\-]{0,20}"]),
            prop::option::of(any::<u64>()),
            prop::option::of(prop_oneof![
                any::<i64>(),
                -10i64..10,
                253_402_300_790i64..253_402_300_810
            ]),
        ),
        (any::<bool>(), any::<bool>(), any::<u8>(), any::<bool>()),
    )
        .prop_map(
            |(
                (path, domain, max_age_secs, expires_secs),
                (http_only, secure, same_site, partitioned),
            )| {
                checks::OptionsInput {
                    path,
                    domain,
                    max_age_secs,
                    expires_secs,
                    http_only,
                    secure,
                    same_site,
                    partitioned,
                }
            },
        )
}

fn cookie_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9!#$%&'*+.^_`|~\\-]{1,16}",
        "(__Host-|__Secure-|__Http-|__Host-Http-|__host-|__SECURE-)[a-z]{0,6}",
        cookie_text(),
    ]
}

fn cookie_value() -> impl Strategy<Value = String> {
    prop_oneof!["[!#-+\\--:<-\\[\\]-~]{0,32}", cookie_text()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn cookie_parse(header in cookie_text()) {
        checks::check_cookie_parse(&header);
    }

    #[test]
    fn cookie_serialize(name in cookie_name(), value in cookie_value(), options in options_input()) {
        checks::check_cookie_serialize(&name, &value, &options);
    }

    #[test]
    fn session_id_text(text in prop_oneof![
        "[A-Za-z0-9_\\-]{43}",
        "[A-Za-z0-9_\\-+/=]{41,45}",
        cookie_text(),
    ]) {
        checks::check_session_id(&text);
    }

    #[test]
    fn session_id_bytes(bytes in any::<[u8; 32]>()) {
        checks::check_id_bytes(bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn from_request(
        headers in prop::collection::vec((any::<u8>(), "[A-Za-z\\-]{1,12}", cookie_text()), 0..6),
        plant in prop::option::of((any::<u8>(), any::<u16>())),
    ) {
        let fixture = fixture();
        let mut values: Vec<(String, String)> = headers
            .iter()
            .map(|(sel, other, value)| (checks::header_name(*sel, other).to_owned(), value.clone()))
            .collect();
        if let (Some((which, at)), false) = (plant, values.is_empty()) {
            let i = usize::from(which) % values.len();
            let value = &mut values[i].1;
            let mut at = usize::from(at).min(value.len());
            while !value.is_char_boundary(at) {
                at -= 1;
            }
            value.insert_str(at, &format!("session_id={}", fixture.known));
        }
        let mut request = Headers::new();
        for (name, value) in &values {
            request.append_header(name, value);
        }
        checks::check_from_request(fixture, &request);
    }
}

fn fixture() -> &'static checks::RequestFixture {
    static FIXTURE: std::sync::OnceLock<checks::RequestFixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(checks::RequestFixture::new)
}

/// Text that is nearly a session file: fragments of `Record::encode`'s format.
fn file_contents() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        prop::collection::vec(
            prop_oneof![
                Just("{\"data\":{".to_owned()),
                Just("}".to_owned()),
                Just("\"expires_at\":".to_owned()),
                Just("\"deadline\":".to_owned()),
                Just(",".to_owned()),
                Just("\"k\":".to_owned()),
                "[0-9]{1,20}",
                Just("-1".to_owned()),
                Just("1e3".to_owned()),
                Just("null".to_owned()),
                Just("\u{0}".to_owned()),
            ],
            0..10
        )
        .prop_map(|parts| parts.concat().into_bytes()),
        // A valid record, expired or not.
        (any::<bool>(), 0u64..u64::MAX).prop_map(|(with_time, at)| {
            if with_time {
                format!("{{\"data\":{{\"k\":1}},\"expires_at\":{at}}}").into_bytes()
            } else {
                b"{\"data\":{\"k\":1}}".to_vec()
            }
        }),
    ]
}

/// One store directory for every case, removed when the test ends.
#[test]
fn file_store_contents() {
    let fixture = checks::FileFixture::new();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    let outcome = runner.run(&file_contents(), |contents| {
        checks::check_file_store_contents(&fixture, &contents);
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

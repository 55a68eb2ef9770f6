//! `CgiRequest::read_body` keeps to the bytes that arrive: `CONTENT_LENGTH` is
//! a claim by the client, and memory follows the body actually sent.
//!
//! Reserving a claimed length up front would abort this test process (a
//! 1 TiB allocation fails and aborts; `usize::MAX` is a capacity overflow), so
//! these tests passing at all shows that nothing of the kind is reserved.

use std::io::ErrorKind;

use http_session::CgiRequest;

fn read(content_length: &str, body: &[u8], limit: usize) -> std::io::Result<Vec<u8>> {
    CgiRequest::from_vars([("CONTENT_LENGTH", content_length)]).read_body(body, limit)
}

#[test]
fn a_four_byte_body_claiming_a_terabyte_is_a_short_body_error() {
    let claimed = (1u64 << 40).to_string();
    let err = read(&claimed, b"ab=c", usize::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        err.to_string(),
        format!("request body ended after 4 of {claimed} bytes")
    );
}

#[test]
fn a_four_byte_body_claiming_usize_max_is_a_short_body_error() {
    let claimed = usize::MAX.to_string();
    let err = read(&claimed, b"ab=c", usize::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains("ended after 4 of"), "{err}");
}

#[test]
fn a_claim_over_the_limit_is_refused_before_reading() {
    let err = read("1099511627776", b"ab=c", 1024).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("over the limit of 1024"), "{err}");
}

#[test]
fn bodies_of_the_announced_length_are_read_whole() {
    assert_eq!(read("4", b"ab=c", 4).unwrap(), b"ab=c");
    assert_eq!(read("2", b"ab=c", 1024).unwrap(), b"ab");
    assert_eq!(read("0", b"ab=c", 0).unwrap(), b"");
    // Larger than the first reservation: the buffer grows as bytes arrive.
    let big = vec![b'x'; 100_000];
    assert_eq!(read("100000", &big, 1 << 20).unwrap(), big);
}

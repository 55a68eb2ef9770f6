//! The login flow as a real client runs it, and the helpers the end-to-end
//! tests share: a cookie-keeping HTTP client, example programs, child processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The text of the element with `id`, as the example pages mark it.
    pub fn element(&self, id: &str) -> Option<&str> {
        let start = self.body.find(&format!("id=\"{id}\">"))? + id.len() + 6;
        let end = self.body[start..].find('<')? + start;
        Some(&self.body[start..end])
    }
}

/// An HTTP client with a real cookie jar (ureq's, which keeps `Secure` cookies
/// for loopback hosts as browsers do). Redirects are followed by hand, so each
/// answer's headers can be checked.
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            // A hung server fails the test instead of hanging it.
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Client {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub fn get(&self, url: &str) -> Answer {
        read(self.agent.get(url).call().expect("GET"))
    }

    /// A GET carrying exactly this `Cookie` header, past the jar (a replayed cookie).
    pub fn get_with_cookie(url: &str, cookie: &str) -> Answer {
        Client::try_get_with_cookie(url, cookie).expect("GET")
    }

    /// [`get_with_cookie`](Client::get_with_cookie), with a failed exchange
    /// (refused, reset, timed out) returned instead of a panic.
    pub fn try_get_with_cookie(url: &str, cookie: &str) -> Result<Answer, ureq::Error> {
        let client = Client::new();
        let response = client.agent.get(url).header("Cookie", cookie).call()?;
        Ok(read(response))
    }

    /// A POST carrying exactly this `Cookie` header, past the jar.
    pub fn post_with_cookie(url: &str, cookie: &str) -> Answer {
        let client = Client::new();
        read(
            client
                .agent
                .post(url)
                .header("Cookie", cookie)
                .send_form([("x", "y")])
                .expect("POST"),
        )
    }

    pub fn post(&self, url: &str, form: &[(&str, &str)]) -> Answer {
        read(
            self.agent
                .post(url)
                .send_form(form.iter().copied())
                .expect("POST"),
        )
    }

    /// The `name=value` pair of the jar's session cookie, as it would be sent.
    pub fn session_cookie(&self) -> Option<String> {
        let jar = self.agent.cookie_jar_lock();
        let pair = jar
            .iter()
            .find(|c| c.name() == "session_id")
            .map(|c| format!("session_id={}", c.value()));
        jar.release();
        pair
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().expect("ASCII header").to_owned(),
            )
        })
        .collect();
    let body = response.body_mut().read_to_string().expect("a text body");
    Answer {
        status,
        headers,
        body,
    }
}

/// Checks a response that sets the session cookie: the attributes the examples
/// promise, and no caching.
pub fn assert_sets_session_cookie(answer: &Answer, secure: bool) {
    let cookies = answer.set_cookies();
    assert_eq!(cookies.len(), 1, "one Set-Cookie: {cookies:?}");
    let cookie = cookies[0];
    assert!(cookie.starts_with("session_id="), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert_eq!(cookie.contains("; Secure"), secure, "{cookie}");
    assert_eq!(answer.header("Cache-Control"), Some("no-store"));
    assert_eq!(answer.header("Vary"), Some("Cookie"));
}

/// Follows a `303 See Other` to its `Location` (a path on `origin`).
pub fn follow(client: &Client, origin: &str, answer: &Answer) -> Answer {
    assert_eq!(answer.status, 303, "{answer:?}");
    let location = answer.header("Location").expect("a Location header");
    client.get(&format!("{origin}{location}"))
}

/// The seed's story over real HTTP: log in, read the profile, count visits,
/// update the role, log out, and find the old cookies worthless afterwards.
///
/// `origin` is `http://127.0.0.1:PORT`, `base` the path the app lives under
/// (`""`, or `/app` for a CGI program).
pub fn login_flow(origin: &str, base: &str, secure: bool) {
    let url = |path: &str| format!("{origin}{base}{path}");
    let client = Client::new();

    // A first look: anonymous, and nothing stored for merely looking.
    let home = client.get(&url("/"));
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("Not logged in"), "{}", home.body);
    assert!(home.set_cookies().is_empty(), "no session for a read");

    // Log in: a new session, its cookie set with the promised attributes.
    let login = client.post(&url("/login"), &[("user", "ana <3")]);
    assert_sets_session_cookie(&login, secure);
    let first_cookie = client.session_cookie().expect("the jar kept the cookie");

    let profile = follow(&client, origin, &login);
    assert_eq!(profile.status, 200, "{profile:?}");
    assert_eq!(profile.element("user"), Some("ana &lt;3"), "escaped");
    assert_eq!(profile.element("role"), Some("user"));
    assert_eq!(profile.element("visits"), Some("1"));
    assert_eq!(profile.header("Vary"), Some("Cookie"));

    // The counter rises on reload.
    for visit in 2..=3 {
        let profile = client.get(&url("/profile"));
        assert_eq!(profile.element("visits"), Some(&*visit.to_string()));
        assert_eq!(profile.element("user"), Some("ana &lt;3"));
        assert_eq!(profile.header("Cache-Control"), Some("no-store"));
    }

    // Update the role: a privilege change, so a fresh ID; the data moves along.
    let update = client.post(&url("/update-role"), &[]);
    assert_sets_session_cookie(&update, secure);
    let second_cookie = client.session_cookie().unwrap();
    assert_ne!(
        second_cookie, first_cookie,
        "a fresh ID after the role change"
    );
    let profile = follow(&client, origin, &update);
    assert_eq!(profile.element("role"), Some("admin"));
    assert_eq!(profile.element("user"), Some("ana &lt;3"));
    assert_eq!(profile.element("visits"), Some("4"));

    // The cookie from before the change is worthless already.
    let replay = Client::get_with_cookie(&url("/profile"), &first_cookie);
    assert_eq!(
        replay.element("status"),
        Some("unauthenticated"),
        "{replay:?}"
    );

    // Log out: the cookie is cleared, the profile is anonymous again.
    let logout = client.post(&url("/logout"), &[]);
    let cleared = logout.set_cookies();
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!(cleared[0].starts_with("session_id=;"), "{}", cleared[0]);
    assert!(cleared[0].contains("Max-Age=0"), "{}", cleared[0]);
    assert_eq!(client.session_cookie(), None, "the jar dropped it");
    let profile = follow(&client, origin, &logout);
    assert_eq!(profile.element("status"), Some("unauthenticated"));
    assert_eq!(
        profile.element("visits"),
        Some("1"),
        "a new, anonymous count"
    );

    // Replaying the logged-out cookie gets nothing: no user, no data, no role change.
    let replay = Client::get_with_cookie(&url("/profile"), &second_cookie);
    assert_eq!(
        replay.element("status"),
        Some("unauthenticated"),
        "{replay:?}"
    );
    assert!(!replay.body.contains("ana"), "{}", replay.body);
    let replay = Client::post_with_cookie(&url("/update-role"), &second_cookie);
    assert_eq!(replay.status, 401, "{replay:?}");
    assert!(replay.set_cookies().is_empty());
}

/// A built example program, next to this test's binary
/// (`target/<profile>/examples/<name>`). `cargo test` builds the examples before
/// it runs the tests; `cargo test --test <one>` does not, hence the message.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --example {name}` (plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// A child process that is killed when the test ends, passing or failing.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts an example server with `PORT=0` and returns it with the URL it
/// printed on its first line.
pub fn start_example(name: &str, args: &[&str]) -> (Running, String) {
    let child = Command::new(example(name))
        .args(args)
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the example");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let mut stdout = BufReader::new(stdout);
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the first line");
    // Keep reading, so the program never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = first.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "the first line is the URL: {first:?}"
    );
    (running, url)
}

/// What a started example has written to stderr so far.
#[derive(Clone, Default)]
pub struct Stderr(std::sync::Arc<std::sync::Mutex<String>>);

impl Stderr {
    /// Everything written so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    /// Waits (at most 5 s) until the text contains `what`; the text then.
    pub fn wait_for(&self, what: &str) -> String {
        for _ in 0..500 {
            let text = self.text();
            if text.contains(what) {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        self.text()
    }
}

/// [`start_example`], keeping what the program writes to stderr.
pub fn start_example_with_stderr(name: &str, args: &[&str]) -> (Running, String, Stderr) {
    let mut child = Command::new(example(name))
        .args(args)
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    let stderr = Stderr::default();
    let mut pipe = BufReader::new(child.stderr.take().expect("piped stderr"));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while pipe.read_line(&mut line).is_ok_and(|n| n > 0) {
            sink.0.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    let mut running = Running(child);
    let stdout = running.0.stdout.take().expect("piped stdout");
    let mut stdout = BufReader::new(stdout);
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the first line");
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = first.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first:?}");
    (running, url, stderr)
}

/// A port that was free a moment ago, for programs that cannot take port 0.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A fresh, empty directory under the system's temp dir.
pub fn temp_dir(what: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "http-session-{what}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// Parallel clients of one session in [`counts_every_parallel_visit`].
pub const PARALLEL_CLIENTS: usize = 8;
/// Requests each of the [`PARALLEL_CLIENTS`] sends.
pub const REQUESTS_PER_CLIENT: usize = 50;

/// What [`counts_every_parallel_visit`] saw.
#[derive(Debug)]
pub struct ParallelCount {
    /// Requests sent by the parallel clients.
    pub sent: usize,
    /// Of those, answered `200 OK` with a counter on the page.
    pub ok: u64,
    /// The session's counter after them: the final read's, minus its own visit.
    pub counted: u64,
    /// The other answers and failed exchanges, one line each.
    pub failures: Vec<String>,
}

/// One session, counted from many clients at once: a first `GET profile_url`
/// creates the session (its counter shows 1) and hands back the cookie; then
/// [`PARALLEL_CLIENTS`] threads send [`REQUESTS_PER_CLIENT`] GETs each, all
/// with that one cookie (sent by hand, past any jar); a last GET reads the
/// counter back. Every page shows its counter in `<b id="visits">`.
///
/// Asserts that no visit was lost: the counter rose by exactly the number of
/// `200` answers (at least half of them must succeed, so the check cannot pass
/// on nothing), and no answer moved the client to another session.
pub fn counts_every_parallel_visit(profile_url: &str) -> ParallelCount {
    let first = Client::new().get(profile_url);
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.element("visits"), Some("1"), "{first:?}");
    let set_cookie = first.set_cookies();
    assert_eq!(set_cookie.len(), 1, "the session's cookie: {first:?}");
    let cookie = set_cookie[0].split(';').next().unwrap_or("").to_owned();
    assert!(cookie.starts_with("session_id="), "{cookie}");

    let start = Barrier::new(PARALLEL_CLIENTS);
    let per_client: Vec<(u64, Vec<String>)> = thread::scope(|scope| {
        let clients: Vec<_> = (0..PARALLEL_CLIENTS)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let (mut ok, mut failures) = (0, Vec::new());
                    for _ in 0..REQUESTS_PER_CLIENT {
                        match Client::try_get_with_cookie(profile_url, &cookie) {
                            Ok(answer) => {
                                // A cookie sent again (renewal) must name the same session.
                                for set in answer.set_cookies() {
                                    assert!(
                                        set.starts_with(&format!("{cookie};")),
                                        "moved to another session: {answer:?}"
                                    );
                                }
                                match answer.element("visits").map(str::parse::<u64>) {
                                    Some(Ok(_)) if answer.status == 200 => ok += 1,
                                    _ => failures.push(format!("{answer:?}")),
                                }
                            }
                            Err(e) => failures.push(format!("request failed: {e}")),
                        }
                    }
                    (ok, failures)
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|client| client.join().expect("a client thread"))
            .collect()
    });
    let ok = per_client.iter().map(|(ok, _)| ok).sum::<u64>();
    let failures: Vec<String> = per_client.into_iter().flat_map(|(_, f)| f).collect();

    let last = Client::get_with_cookie(profile_url, &cookie);
    assert_eq!(last.status, 200, "{last:?}");
    let shown: u64 = last
        .element("visits")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a counter on the page: {last:?}"));
    let result = ParallelCount {
        sent: PARALLEL_CLIENTS * REQUESTS_PER_CLIENT,
        ok,
        counted: shown.saturating_sub(1),
        failures,
    };
    eprintln!(
        "{profile_url}: {} requests from {PARALLEL_CLIENTS} clients, {} answered 200, \
         the counter rose by {} (from 1 to {})",
        result.sent,
        result.ok,
        result.counted.saturating_sub(1),
        result.counted,
    );
    let some_failures = &result.failures[..result.failures.len().min(3)];
    assert!(
        result.ok * 2 >= result.sent as u64,
        "most requests must succeed: {} of {} did; {} failures, the first: {some_failures:#?}",
        result.ok,
        result.sent,
        result.failures.len(),
    );
    assert_eq!(
        result.counted,
        1 + result.ok,
        "the counter must rise by one per 200 answer: {} answers, the counter rose by {} \
         ({} lost); {} failures, the first: {some_failures:#?}",
        result.ok,
        result.counted.saturating_sub(1),
        (1 + result.ok).saturating_sub(result.counted),
        result.failures.len(),
    );
    result
}

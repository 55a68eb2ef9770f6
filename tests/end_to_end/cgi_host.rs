//! The CGI example as a real CGI program under a real CGI host: lighttpd,
//! started on a free port and stopped by this test, driven by a real client
//! with a cookie jar; also one session counted by parallel clients, each
//! request its own process (`web::counts_every_parallel_visit`). Each runs
//! twice: with the example's FileStore, and with its SqliteStore
//! (`SESSION_STORE=sqlite:...`, built in by the examples package's feature
//! `sqlite`: `cargo build --examples --all-features`, as `.ci/run` does).
//!
//! Needs lighttpd (`bash .ci/run` installs it and runs this with
//! `cargo test --all-features --test end_to_end -- --ignored`; `LIGHTTPD` overrides the
//! path), and the example built (`cargo build --example cgi`; plain
//! `cargo test` does).

use crate::common::web;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use web::{example, free_port, temp_dir, Running};

/// lighttpd serving the CGI example at `/app`; stopped when dropped.
struct Host {
    _process: Running,
    origin: String,
    dir: std::path::PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the CGI example keeps its sessions.
#[derive(Clone, Copy)]
enum Sessions {
    /// A FileStore in `<dir>/sessions` (`SESSION_DIR`).
    Files,
    /// A SqliteStore in `<dir>/sessions.db` (`SESSION_STORE=sqlite:...`).
    Sqlite,
}

fn start_lighttpd() -> Host {
    start_lighttpd_with(Sessions::Files)
}

fn start_lighttpd_with(sessions: Sessions) -> Host {
    let lighttpd = std::env::var("LIGHTTPD").unwrap_or_else(|_| "/usr/sbin/lighttpd".to_owned());
    assert!(
        std::path::Path::new(&lighttpd).exists(),
        "{lighttpd} is missing: apt-get install -y lighttpd (or set LIGHTTPD)"
    );
    let program = example("cgi");
    let dir = temp_dir("lighttpd");
    let port = free_port();
    let config = format!(
        r#"server.document-root = "{dir}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{dir}/error.log"
server.modules += ("mod_cgi", "mod_alias", "mod_setenv")
alias.url = ("/app" => "{program}")
$HTTP["url"] =^ "/app" {{ cgi.assign = ("" => "") }}
setenv.add-environment = ({environment})
"#,
        dir = dir.display(),
        program = program.display(),
        environment = match sessions {
            Sessions::Files => format!(r#""SESSION_DIR" => "{}""#, dir.join("sessions").display()),
            Sessions::Sqlite => format!(
                r#""SESSION_STORE" => "sqlite:{}""#,
                dir.join("sessions.db").display()
            ),
        },
    );
    let config_path = dir.join("lighttpd.conf");
    std::fs::write(&config_path, config).unwrap();
    let process = Running(
        Command::new(lighttpd)
            .arg("-D")
            .arg("-f")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lighttpd"),
    );
    // Wait (boundedly) until it accepts connections.
    let ready = (0..100).any(|_| {
        let up = TcpStream::connect(("127.0.0.1", port)).is_ok();
        if !up {
            thread::sleep(Duration::from_millis(50));
        }
        up
    });
    assert!(ready, "lighttpd did not start on port {port}");
    Host {
        _process: process,
        origin: format!("http://127.0.0.1:{port}"),
        dir,
    }
}

/// One process per request, the sessions in a `FileStore` between them: the
/// whole login flow works as it does on a long-running server.
#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn the_cgi_example_serves_the_login_flow_under_lighttpd() {
    let host = start_lighttpd();
    web::login_flow(&host.origin, "/app", true);
}

#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn sessions_live_in_files_between_the_processes() {
    let host = start_lighttpd();
    let client = web::Client::new();
    let login = client.post(&format!("{}/app/login", host.origin), &[("user", "ana")]);
    web::assert_sets_session_cookie(&login, true);
    let sessions = host.dir.join("sessions");
    let files = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    };
    assert_eq!(files(&sessions), 1, "one session file");
    // Several visits, each a new process, all counted in the one session.
    for visit in 1..=3 {
        let profile = client.get(&format!("{}/app/profile", host.origin));
        assert_eq!(profile.element("user"), Some("ana"));
        assert_eq!(profile.element("visits"), Some(&*visit.to_string()));
    }
    assert_eq!(files(&sessions), 1);
    let logout = client.post(&format!("{}/app/logout", host.origin), &[]);
    assert_eq!(logout.status, 303);
    assert_eq!(files(&sessions), 0, "logout deleted the file");
}

#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn the_cgi_example_answers_unknown_routes_and_methods() {
    let host = start_lighttpd();
    let client = web::Client::new();
    let missing = client.get(&format!("{}/app/nothing", host.origin));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("Cache-Control"), Some("no-store"));
    let wrong = client.get(&format!("{}/app/logout", host.origin));
    assert_eq!(wrong.status, 405);
    let empty = client.post(&format!("{}/app/login", host.origin), &[("user", "")]);
    assert_eq!(empty.status, 400);
    assert!(
        empty.set_cookies().is_empty(),
        "no session for a refused login"
    );
}

/// 8 clients × 50 requests with one cookie, each a new CGI process counting a
/// visit in the one session file: none is lost (the counter rises by exactly
/// the number of `200` answers), since each visit is `SessionHandle::update`,
/// replayed under the `FileStore`'s lock.
#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn parallel_visits_of_one_session_all_count_under_lighttpd() {
    let host = start_lighttpd();
    let count = web::counts_every_parallel_visit(&format!("{}/app/profile", host.origin));
    assert!(count.failures.is_empty(), "{:#?}", count.failures);
}

// ---- The same with the example's SqliteStore ------------------------------

#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn the_cgi_example_with_sqlite_serves_the_login_flow_under_lighttpd() {
    let host = start_lighttpd_with(Sessions::Sqlite);
    web::login_flow(&host.origin, "/app", true);
    assert!(host.dir.join("sessions.db").exists(), "the database file");
    assert!(!host.dir.join("sessions").exists(), "no session directory");
}

#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn sessions_live_in_one_sqlite_file_between_the_processes() {
    let host = start_lighttpd_with(Sessions::Sqlite);
    let client = web::Client::new();
    let login = client.post(&format!("{}/app/login", host.origin), &[("user", "ana")]);
    web::assert_sets_session_cookie(&login, true);
    for visit in 1..=3 {
        let profile = client.get(&format!("{}/app/profile", host.origin));
        assert_eq!(profile.element("user"), Some("ana"));
        assert_eq!(profile.element("visits"), Some(&*visit.to_string()));
    }
    let logout = client.post(&format!("{}/app/logout", host.origin), &[]);
    assert_eq!(logout.status, 303);
    let after = client.get(&format!("{}/app/profile", host.origin));
    assert_eq!(after.element("status"), Some("unauthenticated"));
}

/// 8 clients × 50 requests with one cookie, each a new CGI process opening
/// the one database file and counting a visit in one `BEGIN IMMEDIATE`
/// transaction: none is lost.
#[test]
#[ignore = "needs lighttpd: bash .ci/run installs it and runs it"]
fn parallel_visits_of_one_session_all_count_under_lighttpd_with_sqlite() {
    let host = start_lighttpd_with(Sessions::Sqlite);
    let count = web::counts_every_parallel_visit(&format!("{}/app/profile", host.origin));
    assert!(count.failures.is_empty(), "{:#?}", count.failures);
    assert_eq!(count.counted, 1 + count.ok);
}

/// `SESSION_DURABILITY`, run as a CGI host runs the program (its environment,
/// its stdout): `process-crash` counts visits as the default does, and a
/// value it does not know is a 500 whose reason (on stderr, the host's log)
/// names the variable and the values it takes; nothing is written.
#[test]
fn the_cgi_example_takes_its_durability_from_the_environment() {
    let dir = temp_dir("cgi-durability");
    let sessions = dir.join("sessions");
    let run = |durability: &str, cookie: Option<&str>| {
        let mut command = Command::new(example("cgi"));
        command
            .env_clear()
            .env("REQUEST_METHOD", "GET")
            .env("PATH_INFO", "/profile")
            .env("SESSION_DIR", &sessions)
            .env("SESSION_DURABILITY", durability);
        if let Some(cookie) = cookie {
            command.env("HTTP_COOKIE", cookie);
        }
        let out = command.output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (first, _) = run("process-crash", None);
    assert!(first.starts_with("Status: 200"), "{first}");
    let cookie = first
        .lines()
        .find_map(|line| line.strip_prefix("Set-Cookie: "))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (second, _) = run("process-crash", Some(&cookie));
    assert!(second.contains(r#"<b id="visits">2</b>"#), "{second}");
    let files = || std::fs::read_dir(&sessions).unwrap().count();
    let before = files();
    let (bad, reason) = run("fsync-sometimes", Some(&cookie));
    assert!(bad.starts_with("Status: 500"), "{bad}");
    assert!(
        reason.contains("SESSION_DURABILITY") && reason.contains("process-crash"),
        "{reason}"
    );
    assert_eq!(files(), before, "nothing written");
    let (third, _) = run("power-cut", Some(&cookie));
    assert!(third.contains(r#"<b id="visits">3</b>"#), "{third}");
    let _ = std::fs::remove_dir_all(&dir);
}

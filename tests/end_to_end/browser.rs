//! A real browser: headless Chromium, driven through chromedriver's WebDriver
//! API, logs in to the login example, watches the visit counter rise, logs out.
//! Then two browsers with separate profiles log in as one user, and one logs
//! the other out from its devices page.
//! They leave screenshots in `target/browser/` (`profile.png`,
//! `logged-out.png`, `devices.png`, `revoked.png`).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash .ci/run` installs
//! them and runs this with `cargo test --test end_to_end -- --ignored`).
//! `CHROMIUM` and `CHROMEDRIVER` override the programs' paths.

use crate::common::web;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use web::{free_port, start_example, temp_dir, Running};

/// The W3C WebDriver key under which an element reference comes back.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct WebDriver {
    agent: ureq::Agent,
    base: String,
}

impl WebDriver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(value) => value,
            Err(reply) => panic!("{method} {path}: {reply}"),
        }
    }

    /// The reply's value, or the whole reply when WebDriver says it failed.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        };
        let text = response
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let reply: Value = serde_json::from_str(&text).unwrap();
        if reply["value"].get("error").is_some() {
            return Err(reply);
        }
        Ok(reply["value"].clone())
    }
}

struct Browser<'d> {
    driver: &'d WebDriver,
    session: String,
}

impl<'d> Browser<'d> {
    /// A new WebDriver session: headless Chromium with its own profile in
    /// `profile_dir` (its own cookies), closed when dropped.
    fn start(driver: &'d WebDriver, chromium: &str, profile_dir: &Path) -> Browser<'d> {
        let created = driver.call(
            "POST",
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-quic", "--window-size=900,900",
                        format!("--user-data-dir={}", profile_dir.display()),
                    ],
                },
            }}})),
        );
        Browser {
            driver,
            session: created["sessionId"].as_str().unwrap().to_owned(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.driver
            .call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The element matching `css`, waiting (boundedly) for a page that is
    /// still loading after a click.
    fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            let found = self.driver.agent.post(&format!(
                "{}/session/{}/elements",
                self.driver.base, self.session
            ));
            let text = found
                .header("Content-Type", "application/json")
                .send(json!({"using": "css selector", "value": css}).to_string())
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap();
            let reply: Value = serde_json::from_str(&text).unwrap();
            if let Some(element) = reply["value"].get(0).and_then(|e| e[ELEMENT].as_str()) {
                return element.to_owned();
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("no element {css} on {}", self.url());
    }

    /// `action` (`"text"`, `"click"`) on the element matching `css`. A click
    /// that navigates can replace the page between finding the element and
    /// acting on it ("stale element reference"): then it is found again on the
    /// new page (bounded).
    fn on_element(&self, css: &str, method: &str, action: &str) -> Value {
        for _ in 0..100 {
            let element = self.find(css);
            let path = format!("/session/{}/element/{element}/{action}", self.session);
            let body = (method == "POST").then(|| json!({}));
            match self.driver.try_call(method, &path, body) {
                Ok(value) => return value,
                Err(reply) if reply["value"]["error"] == "stale element reference" => {
                    thread::sleep(Duration::from_millis(100));
                }
                Err(reply) => panic!("{method} {path}: {reply}"),
            }
        }
        panic!("{css} kept going stale on {}", self.url());
    }

    fn text(&self, css: &str) -> String {
        let text = self.on_element(css, "GET", "text");
        text.as_str().unwrap().to_owned()
    }

    fn click(&self, css: &str) {
        self.on_element(css, "POST", "click");
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// Waits (boundedly) until the page at `path` has an element `css`: a click
    /// that navigates returns before the next page is there.
    fn wait_for(&self, path: &str, css: &str) {
        for _ in 0..100 {
            if self.url().ends_with(path) {
                self.find(css);
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("never reached {path}; at {}", self.url());
    }

    /// Types `text` into the element matching `css`.
    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Logs in as `user` from the login page at `url`; waits for the profile.
    fn log_in(&self, url: &str, user: &str) {
        self.open(url);
        assert!(self.text("body").contains("Not logged in"));
        self.type_into("input[name=user]", user);
        self.click("button[type=submit]");
        self.wait_for("/profile", "#visits");
        assert_eq!(self.text("#user"), user);
    }

    /// Waits (boundedly) until the element matching `css` shows `text`, and
    /// asserts that it does.
    fn wait_for_text(&self, css: &str, text: &str) {
        for _ in 0..100 {
            if self.text(css) == text {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(self.text(css), text, "{css} on {}", self.url());
    }

    fn screenshot(&self, file: &str) -> PathBuf {
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let dir = target_dir().join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(file);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Browser<'_> {
    /// Ends the WebDriver session, which closes Chromium, pass or fail.
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.driver.base, self.session);
        let _ = self.driver.agent.delete(&url).call();
    }
}

/// `target/`, from this test's own path (`target/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_owned()
}

/// Starts chromedriver on a free port and waits until it is ready.
fn start_chromedriver(chromedriver: &str) -> (Running, WebDriver) {
    let port = free_port();
    let process = Running(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build();
    let driver = WebDriver {
        agent: ureq::Agent::new_with_config(config),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(mut status) = driver.agent.get(&format!("{}/status", driver.base)).call() {
            let text = status.body_mut().read_to_string().unwrap_or_default();
            ready = text.contains("\"ready\":true");
            if ready {
                break;
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert!(ready, "chromedriver did not start on port {port}");
    (process, driver)
}

fn program(var: &str, default: &str) -> String {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: apt-get install -y chromium chromium-driver (or set {var})"
    );
    path
}

#[test]
#[ignore = "needs chromium and chromium-driver: bash .ci/run installs them and runs it"]
fn headless_chromium_logs_in_counts_visits_and_logs_out() {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    let (_server, url) = start_example("login", &[]); // Secure cookies, as shipped

    let (_driver_process, driver) = start_chromedriver(&chromedriver);
    let profile_dir = temp_dir("chromium");
    let browser = Browser::start(&driver, &chromium, &profile_dir);

    // The login page, the form, a submit; the profile, with the user and a
    // counter that rises on reload.
    browser.log_in(&url, "ana");
    assert_eq!(browser.text("#role"), "user");
    assert_eq!(browser.text("#visits"), "1");
    browser.call("POST", "/refresh", None);
    browser.wait_for("/profile", "#visits");
    assert_eq!(browser.text("#visits"), "2");
    assert_eq!(browser.text("#user"), "ana");
    let shot = browser.screenshot("profile.png");
    eprintln!("screenshot of the profile: {}", shot.display());

    // The cookie as the browser keeps it.
    let cookies = browser.call("GET", "/cookie", None);
    let cookie = cookies
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "session_id")
        .expect("the session cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["secure"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Lax", "{cookie}");
    assert_eq!(cookie["path"], "/", "{cookie}");

    // A role change moves the session to a fresh ID; the browser follows.
    browser.click("#update-role");
    for _ in 0..100 {
        if browser.text("#role") == "admin" {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(browser.text("#role"), "admin");
    assert_eq!(browser.text("#visits"), "3");

    // Log out: the profile is anonymous again.
    browser.click("#logout");
    browser.wait_for("/profile", "#status");
    for _ in 0..100 {
        if browser.text("#status") == "unauthenticated" {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(browser.text("#status"), "unauthenticated");
    assert!(!browser.text("body").contains("ana"));
    browser.screenshot("logged-out.png");

    drop(browser);
    let _ = std::fs::remove_dir_all(profile_dir);
}

#[test]
#[ignore = "needs chromium and chromium-driver: bash .ci/run installs them and runs it"]
fn one_browser_logs_another_out_from_its_devices_page() {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    let (_server, url) = start_example("login", &[]); // Secure cookies, as shipped
    let (_driver_process, driver) = start_chromedriver(&chromedriver);

    // Two WebDriver sessions, two browser profiles: two cookie jars, one user.
    let (profile_a, profile_b) = (temp_dir("chromium-a"), temp_dir("chromium-b"));
    let a = Browser::start(&driver, &chromium, &profile_a);
    let b = Browser::start(&driver, &chromium, &profile_b);
    a.log_in(&url, "ana");
    b.log_in(&url, "ana");

    // A's devices page, from the profile's link: both sessions, A's marked.
    a.click("#devices");
    a.wait_for("/devices", "#sessions");
    assert_eq!(a.text("#user"), "ana");
    assert_eq!(a.text("#count"), "2");
    assert!(a.text("tr.current").contains("(this device)"));
    assert!(!a.text("tr.session:not(.current)").contains("(this device)"));
    let shot = a.screenshot("devices.png");
    eprintln!("screenshot of the devices page: {}", shot.display());

    // A logs B out: the page comes back with A's session alone.
    a.click("tr.session:not(.current) button.revoke");
    a.wait_for_text("#count", "1");
    assert!(a.text("tr.session").contains("(this device)"));

    // B's next request is anonymous; A is still logged in.
    b.open(&format!("{url}profile"));
    b.wait_for("/profile", "#status");
    assert_eq!(b.text("#status"), "unauthenticated");
    assert!(!b.text("body").contains("ana"));
    let shot = b.screenshot("revoked.png");
    eprintln!("screenshot of the revoked browser: {}", shot.display());
    a.open(&format!("{url}profile"));
    a.wait_for("/profile", "#status");
    assert_eq!(a.text("#user"), "ana");

    drop((a, b));
    let _ = std::fs::remove_dir_all(profile_a);
    let _ = std::fs::remove_dir_all(profile_b);
}

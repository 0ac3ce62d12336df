//! The harness: the real server on 127.0.0.1 over a fresh database with the seed data,
//! chromedriver on a free port, headless Chromium with a fresh profile and download
//! directory, and the checks every page gets (console errors, requests that leave
//! 127.0.0.1, horizontal overflow on a phone). [`browse`] runs one test body with all of it
//! and cleans up whatever happens; on a failure it saves a screenshot first.

use std::io::Write;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::Router;
use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use sanctuary_data::server::{Limits, serve_listener};
use sanctuary_data::{AppState, build_app};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{TestDb, fresh_db, import};

/// Set to 1 (CI does) to make a missing chromium or chromedriver a failure, not a skip.
const REQUIRE_BROWSER: &str = "SANCTUARY_REQUIRE_BROWSER";
/// The most one test body may take before it fails (with a screenshot).
const TEST_TIMEOUT: Duration = Duration::from_secs(90);
/// The most a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(20);
/// A phone's viewport, in CSS pixels (an iPhone 12 to 15).
pub const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;

/// Chromium's flags: headless, and nothing that reaches for the network by itself (without
/// the background-networking flags Chromium keeps calling Google's services).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,900",
    // A public-looking name for the site, for what pages do only off localhost.
    "--host-resolver-rules=MAP data.sanctuary.test 127.0.0.1",
];

/// A host name Chromium resolves to 127.0.0.1 (see [`CHROMIUM_ARGS`]).
pub const PUBLIC_HOST: &str = "data.sanctuary.test";

/// A page every page-level test visits: its path, and a CSS selector that is on the page
/// once it has rendered (for pages built by JavaScript, an element the script creates).
/// To check a new page, add a line to [`PAGES`].
pub struct Page {
    pub path: &'static str,
    pub ready: &'static str,
    /// Why the page is known not to fit a phone yet (a filed gap), or `None`. The phone test
    /// fails when a page so marked fits, so the mark goes when the fix lands.
    pub too_wide_today: Option<&'static str>,
}

/// The pages checked for console errors, requests that leave 127.0.0.1 and horizontal
/// overflow on a phone.
pub const PAGES: &[Page] = &[
    // The home page (server-rendered, no JavaScript): the overview and the story link.
    Page {
        path: "/",
        ready: "#story-link",
        too_wide_today: None,
    },
    // A program page: figures, timeline, documents.
    Page {
        path: "/programs/citykey",
        ready: "li[id^='event-']",
        too_wide_today: None,
    },
    // A program with charts.
    Page {
        path: "/programs/idnyc",
        ready: "figure.chart",
        too_wide_today: None,
    },
    // The browse view of a table, filtered.
    Page {
        path: "/browse/statistics?program=citykey",
        ready: "table#rows",
        too_wide_today: None,
    },
    // The downloads page.
    Page {
        path: "/downloads.html",
        ready: "#download-statistics",
        too_wide_today: None,
    },
    // Swagger UI: ready once it has listed the operations.
    Page {
        path: "/docs/",
        ready: ".opblock",
        too_wide_today: None,
    },
    // GraphiQL: ready once its editor is built.
    Page {
        path: "/graphql",
        ready: ".graphiql-execute-button",
        too_wide_today: None,
    },
];

/// Console errors tolerated for now, each a filed gap: remove a line when its fix lands.
const KNOWN_CONSOLE_ERRORS: &[&str] = &[];

/// The browser binaries, found on PATH (or named by `SANCTUARY_CHROMIUM` and
/// `SANCTUARY_CHROMEDRIVER`).
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// The binaries, or `None` after printing why this test is skipped; panics instead when
    /// `SANCTUARY_REQUIRE_BROWSER=1`.
    fn find_or_skip(test: &str) -> Option<Tools> {
        let chromium = find_binary("SANCTUARY_CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = find_binary("SANCTUARY_CHROMEDRIVER", &["chromedriver"]);
        match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => Some(Tools {
                chromium,
                chromedriver,
            }),
            (chromium, chromedriver) => {
                let missing = [
                    chromium.is_none().then_some("chromium"),
                    chromedriver.is_none().then_some("chromedriver"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" and ");
                if std::env::var(REQUIRE_BROWSER).is_ok_and(|v| v == "1") {
                    panic!(
                        "{test}: {missing} not found and {REQUIRE_BROWSER}=1: \
                         install chromium chromium-driver (apt-get install -y chromium chromium-driver)"
                    );
                }
                // Straight to stderr, past the test harness's capture, so it shows in
                // `cargo test` output although the test passes.
                let _ = writeln!(
                    std::io::stderr(),
                    "{test}: skipped: install chromium chromium-driver ({missing} not found)"
                );
                None
            }
        }
    }
}

fn find_binary(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|path| path.is_file())
}

/// The application as `serve` runs it, on 127.0.0.1 and a free port, over a fresh database
/// with the seed data imported.
pub struct Site {
    pub base: String,
    /// The same application, for asking it directly what the browser should have got.
    pub app: Router,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _db: TestDb,
}

impl Site {
    async fn start() -> Site {
        let db = fresh_db().await;
        import(
            &db.db,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data"),
        )
        .await;
        let app = build_app(AppState::new(db.db.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_listener(
            listener,
            app.clone(),
            Limits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        Site {
            base: format!("http://{addr}"),
            app,
            stop: Some(stop),
            task: Some(task),
            _db: db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
    }
}

/// chromedriver, in a process group of its own so that it and the Chromium it started can
/// be ended together whatever state they are in.
struct Driver {
    child: Child,
}

impl Driver {
    fn start(tools: &Tools, port: u16, log: &Path) -> Result<Driver> {
        let mut command = Command::new(&tools.chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", tools.chromedriver.display()))?;
        Ok(Driver { child })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromedriver command outside the W3C standard (Chrome DevTools, logs).
#[derive(Debug)]
struct Extension {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Extension {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(self.body.to_string()))
    }
}

/// One browser session against one [`Site`].
pub struct Browser {
    pub client: Client,
    pub site: Site,
    /// Where Chromium saves downloads.
    pub downloads: tempfile::TempDir,
    driver: Driver,
    profile: tempfile::TempDir,
}

impl Browser {
    async fn start(tools: &Tools, site: Site) -> Result<Browser> {
        let profile = tempfile::tempdir()?;
        let downloads = tempfile::tempdir()?;
        let port = free_port()?;
        let driver = Driver::start(tools, port, &profile.path().join("chromedriver.log"))?;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            profile.path().join("chromium").display()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                },
            },
            // The console (`browser`) and every network event (`performance`).
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities.clone())
                    .connect(&webdriver)
                    .await;
            match attempt {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    let log = std::fs::read_to_string(profile.path().join("chromedriver.log"))
                        .unwrap_or_default();
                    bail!(
                        "no WebDriver session from chromedriver: {e}\n{}",
                        tail(&log, 40)
                    );
                }
            }
        };
        let browser = Browser {
            client,
            site,
            downloads,
            driver,
            profile,
        };
        // Downloads go to the directory without asking (the preference above does it for
        // new tabs; this makes sure of it for the first one).
        browser
            .cdp(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "allow", "downloadPath": browser.downloads.path() }),
            )
            .await?;
        Ok(browser)
    }

    /// Run a Chrome DevTools Protocol command.
    pub async fn cdp(&self, command: &str, params: Value) -> Result<Value> {
        self.client
            .issue_cmd(Extension {
                path: "goog/cdp/execute",
                body: json!({ "cmd": command, "params": params }),
            })
            .await
            .with_context(|| format!("CDP {command}"))
    }

    /// The entries of a chromedriver log (`browser` or `performance`) since it was last read.
    async fn log(&self, kind: &str) -> Result<Vec<Value>> {
        let entries = self
            .client
            .issue_cmd(Extension {
                path: "se/log",
                body: json!({ "type": kind }),
            })
            .await
            .with_context(|| format!("reading the {kind} log"))?;
        Ok(entries.as_array().cloned().unwrap_or_default())
    }

    /// Forget what the logs hold so far.
    pub async fn clear_logs(&self) -> Result<()> {
        self.log("browser").await?;
        self.log("performance").await?;
        Ok(())
    }

    /// Console messages at error level since the logs were last read.
    pub async fn console_errors(&self) -> Result<Vec<String>> {
        Ok(self
            .log("browser")
            .await?
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .filter(|m| !KNOWN_CONSOLE_ERRORS.iter().any(|known| m.contains(known)))
            .collect())
    }

    /// The URL of every request the page sent since the logs were last read, failed ones
    /// included (from the DevTools network events).
    pub async fn requests(&self) -> Result<Vec<String>> {
        let mut urls = Vec::new();
        for entry in self.log("performance").await? {
            let message: Value =
                serde_json::from_str(entry["message"].as_str().unwrap_or("{}")).unwrap_or_default();
            let message = &message["message"];
            let url = match message["method"].as_str() {
                Some("Network.requestWillBeSent") => &message["params"]["request"]["url"],
                Some("Network.webSocketCreated") => &message["params"]["url"],
                _ => continue,
            };
            if let Some(url) = url.as_str() {
                urls.push(url.to_owned());
            }
        }
        Ok(urls)
    }

    /// The response headers the page got for `url` (from the DevTools network events read
    /// from the log; call it before anything else reads the performance log).
    pub async fn response_headers(&self, url: &str) -> Result<Option<Value>> {
        let mut found = None;
        for entry in self.log("performance").await? {
            let message: Value =
                serde_json::from_str(entry["message"].as_str().unwrap_or("{}")).unwrap_or_default();
            let message = &message["message"];
            if message["method"] == "Network.responseReceived"
                && message["params"]["response"]["url"] == url
            {
                found = Some(message["params"]["response"]["headers"].clone());
            }
        }
        Ok(found)
    }

    /// Open `path` of the site and wait until `ready` (a CSS selector) is on the page.
    pub async fn open(&self, path: &str, ready: &str) -> Result<()> {
        self.client
            .goto(&self.site.url(path))
            .await
            .with_context(|| format!("opening {path}"))?;
        self.wait_for(ready)
            .await
            .with_context(|| format!("{path}: waiting for {ready:?}"))?;
        Ok(())
    }

    /// Wait for an element matching a CSS selector.
    pub async fn wait_for(&self, css: &str) -> Result<fantoccini::elements::Element> {
        Ok(self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await?)
    }

    /// Run JavaScript in the page and return its result.
    pub async fn js(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Open a page and check it: no console error, and no request to anywhere but
    /// 127.0.0.1, while it loads and renders (plus a moment for late requests).
    pub async fn open_clean(&self, page: &Page) -> Result<()> {
        self.clear_logs().await?;
        self.open(page.path, page.ready).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let errors = self.console_errors().await?;
        ensure!(
            errors.is_empty(),
            "{}: console errors:\n  {}",
            page.path,
            errors.join("\n  ")
        );
        let requests = self.requests().await?;
        ensure!(
            !requests.is_empty(),
            "{}: no request seen at all",
            page.path
        );
        let outside: Vec<&String> = requests.iter().filter(|u| !is_local(u)).collect();
        ensure!(
            outside.is_empty(),
            "{}: requests leaving 127.0.0.1: {outside:?}",
            page.path
        );
        Ok(())
    }

    /// Emulate a phone: a viewport [`PHONE_WIDTH`] CSS pixels wide, touch, and the mobile
    /// viewport rules (a page without `<meta name="viewport">` gets a 980 px layout).
    pub async fn emulate_phone(&self) -> Result<()> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": PHONE_WIDTH,
                "height": PHONE_HEIGHT,
                "deviceScaleFactor": 3,
                "mobile": true,
            }),
        )
        .await?;
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({ "enabled": true, "maxTouchPoints": 5 }),
        )
        .await?;
        Ok(())
    }

    /// Horizontal overflow of the current page: `(viewport width, document width, the
    /// first elements that stick out)`.
    pub async fn overflow(&self) -> Result<(u64, u64, Vec<String>)> {
        let measured = self
            .js(r#"
                const width = window.innerWidth;
                const wide = [];
                for (const el of document.querySelectorAll('body *')) {
                    const right = el.getBoundingClientRect().right;
                    const parent = el.parentElement.getBoundingClientRect().right;
                    if (right > width + 0.5 && parent <= width + 0.5 && wide.length < 8) {
                        const cls = typeof el.className === 'string' && el.className.trim()
                            ? '.' + el.className.trim().split(/\s+/).join('.') : '';
                        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls
                            + ' (right edge ' + Math.round(right) + ' px)');
                    }
                }
                return [width, document.documentElement.scrollWidth, wide];
                "#)
            .await?;
        Ok((
            measured[0].as_u64().unwrap_or_default(),
            measured[1].as_u64().unwrap_or_default(),
            measured[2]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect(),
        ))
    }

    /// Wait for one complete download (no `.crdownload` left) and return its path.
    pub async fn wait_for_download(&self, timeout: Duration) -> Result<PathBuf> {
        let started = Instant::now();
        let mut last: Option<(PathBuf, u64)> = None;
        loop {
            let mut complete = Vec::new();
            let mut partial = Vec::new();
            for entry in std::fs::read_dir(self.downloads.path())? {
                let path = entry?.path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with(".crdownload") || name.starts_with('.') {
                    partial.push(name);
                } else {
                    complete.push(path);
                }
            }
            if partial.is_empty() && complete.len() == 1 {
                let path = complete.pop().unwrap();
                let size = std::fs::metadata(&path)?.len();
                // The same name and size twice in a row: Chromium has finished with it.
                if last.as_ref() == Some(&(path.clone(), size)) {
                    return Ok(path);
                }
                last = Some((path, size));
            } else {
                ensure!(
                    complete.len() <= 1,
                    "more than one file in the download directory: {complete:?}"
                );
                last = None;
            }
            if started.elapsed() > timeout {
                bail!(
                    "no complete download within {timeout:?} (partial: {partial:?}, complete: {complete:?}); \
                     chrome://downloads would say \"canceled\" or \"failed\""
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Save a screenshot of the page under the target directory; its path.
    async fn screenshot(&self, test: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{test}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    async fn close(self) {
        let Browser {
            client,
            site,
            driver,
            profile,
            downloads,
        } = self;
        // Ends the session, so chromedriver quits Chromium; then chromedriver goes.
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        drop(driver);
        drop((profile, downloads));
        site.stop().await;
    }
}

/// Whether a URL the page requested stays on this machine: http(s) and ws(s) to 127.0.0.1,
/// or a URL that is not fetched over a network (`data:`, `blob:`, `about:`).
pub fn is_local(url: &str) -> bool {
    stays_on(url, "127.0.0.1")
}

/// Whether a URL the page requested goes to `host` only (or over no network at all).
pub fn stays_on(url: &str, host: &str) -> bool {
    match url::Url::parse(url) {
        Ok(url) => match url.scheme() {
            "data" | "blob" | "about" => true,
            "http" | "https" | "ws" | "wss" => url.host_str() == Some(host),
            _ => false,
        },
        Err(_) => false,
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Run one browser test: start the site and the browser, run `body`, and clean up. On a
/// failure (an error, a panic or [`TEST_TIMEOUT`]) save a screenshot, print its path, and
/// fail the test. Without a browser, skip (see the crate documentation).
pub async fn browse(test: &str, body: impl AsyncFnOnce(&Browser) -> Result<()>) {
    let Some(tools) = Tools::find_or_skip(test) else {
        return;
    };
    let site = Site::start().await;
    let browser = match Browser::start(&tools, site).await {
        Ok(browser) => browser,
        Err(e) => panic!("{test}: cannot start the browser: {e:#}"),
    };
    let outcome = tokio::time::timeout(
        TEST_TIMEOUT,
        AssertUnwindSafe(body(&browser)).catch_unwind(),
    )
    .await;
    let failure = match outcome {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(format!("{e:#}")),
        Ok(Err(panic)) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".to_owned()),
        ),
        Err(_) => Some(format!("did not finish within {TEST_TIMEOUT:?}")),
    };
    let screenshot = match &failure {
        Some(_) => Some(match browser.screenshot(test).await {
            Ok(path) => format!("screenshot: {}", path.display()),
            Err(e) => format!("no screenshot: {e:#}"),
        }),
        None => None,
    };
    if let Some(screenshot) = &screenshot {
        eprintln!("{test}: {screenshot}");
    }
    browser.close().await;
    if let Some(failure) = failure {
        panic!("{test}: {failure}\n{}", screenshot.unwrap_or_default());
    }
}

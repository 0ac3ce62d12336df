//! Browser tests: headless Chromium, driven through chromedriver (WebDriver), against the
//! real server on 127.0.0.1 over a fresh database with the seed data. Run them alone with
//! `cargo test --test browser`.
//!
//! They need the Debian packages `chromium` and `chromium-driver`. Without them each test
//! prints "skipped: install chromium chromium-driver" and passes, so `cargo test` works on a
//! fresh machine; with `SANCTUARY_REQUIRE_BROWSER=1` (CI sets it) a missing browser fails
//! instead. On a failure the test saves a screenshot under the target directory and prints
//! its path.

#[path = "../api/helpers.rs"]
mod helpers;

mod downloads;
mod harness;
mod ides;
mod pages;

//! Every page of [`PAGES`]: loads without a console error and without a request leaving
//! 127.0.0.1, and fits a phone's width.

use anyhow::ensure;

use crate::harness::{PAGES, PHONE_WIDTH, browse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_console_errors_or_requests_leaving_the_machine() {
    browse(
        "every_page_loads_without_console_errors_or_requests_leaving_the_machine",
        async |browser| {
            for page in PAGES {
                browser.open_clean(page).await?;
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_390_px_phone_without_horizontal_scrolling() {
    browse(
        "every_page_fits_a_390_px_phone_without_horizontal_scrolling",
        async |browser| {
            browser.emulate_phone().await?;
            let mut problems = Vec::new();
            for page in PAGES {
                browser.open(page.path, page.ready).await?;
                let (viewport, document, wide) = browser.overflow().await?;
                let mut too_wide = Vec::new();
                if viewport != u64::from(PHONE_WIDTH) {
                    too_wide.push(format!(
                        "{}: the layout viewport is {viewport} px, not the phone's {PHONE_WIDTH} \
                         (no <meta name=\"viewport\" content=\"width=device-width\">, or the page \
                         is zoomed out to fit something wider)",
                        page.path
                    ));
                }
                if document > u64::from(PHONE_WIDTH) {
                    too_wide.push(format!(
                        "{}: the page is {document} px wide on a {PHONE_WIDTH} px screen; \
                         sticking out: {}",
                        page.path,
                        wide.join(", ")
                    ));
                }
                match (page.too_wide_today, too_wide.is_empty()) {
                    (None, _) => problems.extend(too_wide),
                    (Some(gap), true) => problems.push(format!(
                        "{}: fits a phone now: remove its too_wide_today mark ({gap}) from PAGES",
                        page.path
                    )),
                    (Some(gap), false) => {
                        eprintln!(
                            "{}: too wide, a known gap ({gap}): {}",
                            page.path,
                            too_wide.join("; ")
                        )
                    }
                }
            }
            ensure!(problems.is_empty(), "{}", problems.join("\n"));
            Ok(())
        },
    )
    .await;
}
